/**
 * `roam devices [--json]`: the devices of this device's group, each with who added it; a device
 * another member added is marked new until a member acknowledges it.
 * `roam devices --ack <device>` (or `--approve <device>`): acknowledge it for the whole group
 * (with trust.approve on, this approves it: it gets data once a member other than the one that
 * added it approved it). `roam devices --require-approval on|off`: the group's trust.approve.
 */
import { RoamError } from '@roam/core';
import type { Io } from '../io.js';
import { call } from '../control/client.js';
import type { DeviceInfo } from '../control/pairing.js';
import { roamPaths } from '../machine/paths.js';
import { ago } from './helpers/format.js';

export interface DevicesOptions {
  json?: boolean;
  ack?: string;
  approve?: string;
  requireApproval?: string;
}

const pick = (d: DeviceInfo) => {
  const { name, peerId, deviceId, lastSeen, addresses, self, connected, addedBy } = d;
  return { name, peerId, deviceId, lastSeen, addresses, self, connected, addedBy, new: d.new, pending: d.pending };
};

export async function devices(opts: DevicesOptions, io: Io): Promise<void> {
  const socket = roamPaths().socket;
  const target = opts.ack ?? opts.approve;
  if (target !== undefined && opts.requireApproval !== undefined) throw new RoamError('ROAM_USAGE', 'give --ack/--approve or --require-approval, not both');
  if (target !== undefined) {
    const r = await call(socket, 'ack', { device: target });
    if (opts.json) io.out(JSON.stringify({ ...r, devices: r.devices.map(pick) }, null, 2));
    else io.out(`acknowledged ${r.acknowledged.name} (${r.acknowledged.peerId}) for the group${r.pending ? '; it still waits for approval by a member other than the one that added it' : ''}`);
    return;
  }
  if (opts.requireApproval !== undefined) {
    const v = opts.requireApproval.toLowerCase();
    if (v !== 'on' && v !== 'off') throw new RoamError('ROAM_USAGE', `--require-approval takes on or off, not ${JSON.stringify(opts.requireApproval)}`);
    const r = await call(socket, 'approval', { on: v === 'on' });
    if (opts.json) io.out(JSON.stringify({ ...r, devices: r.devices.map(pick) }, null, 2));
    else io.out(r.approve ? 'trust.approve is on: a device one member adds gets no data until a second member approves it (`roam devices --approve <device>`)' : 'trust.approve is off: a device a member adds syncs at once (the others see it as new)');
    return;
  }
  const list = await call(socket, 'devices');
  if (opts.json) {
    io.out(JSON.stringify(list.map(pick), null, 2));
    return;
  }
  if (list.length <= 1) io.err('this device is not paired with another yet: run `roam pair` here, then `roam pair <code>` on the other device');
  for (const d of list) {
    const state = d.self ? 'this device' : d.connected ? 'connected' : ago(d.lastSeen);
    const marks = [
      d.pending ? `waits for approval (added by ${d.addedBy?.name ?? '?'}; \`roam devices --approve ${d.name}\` on another member)` : '',
      d.new && !d.pending ? `new: added by ${d.addedBy?.name ?? '?'}, not acknowledged (roam devices --ack ${d.name})` : '',
    ].filter(Boolean);
    io.out(`${d.name}  ${d.peerId}  ${state}${marks.length ? `  ${marks.join('; ')}` : ''}`);
    if (!d.self) for (const a of d.addresses.slice(0, 4)) io.out(`  at ${a}`);
  }
}
