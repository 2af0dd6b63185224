/**
 * The group's membership: a signed, replicated log of adds and removes, merged by union.
 *
 * Each entry is signed (Ed25519, the signer's device identity) over a canonical encoding of every
 * other field, including the group id, so an entry means nothing outside its group. An entry's id
 * is the SHA-256 of that encoding. Which entries count is a pure function of the set of entries,
 * whatever order they arrived in:
 *
 * 1. The founder's own add of itself is the genesis; any other self-add counts for nothing.
 * 2. Removes: a remove counts when its signer was ever added (by the closure of adds from the
 *    genesis). A remove wins, forever: a removed peer id is never a member again (a device that
 *    wants back in pairs with a new identity).
 * 3. Adds: an add counts when its signer is in the closure of counting adds and either was never
 *    removed or the add is one the remover had seen (`keep`: the ids of the removed device's adds
 *    the remover held when it removed it). So a removed (or stolen) device cannot add anyone
 *    after its removal, and the devices it added while it was trusted stay.
 * 4. Members = peers with a counting add, minus removed peers.
 *
 * 5. Roles (entries v2 on): a device whose counting add gives it a role other than 'member' (a
 *    'relay', or a role of a later version) signs nothing that counts: neither adds nor removes.
 *
 * Known limit: a removed device can still sign removes that count (rule 2), if some member that
 * has not heard of its removal accepts them from it. That can only take devices out of the group
 * (they pair again), never let anyone in, and it ends as soon as every member knows the removal.
 */
import { entryId, roleOf, type Entry } from './entries.js';

export * from './entries.js';

export interface Membership {
  /** Current members, by peer id, with the name of their latest counting add. */
  readonly members: ReadonlyMap<string, { readonly name: string; readonly addedBy: string; readonly at: number; readonly role: string }>;
  /** Peer ids removed for good. */
  readonly removed: ReadonlySet<string>;
}

/** Computes the membership from a set of entries whose signatures were checked already. */
export function membership(group: string, founder: string, entries: readonly Entry[]): Membership {
  const ours = entries.filter((e) => e.group === group);
  const adds = ours.filter((e) => e.op === 'add' && (e.peer !== e.by || e.peer === founder));
  // Devices some validly signed add gives another role than 'member': nothing they sign counts.
  // Decided from every add in the closure (not the latest only), so it is order-free; the
  // founder is always a member.
  const restricted = new Map<string, string>();
  const genesis = adds.some((e) => e.peer === founder && e.by === founder);
  const closure = (counts: (e: Entry) => boolean): Map<string, Entry> => {
    const added = new Map<string, Entry>();
    if (!genesis) return added;
    let grew = true;
    while (grew) {
      grew = false;
      for (const e of adds) {
        const isGenesis = e.peer === founder && e.by === founder;
        if (!(isGenesis || (added.has(e.by) && !restricted.has(e.by))) || !counts(e)) continue;
        const prev = added.get(e.peer);
        if (!prev) grew = true;
        // The latest add names the device (by its signer's clock, then id: deterministic).
        if (!prev || e.at > prev.at || (e.at === prev.at && entryId(e) > entryId(prev))) added.set(e.peer, e);
      }
    }
    return added;
  };
  let ever = closure(() => true);
  // Roles: every add a signer in the closure made; the closure shrinks as signers lose their
  // power, until nothing changes.
  for (;;) {
    const before = restricted.size;
    for (const e of adds) {
      const role = roleOf(e);
      if (!ever.has(e.by) || e.peer === founder || role === 'member') continue;
      const had = restricted.get(e.peer);
      if (had === undefined || role < had) restricted.set(e.peer, role);
    }
    if (restricted.size === before) break; // roles only ever get added: this ends
    ever = closure(() => true);
  }
  const removes = ours.filter((e) => e.op === 'remove' && ever.has(e.by) && !restricted.has(e.by));
  const removed = new Set(removes.map((e) => e.peer));
  const keep = new Set(removes.flatMap((e) => e.keep ?? []));
  const counting = closure((e) => !removed.has(e.by) || keep.has(entryId(e)));
  const members = new Map<string, { name: string; addedBy: string; at: number; role: string }>();
  for (const [peer, e] of counting) {
    if (!removed.has(peer)) members.set(peer, { name: e.name ?? peer.slice(-8), addedBy: e.by, at: e.at, role: restricted.get(peer) ?? 'member' });
  }
  return { members, removed };
}

/** Union of two logs by id (the first copy of an id wins; copies are identical when signed). */
export function mergeLogs(a: readonly Entry[], b: readonly Entry[]): Entry[] {
  const byId = new Map<string, Entry>();
  for (const e of [...a, ...b]) {
    const id = entryId(e);
    if (!byId.has(id)) byId.set(id, e);
  }
  return [...byId.values()];
}
