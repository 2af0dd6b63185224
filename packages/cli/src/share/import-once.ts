/**
 * What makes `roam import` repeatable: the new id a bundle gets when its own id is taken here is
 * derived from the bundle (not drawn at random), so `import --dry-run` announces the id the import
 * then uses; and a bundle whose session is here already, byte for byte as the import would write it,
 * is found, so a second import of the same bundle writes nothing.
 *
 * The planners (importer.ts) draw new ids from `newId` until one is free; `derivedIds` hands them
 * the bundle's own sequence of ids and remembers which were drawn. Every id tried before the one
 * chosen was taken here; if one of those sessions holds exactly the transcript the import would
 * write under that id, the bundle was imported already (or the session is this very one).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { SessionAdapter } from '../sessions/types.js';
import type { Bundle } from './bundle.js';
import type { ImportPlan } from './importer.js';

export interface DerivedIds {
  /** The next id of the bundle's sequence (a version-4-shaped UUID). */
  readonly next: () => string;
  /** The ids handed out so far, in order. */
  readonly drawn: readonly string[];
}

/** The sequence of ids a bundle takes when its own is taken here: the same for every run. */
export function derivedIds(bundle: Bundle): DerivedIds {
  const m = bundle.manifest;
  const seed = createHash('sha256').update(`roam-import\0${m.tool}\0${m.sessionId}`);
  for (const f of m.files) seed.update(`\0${f.name}\0${f.sha256}`);
  const base = seed.digest('hex');
  const drawn: string[] = [];
  return {
    drawn,
    next: () => {
      const h = createHash('sha256').update(`${base}\0${drawn.length}`).digest();
      h[6] = (h[6]! & 0x0f) | 0x40; // version 4 (the tools accept any well-formed UUID; this is the shape they make)
      h[8] = (h[8]! & 0x3f) | 0x80; // RFC 4122 variant
      const x = h.subarray(0, 16).toString('hex');
      const id = `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
      drawn.push(id);
      return id;
    },
  };
}

export interface AlreadyHere {
  readonly id: string;
  /** The transcript of the session that holds the bundle already. */
  readonly transcript: string;
}

/**
 * The session here that holds what `plan` would write, if any: among the ids tried before the plan's
 * (the bundle's own, then those drawn), one whose transcript has the plan's bytes with that id.
 */
export async function alreadyImported(plan: ImportPlan, ids: DerivedIds, adapter: Pick<SessionAdapter, 'find'>): Promise<AlreadyHere | null> {
  if (!plan.renamed) return null; // the bundle's own id was free: nothing here holds it
  const tried = [plan.originalId, ...ids.drawn.filter((id) => id !== plan.id)];
  const planned = plan.files.find((f) => f.path === plan.transcript)?.bytes;
  if (!planned) return null;
  const text = planned.toString('utf8');
  for (const id of tried) {
    const s = await adapter.find(id);
    if (!s) continue;
    let here: Buffer;
    try {
      here = readFileSync(s.file);
    } catch {
      continue;
    }
    // The plan names its own new id where the session's id goes; under `id` the same bytes say `id`.
    const expected = id === plan.id ? planned : Buffer.from(text.split(plan.id).join(id), 'utf8');
    if (here.equals(expected)) return { id, transcript: s.file };
  }
  return null;
}
