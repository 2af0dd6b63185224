/**
 * What the members know of each other's adds: which devices are new (added by another member and
 * not acknowledged), and, when the group's signed `trust.approve` setting is on, which wait for a
 * second member's approval before they get any data. A pure function of the signed log, like the
 * membership (members.ts), and of the order-free kind:
 *
 * - `ack` entries (op 'ack', `peer` the device): an acknowledgement, and an approval, when signed
 *   by a current member of role 'member' other than the device and the member that added it.
 * - `set` entries (op 'set', `attrs.key` 'trust.approve', `attrs.value` true or false, and
 *   `attrs.members` the members when it was set): the latest one a member of role 'member'
 *   signed wins (by its signer's clock, then entry id: deterministic everywhere). Devices that
 *   were members when it was turned on are never held back by it.
 * - A device waits for approval when the setting is on, it was added by another device, nobody
 *   else approved it, it is not exempt, and some member besides it and its adder could approve it
 *   (a group of one member needs no approval). Relays hold no data: they never wait.
 * - New (for display, on one device): added by another member than this device after this
 *   device's own add (by the signers' clocks) and not acknowledged.
 *
 * Older builds keep these entries (entries v2 keep any op) and gossip them on, but do not enforce
 * them: see docs/TRUST.md.
 */
import { entryId, type Entry, type EntryV2 } from './entries.js';
import type { Membership } from './members.js';

export const APPROVE_SETTING = 'trust.approve';

export interface Standing {
  readonly addedBy: string;
  /** Member ids that acknowledged (approved) it, other than itself and its adder. */
  readonly ackedBy: readonly string[];
  /** Added by another device than `self`, after `self` joined, and not acknowledged. */
  readonly isNew: boolean;
  /** Gets no data: `trust.approve` is on and no second member approved it. */
  readonly pending: boolean;
}

export interface Approvals {
  /** The group's `trust.approve` setting, and who set it last (null: never set). */
  readonly approve: { readonly on: boolean; readonly by: string | null; readonly at: number | null };
  /** Every member's standing, by peer id. */
  readonly standing: ReadonlyMap<string, Standing>;
}

const attrsOf = (e: Entry): Record<string, unknown> => (e.v === 1 ? {} : ((e as EntryV2).attrs ?? {}));

export function approvals(group: string, entries: readonly Entry[], view: Membership, self: string): Approvals {
  const ours = entries.filter((e) => e.group === group);
  const canSign = (by: string) => view.members.get(by)?.role === 'member';
  let setting: Entry | null = null;
  for (const e of ours) {
    if (e.op !== 'set' || !canSign(e.by) || attrsOf(e).key !== APPROVE_SETTING || typeof attrsOf(e).value !== 'boolean') continue;
    if (!setting || e.at > setting.at || (e.at === setting.at && entryId(e) > entryId(setting))) setting = e;
  }
  const on = setting ? attrsOf(setting).value === true : false;
  const exemptList = setting ? attrsOf(setting).members : undefined;
  const exempt = new Set(Array.isArray(exemptList) ? exemptList.filter((x): x is string => typeof x === 'string') : []);
  const selfAt = view.members.get(self)?.at ?? 0;
  const standing = new Map<string, Standing>();
  for (const [peer, m] of view.members) {
    const ackedBy = [...new Set(ours.filter((e) => e.op === 'ack' && e.peer === peer && e.by !== peer && e.by !== m.addedBy && canSign(e.by)).map((e) => e.by))];
    const byOther = m.addedBy !== peer;
    const approvers = [...view.members].filter(([p, x]) => p !== peer && p !== m.addedBy && x.role === 'member').length;
    const pending = on && byOther && m.role === 'member' && !exempt.has(peer) && ackedBy.length === 0 && approvers > 0;
    const isNew = peer !== self && byOther && m.addedBy !== self && m.at >= selfAt && ackedBy.length === 0;
    standing.set(peer, { addedBy: m.addedBy, ackedBy, isNew, pending });
  }
  return { approve: { on, by: setting?.by ?? null, at: setting?.at ?? null }, standing };
}
