/**
 * Pairing codes: `roam1-` + Crockford base32 (lowercase) of
 *
 *   version (1 byte, 1) ‖ one-time secret (16 bytes) ‖ inviter's Ed25519 public key (32 bytes)
 *   ‖ address count (1 byte) ‖ per address: length (1 byte) ‖ multiaddr bytes
 *
 * followed by 5 checksum characters: the first 25 bits of SHA-256 over "roam1-" and the payload
 * characters. A code with one character changed (or dropped, or swapped) fails the checksum with
 * odds of 1 in 33 million of slipping through, and is reported as a typo, not as a wrong code.
 * The characters I, L (read as 1) and O (read as 0) are accepted, as Crockford base32 allows, and
 * case does not matter.
 *
 * No libp2p here: `roam pair <code>` checks a code before it talks to the daemon (the verb and
 * pairing/ both read it, so it lives with the modules roamd and the verbs share).
 */
import { createHash } from 'node:crypto';
import { multiaddr } from '@multiformats/multiaddr';
import { ErrorCodes, RoamError } from '@roam/core/errors';

export const CODE_PREFIX = 'roam1-';
export const CODE_VERSION = 1;
export const SECRET_BYTES = 16;
const KEY_BYTES = 32;
const CHECKSUM_CHARS = 5;
const MAX_ADDRESSES = 8;
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const DECODE = new Map<string, number>([...ALPHABET].map((c, i) => [c, i]));
for (const [alias, to] of [['o', '0'], ['i', '1'], ['l', '1']] as const) DECODE.set(alias, DECODE.get(to)!);

export interface PairingCode {
  /** The one-time secret (16 bytes). */
  readonly secret: Uint8Array;
  /** The inviter's Ed25519 public key, raw (its peer id is derived from it). */
  readonly inviterKey: Uint8Array;
  /** Where the inviter's pairing listener answers, without /p2p. */
  readonly addresses: readonly string[];
}

export function base32(bytes: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(acc << (5 - bits)) & 31];
  return out;
}

function unbase32(chars: string): Uint8Array {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const c of chars) {
    acc = (acc << 5) | DECODE.get(c)!;
    bits += 5;
    if (bits >= 8) {
      out.push((acc >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
    acc &= (1 << bits) - 1;
  }
  return Uint8Array.from(out);
}

function checksum(payloadChars: string): string {
  return base32(createHash('sha256').update(CODE_PREFIX + payloadChars, 'utf8').digest()).slice(0, CHECKSUM_CHARS);
}

export function encodeCode(code: PairingCode): string {
  if (code.secret.length !== SECRET_BYTES) throw new Error(`the pairing secret must be ${SECRET_BYTES} bytes`);
  if (code.inviterKey.length !== KEY_BYTES) throw new Error('the inviter key must be a raw 32-byte Ed25519 public key');
  const addrs = code.addresses.slice(0, MAX_ADDRESSES).map((a) => multiaddr(a).bytes);
  const parts: Uint8Array[] = [Uint8Array.of(CODE_VERSION), code.secret, code.inviterKey, Uint8Array.of(addrs.length)];
  for (const a of addrs) {
    if (a.length > 255) throw new Error('a pairing address is too long');
    parts.push(Uint8Array.of(a.length), a);
  }
  const payload = base32(Buffer.concat(parts));
  return `${CODE_PREFIX}${payload}${checksum(payload)}`;
}

const invalid = (why: string) => new RoamError(ErrorCodes.PAIR_CODE_INVALID, `not a roam pairing code: ${why}`);
const typo = (why: string) => new RoamError(ErrorCodes.PAIR_CODE_CHECKSUM, `the pairing code has a typo (${why}): check it character by character, or copy it again`);

/** Decodes a code; throws ROAM_PAIR_CODE_CHECKSUM for a typo, ROAM_PAIR_CODE_INVALID otherwise. */
export function decodeCode(text: string): PairingCode {
  const trimmed = text.trim().toLowerCase();
  if (!trimmed.startsWith(CODE_PREFIX)) {
    if (/^roam\d+-/.test(trimmed)) throw invalid('it was made by another version of roam (this one reads roam1- codes)');
    throw invalid(`a code begins with "${CODE_PREFIX}" (as printed by \`roam pair\`)`);
  }
  const body = trimmed.slice(CODE_PREFIX.length).replace(/[\s-]/g, '');
  for (let i = 0; i < body.length; i++) {
    if (!DECODE.has(body[i]!)) throw typo(`"${body[i]}" at position ${CODE_PREFIX.length + i + 1} is not a code character`);
  }
  // The shortest payload: version, secret, key, count (50 bytes: 80 characters).
  if (body.length < 80 + CHECKSUM_CHARS) throw typo('it is too short: part of it is missing');
  const payloadChars = body.slice(0, -CHECKSUM_CHARS);
  const normalized = [...payloadChars].map((c) => ALPHABET[DECODE.get(c)!]).join('');
  const sum = [...body.slice(-CHECKSUM_CHARS)].map((c) => ALPHABET[DECODE.get(c)!]).join('');
  if (checksum(normalized) !== sum) throw typo('its checksum does not match');
  const bytes = unbase32(normalized);
  if (bytes[0] !== CODE_VERSION) throw invalid(`it is a version ${bytes[0]} code; this roam reads version ${CODE_VERSION}: update roam`);
  let at = 1;
  const take = (n: number): Uint8Array => {
    if (at + n > bytes.length) throw invalid('it ends too early');
    const out = bytes.slice(at, at + n);
    at += n;
    return out;
  };
  const secret = take(SECRET_BYTES);
  const inviterKey = take(KEY_BYTES);
  const count = take(1)[0]!;
  if (count > MAX_ADDRESSES) throw invalid('it lists too many addresses');
  const addresses: string[] = [];
  for (let i = 0; i < count; i++) {
    const len = take(1)[0]!;
    try {
      addresses.push(multiaddr(take(len)).toString());
    } catch (err) {
      throw invalid(`address ${i + 1} is malformed (${(err as Error).message})`);
    }
  }
  // Leftover bits of the last character are zero; anything more is not ours.
  if (bytes.length - at > 0) throw invalid('it has bytes after its addresses');
  return { secret, inviterKey, addresses };
}
