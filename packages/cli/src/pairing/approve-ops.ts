/**
 * The operations on the signed entries of approvals.ts: acknowledging (approving) a device another
 * member added, and the group's `trust.approve` setting. Each signs one entry, applies it and
 * tells the connected members; run inside the trust's `exclusive`.
 */
import type { ApprovalStatus, NewDevice } from '../control/pairing.js';
import { APPROVE_SETTING, type Standing } from './approvals.js';
import { trustError, TrustErrorCodes } from './errors.js';
import type { MembershipGossip } from './gossip.js';
import { mergeLogs, signEntry } from './members.js';
import type { TrustState } from './trust-state.js';

function requireMember(t: TrustState, what: string): void {
  if (!t.group) throw trustError(TrustErrorCodes.UNKNOWN_DEVICE, 'this device is not in a group (see `roam pair`)');
  if (t.view.members.get(t.selfId)?.role !== 'member') throw trustError(TrustErrorCodes.APPROVAL_REFUSED, `a relay ${what}`);
}

async function record(t: TrustState, gossip: MembershipGossip, entry: Parameters<typeof signEntry>[1]): Promise<void> {
  const g = t.group!;
  g.log = mergeLogs(g.log, [await signEntry(t.privateKey, entry)]);
  t.save();
  await t.apply();
  gossip.pushAll();
}

/** `peer`: a member (resolved). A device's own adder cannot approve it; acknowledging one's own add is a no-op. */
export async function ackDevice(t: TrustState, gossip: MembershipGossip, peer: string): Promise<{ peerId: string; name: string; pending: boolean }> {
  requireMember(t, 'acknowledges and approves nothing');
  const name = t.nameOf(peer);
  const addedBy = t.view.members.get(peer)!.addedBy;
  if (peer === t.selfId) throw trustError(TrustErrorCodes.UNKNOWN_DEVICE, 'that is this device: another member acknowledges it');
  if (addedBy === t.selfId || addedBy === peer) {
    if (!t.approvals().standing.get(peer)?.pending) return { peerId: peer, name, pending: false };
    throw trustError(TrustErrorCodes.APPROVAL_REFUSED, `${t.name} added ${name}: another member must approve it (trust.approve is on)`);
  }
  // Once is enough (the log is bounded: MAX_LOG_ENTRIES).
  if (t.approvals().standing.get(peer)?.ackedBy.includes(t.selfId)) return { peerId: peer, name, pending: false };
  await record(t, gossip, { group: t.group!.id, op: 'ack', peer, by: t.selfId, at: Date.now() });
  t.log(`acknowledged ${name} (${peer}), added by ${t.nameOf(addedBy)}`);
  return { peerId: peer, name, pending: t.approvals().standing.get(peer)?.pending ?? false };
}

/** The members now (those not waiting for approval) stay exempt from the setting. */
export async function setApproval(t: TrustState, gossip: MembershipGossip, on: boolean): Promise<{ approve: boolean }> {
  requireMember(t, 'changes no group setting');
  if (t.approvals().approve.on === on && t.approvals().approve.by !== null) return { approve: on }; // already so
  const members = [...t.view.members.keys()].filter((p) => !t.approvals().standing.get(p)?.pending).sort();
  await record(t, gossip, { group: t.group!.id, op: 'set', peer: t.selfId, by: t.selfId, at: Date.now(), attrs: { key: APPROVE_SETTING, value: on, members } });
  t.log(`${APPROVE_SETTING} is now ${on ? 'on' : 'off'} (set by ${t.name})`);
  return { approve: t.approvals().approve.on };
}

/** What `roam status` says of new devices and approvals. */
export function approvalStatus(t: TrustState): { newDevices: NewDevice[]; approval: ApprovalStatus } {
  const a = t.approvals();
  const name = (p: string) => (p === t.selfId ? t.name : t.nameOf(p));
  const list = (pick: (s: Standing) => boolean): NewDevice[] =>
    [...a.standing].filter(([, s]) => pick(s)).map(([p, s]) => ({ name: name(p), peerId: p, addedBy: { peerId: s.addedBy, name: name(s.addedBy) } }));
  return {
    newDevices: list((s) => s.isNew),
    approval: { required: a.approve.on, pending: list((s) => s.pending), self: a.standing.get(t.selfId)?.pending ?? false },
  };
}
