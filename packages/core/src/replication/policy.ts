/**
 * Conflict policies: what happens when two devices changed the same item concurrently and neither
 * version extends the other. Every device that sees the conflict must reach the same verdict, so
 * the winner is a pure function of the two versions, never of which device is asking.
 */
import { compareBytes, toHex } from '../bytes.js';
import type { ItemMeta } from '../items.js';
import { splitName } from '../names.js';

export type ConflictMode = 'fork' | 'syncthing';

export interface Verdict {
  readonly winner: ItemMeta;
  readonly loser: ItemMeta;
  /** Where the losing version is kept. Only the device that holds the loser creates it. */
  readonly copyName: string;
}

/** Optional knowledge from outside the core (roamd's session leases). */
export interface PolicyHooks {
  /** Short id of the device holding a live lease on this item, if any. */
  leaseHolder?(folder: string, name: string): string | undefined;
}

/**
 * Syncthing's rule (measured, see docs/PROTOCOL.md): a modification beats a delete; otherwise the
 * newer mtime wins, and on equal mtimes the version made by the device with the larger short id
 * loses. Returns a negative number when `a` wins.
 */
export function syncthingOrder(a: ItemMeta, b: ItemMeta): number {
  if (a.deleted !== b.deleted) return a.deleted ? 1 : -1;
  if (a.mtimeMs !== b.mtimeMs) return b.mtimeMs - a.mtimeMs;
  if (a.modifiedBy !== b.modifiedBy) return a.modifiedBy < b.modifiedBy ? -1 : 1;
  return compareBytes(a.hash, b.hash);
}

/** Syncthing's conflict copy name: `<stem>.sync-conflict-YYYYMMDD-HHMMSS-<7 chars of winner>.<ext>`. */
export function syncthingConflictName(name: string, nowMs: number, winnerDevice: string): string {
  const { dir, stem, ext } = splitName(name);
  const d = new Date(nowMs);
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
  return `${dir}${stem}.sync-conflict-${stamp}-${winnerDevice.slice(0, 7).toUpperCase()}${ext}`;
}

/**
 * The name of a fork: derived from the original name and the hash of the losing continuation, so
 * every device that resolves the same divergence names the same fork.
 */
export function forkName(name: string, loser: ItemMeta): string {
  const { dir, stem, ext } = splitName(name);
  return `${dir}${stem}.fork-${toHex(loser.hash).slice(0, 12)}${ext}`;
}

export function decide(mode: ConflictMode, folder: string, a: ItemMeta, b: ItemMeta, nowMs: number, hooks: PolicyHooks = {}): Verdict {
  if (mode === 'fork' && a.kind === 'log' && b.kind === 'log' && !a.deleted && !b.deleted) {
    const holder = hooks.leaseHolder?.(folder, a.name);
    let aWins: boolean;
    if (holder !== undefined && (holder === a.modifiedBy) !== (holder === b.modifiedBy)) aWins = holder === a.modifiedBy;
    else aWins = syncthingOrder(a, b) < 0;
    const [winner, loser] = aWins ? [a, b] : [b, a];
    return { winner, loser, copyName: forkName(a.name, loser) };
  }
  const [winner, loser] = syncthingOrder(a, b) < 0 ? [a, b] : [b, a];
  return { winner, loser, copyName: syncthingConflictName(a.name, nowMs, winner.modifiedBy) };
}
