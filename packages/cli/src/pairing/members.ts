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
 * Known limit: a removed device can still sign removes that count (rule 2), if some member that
 * has not heard of its removal accepts them from it. That can only take devices out of the group
 * (they pair again), never let anyone in, and it ends as soon as every member knows the removal.
 */
import { createHash } from 'node:crypto';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { z } from 'zod';

export const MAX_LOG_ENTRIES = 1000;
export const MAX_NAME_LENGTH = 128;

const peerIdSchema = z.string().min(10).max(128).regex(/^[1-9A-HJ-NP-Za-km-z]+$/);
/** A device name as it travels: printable, one line, bounded (it ends up in logs and listings). */
export const nameSchema = z.string().min(1).max(MAX_NAME_LENGTH).regex(/^[^\p{Cc}\p{Zl}\p{Zp}]+$/u);

/** Makes a configured name fit `nameSchema`. */
export function safeName(name: string): string {
  const clean = name.replace(/[\p{Cc}\p{Zl}\p{Zp}]+/gu, ' ').trim().slice(0, MAX_NAME_LENGTH);
  return clean || 'roam device';
}

/** A string of `n` lowercase hex digits. */
export const hexDigits = (n: number) => z.string().regex(new RegExp(`^[0-9a-f]{${n}}$`));

export const entrySchema = z.strictObject({
  v: z.literal(1),
  group: hexDigits(32),
  op: z.enum(['add', 'remove']),
  peer: peerIdSchema,
  /** The device name (adds). */
  name: nameSchema.optional(),
  by: peerIdSchema,
  /** Milliseconds since the epoch, by the signer's clock: for display only, never for ordering. */
  at: z.number().int().nonnegative(),
  /** Removes: ids of the removed device's adds that stay valid. */
  keep: z.array(hexDigits(64)).max(MAX_LOG_ENTRIES).optional(),
  /** base64 Ed25519 signature by `by`. */
  sig: z.string().max(200),
});

export type Entry = z.infer<typeof entrySchema>;
export type UnsignedEntry = Omit<Entry, 'sig'>;

/** The bytes an entry's signature covers: a fixed-order JSON array behind a domain tag. */
export function canonical(e: UnsignedEntry): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify(['roam-membership-v1', e.v, e.group, e.op, e.peer, e.name ?? '', e.by, e.at, [...(e.keep ?? [])].sort()]),
  );
}

export function entryId(e: UnsignedEntry): string {
  return createHash('sha256').update(canonical(e)).digest('hex');
}

export async function signEntry(key: PrivateKey, e: UnsignedEntry): Promise<Entry> {
  const sig = await key.sign(canonical(e));
  return { ...e, ...(e.keep ? { keep: [...e.keep].sort() } : {}), sig: Buffer.from(sig).toString('base64') };
}

/** Whether the signature is `by`'s; never throws. */
export async function verifyEntry(e: Entry): Promise<boolean> {
  try {
    const pub = peerIdFromString(e.by).publicKey;
    if (!pub) return false;
    const { sig, ...unsigned } = e;
    return await pub.verify(canonical(unsigned), Buffer.from(sig, 'base64'));
  } catch {
    return false;
  }
}

export interface Membership {
  /** Current members, by peer id, with the name of their latest counting add. */
  readonly members: ReadonlyMap<string, { readonly name: string; readonly addedBy: string; readonly at: number }>;
  /** Peer ids removed for good. */
  readonly removed: ReadonlySet<string>;
}

/** Computes the membership from a set of entries whose signatures were checked already. */
export function membership(group: string, founder: string, entries: readonly Entry[]): Membership {
  const ours = entries.filter((e) => e.group === group);
  const adds = ours.filter((e) => e.op === 'add' && (e.peer !== e.by || e.peer === founder));
  const genesis = adds.some((e) => e.peer === founder && e.by === founder);
  const closure = (counts: (e: Entry) => boolean): Map<string, Entry> => {
    const added = new Map<string, Entry>();
    if (!genesis) return added;
    let grew = true;
    while (grew) {
      grew = false;
      for (const e of adds) {
        const isGenesis = e.peer === founder && e.by === founder;
        if (!(isGenesis || added.has(e.by)) || !counts(e)) continue;
        const prev = added.get(e.peer);
        if (!prev) grew = true;
        // The latest add names the device (by its signer's clock, then id: deterministic).
        if (!prev || e.at > prev.at || (e.at === prev.at && entryId(e) > entryId(prev))) added.set(e.peer, e);
      }
    }
    return added;
  };
  const ever = closure(() => true);
  const removes = ours.filter((e) => e.op === 'remove' && ever.has(e.by));
  const removed = new Set(removes.map((e) => e.peer));
  const keep = new Set(removes.flatMap((e) => e.keep ?? []));
  const counting = closure((e) => !removed.has(e.by) || keep.has(entryId(e)));
  const members = new Map<string, { name: string; addedBy: string; at: number }>();
  for (const [peer, e] of counting) if (!removed.has(peer)) members.set(peer, { name: e.name ?? peer.slice(-8), addedBy: e.by, at: e.at });
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
