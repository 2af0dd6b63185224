/**
 * `roam leave [--json]`: take this device out of its group. A remove wins forever, so the device
 * takes a new identity (its old one stays removed) and roamd restarts with it; the command returns
 * once roamd answers as the new identity, so the next `roam pair <code>` works at once.
 */
import { ErrorCodes, RoamError, isRoamError } from '@roam/core/errors';
import type { Io } from '../io.js';
import { call } from '../control/client.js';
import { roamPaths } from '../machine/paths.js';

const RESTART_TIMEOUT_MS = 120_000;

export async function leave(opts: { json?: boolean }, io: Io): Promise<void> {
  const socket = roamPaths().socket;
  const r = await call(socket, 'leave');
  if (r.restarted) await waitForIdentity(socket, r.peerId);
  if (opts.json) {
    io.out(JSON.stringify(r));
    return;
  }
  io.out(r.left ? `left the group (${r.members} other device(s) in it); this device now connects to nobody until it pairs again` : 'this device is not in a group: nothing to leave');
  const old = r.left ? 'stays removed from the group' : 'is retired';
  const how = r.restarted ? 'roamd restarted with it' : 'restart roamd to use it';
  io.out(`this device has a new identity ${r.peerId} (the old one, ${r.previousPeerId}, ${old}); ${how}; to join a group: \`roam pair <code>\``);
}

/** Until roamd, restarting, answers as the new identity (the socket is closed for a moment meanwhile). */
async function waitForIdentity(socket: string, peerId: string): Promise<void> {
  const deadline = Date.now() + RESTART_TIMEOUT_MS;
  let last = '';
  for (;;) {
    try {
      if ((await call(socket, 'status')).peerId === peerId) return;
    } catch (err) {
      if (!isRoamError(err) || (err.code !== ErrorCodes.NOT_RUNNING && err.code !== ErrorCodes.INTERNAL)) throw err;
      last = `: ${err.message}`;
    }
    if (Date.now() >= deadline) {
      throw new RoamError(ErrorCodes.NOT_RUNNING, `left, and the new identity ${peerId} is saved, but roamd did not come back with it within ${RESTART_TIMEOUT_MS / 1000} s${last}; see \`roam logs\` and start roamd`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
