/**
 * roamd's side of the rule on partial last lines nobody completes (docs/PROTOCOL.md, "Partial last
 * lines"; the engine applies it): how long such a line may go unwritten before it is dropped, and
 * who counts as a live writer.
 *
 * - `ROAM_PARTIAL_TAIL_MS` (whole milliseconds) overrides the 30 s bound; tests make it short.
 * - A live writer holds an item when this device leases the item's session (shared.ts): the
 *   session is open in Claude Code's live-session registry, or its log grew here within
 *   WRITE_LEASE_MS. The file's own mtime within the bound counts too (the engine checks that).
 */
import { ErrorCodes, RoamError, type EngineOptions } from '@roam/core';
import { sessionOfItem } from './activity.js';
import type { Lease } from '../machine/leases.js';

export function partialTailOptions(
  env: NodeJS.ProcessEnv,
  folders: readonly { readonly id: string; readonly path: string }[],
  leases: () => readonly Lease[],
  headId: (file: string) => string | null,
): Pick<EngineOptions, 'partialTailMs' | 'liveWriter'> {
  const raw = env.ROAM_PARTIAL_TAIL_MS;
  if (raw !== undefined && !/^\d{1,10}$/.test(raw)) throw new RoamError(ErrorCodes.CONFIG, `ROAM_PARTIAL_TAIL_MS must be a whole number of milliseconds, not ${JSON.stringify(raw.slice(0, 40))}`);
  return {
    ...(raw !== undefined ? { partialTailMs: Number(raw) } : {}),
    liveWriter: (folder, name) => {
      const root = folders.find((f) => f.id === folder)?.path;
      const s = root === undefined ? null : sessionOfItem(folder, root, name, headId);
      return s !== null && leases().some((l) => l.session === s.session);
    },
  };
}
