/** `roam leave`: take this device out of its group. */
import type { Io } from '../main.js';
import { call } from '../control/client.js';
import { roamPaths } from '../machine/paths.js';
import type { LeaveResult } from '../pairing/api.js';

export async function leave(io: Io): Promise<void> {
  const r = await call<LeaveResult>(roamPaths().socket, 'leave');
  io.out(r.left ? `left the group (${r.members} other device(s) in it); this device now connects to nobody until it pairs again` : 'this device is not in a group: nothing to leave');
}
