/** `roam logs [-f]`: the daemon's recent log lines; with -f, follow until interrupted. */
import type { Io } from '../main.js';
import { call } from '../control/client.js';
import { roamPaths } from '../machine/paths.js';

export async function logs(opts: { follow?: boolean }, io: Io): Promise<void> {
  if (!opts.follow) {
    for (const l of await call<string[]>(roamPaths().socket, 'logs')) io.out(l);
    return;
  }
  await call(roamPaths().socket, 'logs', { follow: true }, (e) => io.out(String(e)));
}
