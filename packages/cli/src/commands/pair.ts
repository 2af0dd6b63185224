/**
 * `roam pair [--timeout <s>]`: print a one-time code (stdout, alone on its line) and wait until a
 * device joins with it. `roam pair <code>`: join the group of the device that printed it.
 * Everything but the code goes to stderr.
 */
import type { Io } from '../main.js';
import { call } from '../control/client.js';
import { roamPaths } from '../machine/paths.js';
import type { PairCodeEvent, PairResult } from '../pairing/api.js';
import { decodeCode } from '../pairing/code.js';

export async function pair(code: string | undefined, opts: { timeout?: number }, io: Io): Promise<void> {
  const socket = roamPaths().socket;
  const params = opts.timeout !== undefined ? { timeout: opts.timeout } : {};
  if (code !== undefined) {
    decodeCode(code); // a typo is reported here, before anything is dialed
    const r = await call<PairResult>(socket, 'pair', { ...params, code });
    const others = r.devices.filter((d) => !d.self).map((d) => d.name);
    io.out(`paired with ${r.joined.name} (${r.joined.peerId}); devices in the group: ${others.join(', ')}`);
    return;
  }
  let shown = false;
  const r = await call<PairResult>(socket, 'pair', params, (event) => {
    const e = event as PairCodeEvent;
    if (shown || typeof e?.code !== 'string') return;
    shown = true;
    io.out(e.code);
    const until = new Date(e.expiresAt).toLocaleTimeString();
    io.err(`run \`roam pair <the code above>\` on the device to add; the code works once, until ${until}. Waiting…`);
  });
  io.err(`paired with ${r.joined.name} (${r.joined.peerId})`);
}
