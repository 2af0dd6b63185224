/** `roam devices [--json]`: the devices of this device's group. */
import type { Io } from '../io.js';
import { call } from '../control/client.js';
import { roamPaths } from '../machine/paths.js';
import { ago } from './helpers/format.js';

export async function devices(opts: { json?: boolean }, io: Io): Promise<void> {
  const list = await call(roamPaths().socket, 'devices');
  if (opts.json) {
    io.out(JSON.stringify(list.map(({ name, peerId, deviceId, lastSeen, addresses, self, connected }) => ({ name, peerId, deviceId, lastSeen, addresses, self, connected })), null, 2));
    return;
  }
  if (list.length <= 1) io.err('this device is not paired with another yet: run `roam pair` here, then `roam pair <code>` on the other device');
  for (const d of list) {
    const state = d.self ? 'this device' : d.connected ? 'connected' : ago(d.lastSeen);
    io.out(`${d.name}  ${d.peerId}  ${state}`);
    if (!d.self) for (const a of d.addresses.slice(0, 4)) io.out(`  at ${a}`);
  }
}
