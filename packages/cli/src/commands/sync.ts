/**
 * `roam sync --wait [--timeout <s>] [--all]`: exits 0 once this device is connected to at least
 * one member and, with every connected member, each holds everything the other holds. Offline
 * members are named with their last-seen time and block only with `--all`.
 */
import type { Io } from '../io.js';
import { call } from '../control/client.js';
import { roamPaths } from '../machine/paths.js';
import { ago } from './helpers/format.js';

import { waitInSync } from './helpers/wait-in-sync.js';

export async function sync(opts: { wait?: boolean; timeout?: number; all?: boolean; json?: boolean }, io: Io, tty = process.stderr.isTTY): Promise<void> {
  const socket = roamPaths().socket;
  if (!opts.wait) {
    await call(socket, 'scan');
    io.out('rescanned; use --wait to wait until in sync');
    return;
  }
  const r = await waitInSync(socket, { timeout: opts.timeout, all: opts.all, ...(tty ? { progress: (why: string) => io.err(`waiting: ${why}`) } : {}) });
  for (const p of r.offline) io.err(`not checked: ${p.name} is offline, ${ago(p.lastSeen)}`);
  if (opts.json) io.out(JSON.stringify({ inSync: true, peers: r.peers, offline: r.offline.map((p) => ({ name: p.name, lastSeen: p.lastSeen })) }));
  else io.out(`in sync with ${r.peers.join(', ')}`);
}
