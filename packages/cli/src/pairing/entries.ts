/**
 * The signed membership entries, and their two formats.
 *
 * - **v1** (roam's first membership format): a fixed set of fields, signed over a fixed-order JSON
 *   array behind the tag `roam-membership-v1`. Still read from disk and from peers, and kept
 *   verbatim; never written any more.
 * - **v2 and later** (written since membership protocol 2): an open object. The signature covers
 *   every field but `sig`, whatever it is, as canonical JSON (keys sorted at every level, no
 *   spaces) behind the tag `roam-membership-v2`. Besides v1's fields it has `role` ('member', the
 *   default, or 'relay': a device that holds no data and whose entries count for nothing) and
 *   `attrs`, a signed map for what later versions add. A device keeps fields it does not know
 *   (an entry of a newer version) and gossips the entry on verbatim, signature and all: it never
 *   drops or re-signs them. Unknown `op`s and roles count for nothing here.
 *
 * An entry's id is the SHA-256 of the bytes its signature covers, in either format.
 */
import { createHash } from 'node:crypto';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { z } from 'zod';

export const MAX_LOG_ENTRIES = 1000;
export const MAX_NAME_LENGTH = 128;
/** The format this build writes. */
export const ENTRY_VERSION = 2;
/** The bytes a v2+ entry's signature covers, at most (its `keep` list is the big part). */
const MAX_SIGNED_BYTES = 96 * 1024;
export const ROLES = ['member', 'relay'] as const;
export type Role = (typeof ROLES)[number];

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

const common = {
  group: hexDigits(32),
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
};

export const entryV1Schema = z.strictObject({ v: z.literal(1), op: z.enum(['add', 'remove']), ...common });

export const entryV2Schema = z
  .looseObject({
    v: z.number().int().min(2).max(65535),
    /** 'add' and 'remove' here, 'ack' and 'set' in approvals.ts; a later version's other ops are kept and count for nothing. */
    op: z.string().min(1).max(32),
    ...common,
    /** Adds: what the device is in the group ('member' when absent). */
    role: z.string().min(1).max(32).optional(),
    /** Signed attributes later versions define; kept verbatim. */
    attrs: z.record(z.string().max(64), z.json()).optional(),
  })
  .refine((e: object) => canonical(e).length <= MAX_SIGNED_BYTES, { message: 'membership entry too large' });

export const entrySchema = z.union([entryV1Schema, entryV2Schema]);

export type EntryV1 = z.infer<typeof entryV1Schema>;
export type EntryV2 = z.infer<typeof entryV2Schema>;
export type Entry = EntryV1 | EntryV2;
/** What a device signs: always the current format. */
export interface UnsignedEntry {
  group: string;
  /** 'ack' and 'set': see approvals.ts. */
  op: 'add' | 'remove' | 'ack' | 'set';
  peer: string;
  name?: string;
  by: string;
  at: number;
  keep?: string[];
  role?: Role;
  attrs?: Record<string, z.core.util.JSONType>;
}

/** JSON with keys sorted at every level and no spaces. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The bytes an entry's signature covers (everything but `sig`). */
export function canonical(e: object): Uint8Array {
  const x = e as Record<string, unknown>;
  if (x.v === 1) {
    return new TextEncoder().encode(
      JSON.stringify(['roam-membership-v1', x.v, x.group, x.op, x.peer, x.name ?? '', x.by, x.at, [...((x.keep as string[] | undefined) ?? [])].sort()]),
    );
  }
  const { sig: _sig, ...signed } = x;
  return new TextEncoder().encode(`roam-membership-v2\n${canonicalJson(signed)}`);
}

export function entryId(e: object): string {
  return createHash('sha256').update(canonical(e)).digest('hex');
}

/** Signs an entry in the current format (`keep` sorted, `v` set). */
export async function signEntry(key: PrivateKey, e: UnsignedEntry): Promise<EntryV2> {
  const unsigned = { ...e, v: ENTRY_VERSION, ...(e.keep ? { keep: [...e.keep].sort() } : {}) };
  const sig = await key.sign(canonical(unsigned));
  return { ...unsigned, sig: Buffer.from(sig).toString('base64') } as EntryV2;
}

/** Whether the signature is `by`'s; never throws. */
export async function verifyEntry(e: Entry): Promise<boolean> {
  try {
    const pub = peerIdFromString(e.by).publicKey;
    if (!pub) return false;
    return await pub.verify(canonical(e), Buffer.from(e.sig, 'base64'));
  } catch {
    return false;
  }
}

/** An add's role: 'member' when absent (and in v1), a later version's role as it is. */
export function roleOf(e: Entry): string {
  return e.v === 1 ? 'member' : ((e as EntryV2).role ?? 'member');
}
