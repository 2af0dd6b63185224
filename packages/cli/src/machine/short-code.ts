/**
 * Short pairing codes (`roam pair --short`): `<number>-<word>-<word>-<word>`, e.g.
 * `7-crossbow-wombat-tulip`. The number (1-99) is public: it tells apart invitations on one
 * network, and a device answering another number refuses without using its code. The three words
 * (wordlist.ts, 1,295 words) are the secret: log2(1295^3) ≈ 31.0 bits, protected by a PAKE
 * (pairing/cpace.ts), so an attacker gets one online guess per code (docs/TRUST.md §2.1).
 *
 * No libp2p here: the verb checks a code before it talks to the daemon.
 */
import { randomInt } from 'node:crypto';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import { WORDS } from './wordlist.js';

export const SHORT_WORDS = 3;
export const MAX_NAMEPLATE = 99;
const INDEX = new Map(WORDS.map((w, i) => [w, i]));

export interface ShortCode {
  /** Public: which invitation on the network. */
  readonly nameplate: number;
  readonly words: readonly string[];
}

/** Bits of secret in a code's words. */
export const SHORT_CODE_BITS = SHORT_WORDS * Math.log2(WORDS.length);

export function makeShortCode(): ShortCode {
  return { nameplate: randomInt(1, MAX_NAMEPLATE + 1), words: Array.from({ length: SHORT_WORDS }, () => WORDS[randomInt(WORDS.length)]!) };
}

export function formatShortCode(c: ShortCode): string {
  return [String(c.nameplate), ...c.words].join('-');
}

/** Looks like a short code (a number, then words), as opposed to a `roam1-` code. */
export function isShortCode(text: string): boolean {
  return /^\s*\d+[-\s]+[a-z]/i.test(text);
}

/** The PAKE's password: the words, normalized (the number is public and not part of it). */
export function shortSecret(c: ShortCode): Uint8Array {
  return new TextEncoder().encode(`roam-short-v1:${c.words.join('-')}`);
}

/** Parses a short code typed by a person: case, spaces or hyphens between the parts do not matter. */
export function parseShortCode(text: string): ShortCode {
  const parts = text.trim().toLowerCase().split(/[\s-]+/).filter(Boolean);
  const bad = (why: string) => new RoamError(ErrorCodes.PAIR_CODE_INVALID, `not a short pairing code: ${why} (a short code is a number and ${SHORT_WORDS} words, like 7-acorn-tulip-zebra)`);
  if (parts.length !== SHORT_WORDS + 1) throw bad(`it has ${parts.length} part(s)`);
  const nameplate = Number(parts[0]);
  if (!/^\d+$/.test(parts[0]!) || nameplate < 1 || nameplate > MAX_NAMEPLATE) throw bad(`"${parts[0]}" is not a number from 1 to ${MAX_NAMEPLATE}`);
  const words = parts.slice(1);
  const unknown = words.find((w) => !INDEX.has(w));
  if (unknown !== undefined) throw new RoamError(ErrorCodes.PAIR_CODE_CHECKSUM, `the short pairing code has a typo: "${unknown.slice(0, 40)}" is not one of its words; check it against the inviting device's screen`);
  return { nameplate, words };
}
