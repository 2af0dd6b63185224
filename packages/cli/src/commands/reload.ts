/** `roam reload [--json]`: roamd re-reads config.json's selective sync and opt-outs and each folder's .roamignore. */
import type { Io } from '../io.js';
import { call } from '../control/client.js';
import { roamPaths } from '../machine/paths.js';

export async function reload(opts: { json?: boolean }, io: Io): Promise<void> {
  const s = await call(roamPaths().socket, 'reload');
  io.out(opts.json ? JSON.stringify(s, null, 2) : 'reloaded ignore rules and selective sync');
}
