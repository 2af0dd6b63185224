/**
 * Version vectors, as Syncthing's BEP uses them: one counter per device that changed the item.
 * Counters are keyed by the 16-hex-character short device id.
 */
export type VersionVector = Readonly<Record<string, number>>;

export type Ordering = 'equal' | 'greater' | 'lesser' | 'concurrent';

export const EMPTY_VERSION: VersionVector = Object.freeze({});

export function compareVersions(a: VersionVector, b: VersionVector): Ordering {
  let aBigger = false;
  let bBigger = false;
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = a[k] ?? 0;
    const y = b[k] ?? 0;
    if (x > y) aBigger = true;
    else if (y > x) bBigger = true;
  }
  if (aBigger && bBigger) return 'concurrent';
  if (aBigger) return 'greater';
  if (bBigger) return 'lesser';
  return 'equal';
}

export function mergeVersions(a: VersionVector, b: VersionVector): VersionVector {
  const out: Record<string, number> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = Math.max(out[k] ?? 0, v);
  return out;
}

/** The vector after a change made by `device`: its counter moves past every counter in `v`. */
export function bumpVersion(v: VersionVector, device: string): VersionVector {
  let max = 0;
  for (const n of Object.values(v)) max = Math.max(max, n);
  return { ...v, [device]: max + 1 };
}
