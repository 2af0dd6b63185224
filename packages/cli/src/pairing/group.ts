/**
 * The group a device belongs to, kept in `group.json` in the config directory (ROAM_HOME), mode
 * 0600, replaced atomically (temp file, fsync, rename): the current secret, the previous ones
 * still accepted (each with the end of its grace), the membership log, and the addresses members
 * were last reached at.
 */
import { createHash } from 'node:crypto';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id';
import { chmodSync, closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { RoamError } from '@roam/core';
import { z } from 'zod';
import { MAX_LOG_ENTRIES, entrySchema, hexDigits, type Entry } from './members.js';

/**
 * How long members accept a replaced secret at most: less when every other member has been seen
 * on the current one (`retireGrace`), so the grace follows how long members stay offline.
 */
export const GRACE_MS = 7 * 24 * 3600 * 1000;
const MAX_ADDRS_PER_PEER = 16;
/** Replaced secrets kept (each accepted until its grace ends). */
export const MAX_PREVIOUS = 8;

export const addrSchema = z.string().min(4).max(300);
export const directorySchema = z.record(z.string().max(128), z.array(addrSchema).max(MAX_ADDRS_PER_PEER));

/**
 * A group secret, with who made it and their signature over (group, generation, fingerprint): a
 * member adopts a newer secret only when its maker is a member, and a secret whose maker was
 * removed is never current again (a removed device must not steer the group's keys).
 */
export const secretSchema = z.strictObject({
  gen: z.number().int().nonnegative(),
  key: hexDigits(64),
  by: z.string().min(10).max(128),
  sig: z.string().max(200),
});
/** What members say about a secret without the key: enough to order and check it. */
export const secretClaimSchema = z.strictObject({ gen: z.number().int().nonnegative(), fp: hexDigits(64), by: z.string().min(10).max(128), sig: z.string().max(200) });
export type SecretClaim = z.infer<typeof secretClaimSchema>;

export const groupFileSchema = z.strictObject({
  v: z.literal(1),
  /** 16 random bytes, hex: names the group in every signed entry. */
  id: hexDigits(32),
  /** The peer id that created the group (its self-add is the genesis). */
  founder: z.string().min(10).max(128),
  secret: secretSchema,
  previous: z.array(secretSchema.extend({ until: z.number().int() })).max(MAX_PREVIOUS),
  log: z.array(entrySchema).max(MAX_LOG_ENTRIES),
  directory: directorySchema,
});

export type Secret = z.infer<typeof secretSchema>;
export type GroupFile = z.infer<typeof groupFileSchema>;

export function groupFilePath(configDir: string): string {
  return join(configDir, 'group.json');
}

/** A fingerprint of a secret (SHA-256, domain-separated): safe to send; it orders secrets of one generation. */
export function secretFingerprint(key: string): string {
  return createHash('sha256').update('roam-group-secret-fp-v1').update(Buffer.from(key, 'hex')).digest('hex');
}

function secretStatement(group: string, gen: number, fp: string): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(['roam-group-secret-v1', group, gen, fp]));
}

export async function makeSecret(privateKey: PrivateKey, group: string, gen: number, key: string): Promise<Secret> {
  const by = peerIdFromPrivateKey(privateKey).toString();
  const sig = await privateKey.sign(secretStatement(group, gen, secretFingerprint(key)));
  return { gen, key, by, sig: Buffer.from(sig).toString('base64') };
}

/** Whether `by` signed this secret (never throws). */
export async function verifySecret(group: string, s: SecretClaim): Promise<boolean> {
  try {
    const pub = peerIdFromString(s.by).publicKey;
    return pub ? await pub.verify(secretStatement(group, s.gen, s.fp), Buffer.from(s.sig, 'base64')) : false;
  } catch {
    return false;
  }
}

export function claimOf(s: Secret): SecretClaim {
  return { gen: s.gen, fp: secretFingerprint(s.key), by: s.by, sig: s.sig };
}

