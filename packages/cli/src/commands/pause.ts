/** `roam pause [<device>]` / `roam unpause [<device>]`: stop or restart syncing with one device or all. */
import type { Io } from '../io.js';
import { call } from '../control/client.js';
import { roamPaths } from '../machine/paths.js';
import { peerLine } from './helpers/format.js';

export async function pause(which: 'pause' | 'unpause', device: string | undefined, opts: { json?: boolean }, io: Io): Promise<void> {
  const s = await call(roamPaths().socket, which, device === undefined ? {} : { device });
  if (opts.json) io.out(JSON.stringify(s.peers, null, 2));
  else for (const p of s.peers) io.out(peerLine(p));
}
