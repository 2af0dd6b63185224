/** `roam unpair <device> [--json]`: remove a device from the group everywhere and rotate the group secret. */
import type { Io } from '../io.js';
import { call } from '../control/client.js';
import { roamPaths } from '../machine/paths.js';

export async function unpair(device: string, opts: { json?: boolean }, io: Io): Promise<void> {
  const r = await call(roamPaths().socket, 'unpair', { device });
  if (opts.json) io.out(JSON.stringify(r));
  else io.out(`removed ${r.removed.name} (${r.removed.peerId}) from the group; the group secret was replaced (generation ${r.generation})`);
}