/** Whether secret `a` supersedes `b`: a later generation, or the same one with a larger fingerprint. */
export function newerSecret(a: { gen: number; fp: string }, b: { gen: number; fp: string }): boolean {
  return a.gen > b.gen || (a.gen === b.gen && a.fp > b.fp);
}

export function readGroupFile(file: string): GroupFile | null {
  if (!existsSync(file)) return null;
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new RoamError('ROAM_STORE_CORRUPT', `${file} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = groupFileSchema.safeParse(raw);
  if (!parsed.success) throw new RoamError('ROAM_STORE_CORRUPT', `${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** Writes the file whole, 0600 from its first byte, and renames it into place. */
export function writeGroupFile(file: string, g: GroupFile): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(g, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

export function removeGroupFile(file: string): void {
  rmSync(file, { force: true });
}

/**
 * A secret made by a device that is no longer a member is never the current one: the newest
 * previous secret a member made, still in its grace, takes its place (the demoted one stays
 * accepted for its grace, like any replaced secret). Returns whether the current secret changed.
 */
export function settleSecret(g: GroupFile, removed: ReadonlySet<string>, now: number): boolean {
  if (!removed.has(g.secret.by)) return false;
  const claim = (s: Secret) => ({ gen: s.gen, fp: secretFingerprint(s.key) });
  const best = g.previous
    .filter((p) => p.until > now && !removed.has(p.by))
    .sort((a, b) => (newerSecret(claim(a), claim(b)) ? -1 : newerSecret(claim(b), claim(a)) ? 1 : 0))[0];
  if (!best) return false;
  const { until: _until, ...secret } = best;
  g.previous = [{ ...g.secret, until: now + GRACE_MS }, ...g.previous.filter((p) => p !== best)].slice(0, MAX_PREVIOUS);
  g.secret = secret;
  return true;
}

/**
 * Caps every replaced secret's grace at `now + GRACE_MS` (a file from a build with a longer grace),
 * and drops them all once every other member (`seen`: the fingerprint of the secret each member's
 * last message said it holds) is on the current secret: nobody needs the old ones any more.
 * Returns whether `g.previous` changed.
 */
export function retireGrace(g: GroupFile, members: Iterable<string>, self: string, seen: ReadonlyMap<string, string>, now: number): boolean {
  let changed = false;
  for (const p of g.previous) {
    if (p.until > now + GRACE_MS) {
      p.until = now + GRACE_MS;
      changed = true;
    }
  }
  const fp = secretFingerprint(g.secret.key);
  if (g.previous.length && [...members].every((m) => m === self || seen.get(m) === fp)) {
    g.previous = [];
    changed = true;
  }
  return changed;
}

/**
 * The newest generation of the group secret a removed device may hold: what its remove says (a
 * `roam leave` or `roam unpair` of this build records it in `attrs.secretGen`); for an older
 * device's self-remove (a leave), everything up to the current one; for an older member's
 * unpair, nothing (that member rotated the secret itself). The members rotate when the current
 * secret's generation is at most this.
 */
export function knownToRemoved(e: Entry, current: number): number {
  const attrs = e.v === 1 ? undefined : (e as { attrs?: Record<string, unknown> }).attrs;
  const gen = attrs?.secretGen;
  if (typeof gen === 'number' && Number.isInteger(gen) && gen >= 0) return gen;
  return e.by === e.peer ? current : -1;
}

/** The newest generation this device holds (current or replaced). */
export function newestGen(g: GroupFile): number {
  return Math.max(g.secret.gen, ...g.previous.map((p) => p.gen));
}

/** Keeps the newest few addresses of a peer, without duplicates. */
export function mergeAddrs(old: readonly string[], fresh: readonly string[]): string[] {
  const out = [...new Set([...fresh, ...old])];
  return out.slice(0, MAX_ADDRS_PER_PEER);
}

export type { Entry };
