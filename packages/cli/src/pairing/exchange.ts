/**
 * The pairing exchange: the short-lived libp2p nodes both sides run while pairing (built by the
 * one node builder, daemon/net/node.ts, keyed by the pairing code), and the `/roam/pair/1.0.0`
 * exchange between them.
 *
 * - Both pairing nodes use the device's own identity, so Noise authenticates the very peer ids
 *   that become members. Their private network is keyed from the one-time secret
 *   (HKDF-SHA256, info "roam pair psk v1"): a device without the code cannot complete even the
 *   handshake, and the joiner's gater admits only the inviter's peer id (from the code).
 * - The exchange, once connected:
 *     joiner  → hello   {nonce_j (32 random bytes), name, main addresses, role ('relay': a relay-only device)}
 *     inviter → nonce_i                      (or an error: code used / expired, device removed)
 *     joiner  → proof_j = HMAC(K_proof, "roam-pair-v1" ‖ "joiner"  ‖ inviter id ‖ joiner id ‖ nonce_i ‖ nonce_j)
 *     inviter → proof_i = HMAC(K_proof, "roam-pair-v1" ‖ "inviter" ‖ inviter id ‖ joiner id ‖ nonce_i ‖ nonce_j)
 *     joiner  → confirm                      (it verified proof_i)
 *     inviter → welcome {group id, founder, secret, previous secrets, membership log, addresses}
 *     joiner  → done                         (it stored the group)
 *   K_proof = HKDF-SHA256(one-time secret, info "roam pair proof v1"); proofs are compared in
 *   constant time. The peer ids are the Noise-authenticated ones of this connection and the nonces
 *   are fresh on both sides, so a recorded proof is worth nothing on another connection, and a
 *   relay (which must end Noise with its own id) fails both proofs. The inviter sends nothing of
 *   the group before the joiner's proof verified, and the code is used up at that moment.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { pairKeys, pairProof, type PairKeys } from './proof.js';
import type { Connection, PrivateKey, Stream } from '@libp2p/interface';
import { lpStream } from '@libp2p/utils';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { z } from 'zod';
import { allErrors } from '../daemon/net/index.js';
import { TrustErrorCodes, trustError } from './errors.js';
import { MAX_PREVIOUS, addrSchema, directorySchema, secretSchema } from './group.js';
import { MAX_LOG_ENTRIES, entrySchema, hexDigits, nameSchema } from './members.js';
import { NotInGroupError } from './protector.js';
import { relayPeerId } from './relay-pairing.js';
import { JOINER_FIX, printable } from './refusal.js';

export const PAIR_PROTOCOL = '/roam/pair/1.0.0';
export const PAIR_VERSION = 2; // the joiner's hello: 2 since membership entries v2 (older: told to upgrade)
const MAX_MESSAGE = 1024 * 1024;
const STEP_TIMEOUT_MS = 15_000;
const DIAL_TIMEOUT_MS = 8_000;

export { pairKeys, pairProof, type PairKeys } from './proof.js';

const helloSchema = z.strictObject({ t: z.literal('hello'), v: z.number().int().min(1).max(65535), nonce: hexDigits(64), name: nameSchema, addrs: z.array(addrSchema).max(16), role: z.enum(['member', 'relay']).optional() });
const challengeSchema = z.strictObject({ t: z.literal('challenge'), nonce: hexDigits(64) });
const proofSchema = z.strictObject({ t: z.literal('proof'), proof: hexDigits(64) });
const confirmSchema = z.strictObject({ t: z.literal('confirm') });
const doneSchema = z.strictObject({ t: z.literal('done') });
export const errorReasons = ['used', 'expired', 'proof', 'removed', 'busy', 'internal'] as const;
const errorSchema = z.strictObject({ t: z.literal('error'), reason: z.enum(errorReasons), message: z.string().max(500) });
export const welcomeSchema = z.strictObject({
  t: z.literal('welcome'),
  group: z.strictObject({ id: hexDigits(32), founder: z.string().min(10).max(128) }),
  secret: secretSchema,
  previous: z.array(secretSchema.extend({ until: z.number().int() })).max(MAX_PREVIOUS),
  log: z.array(entrySchema).max(MAX_LOG_ENTRIES),
  directory: directorySchema,
  inviterName: nameSchema,
});

export type Welcome = z.infer<typeof welcomeSchema>;
export type ErrorReason = (typeof errorReasons)[number];

/** One length-prefixed JSON message at a time, bounded. */
class Wire {
  private readonly lp;
  constructor(readonly stream: Stream) {
    this.lp = lpStream(stream, { maxDataLength: MAX_MESSAGE });
  }
  async send(msg: unknown): Promise<void> {
    await this.lp.write(new TextEncoder().encode(JSON.stringify(msg)), { signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
  }
  async receive<T>(schema: z.ZodType<T>, what: string): Promise<T | z.infer<typeof errorSchema>> {
    const bytes = await this.lp.read({ signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
    let raw: unknown;
    try {
      raw = JSON.parse(new TextDecoder().decode(bytes.subarray()));
    } catch {
      throw new Error(`the peer sent something that is not JSON instead of ${what}`);
    }
    const err = errorSchema.safeParse(raw);
    if (err.success) return err.data;
    const ok = schema.safeParse(raw);
    if (!ok.success) throw new Error(`the peer sent a malformed ${what}`);
    return ok.data;
  }
}

const isError = (m: unknown): m is z.infer<typeof errorSchema> => typeof m === 'object' && m !== null && (m as { t?: unknown }).t === 'error';

import { pairingNode } from './pairing-node.js';
export { PAIR_MDNS_TAG, pairingNode, type PairingNodeOptions } from './pairing-node.js';

// ------------------------------------------------------------------ the inviter

export interface InviterHost {
  readonly selfId: string;
  readonly proofKey: Uint8Array;
  /** Why the invitation cannot be used now ('used', 'expired'), or null while it is open. */
  closed(): 'used' | 'expired' | null;
  /** Why this peer (and the name it gave) may not join (removed from the group): the joiner's message; or null. */
  refuse(joiner: string, name: string): string | null;
  /** Takes the invitation for this joiner (single use); false if it was taken or closed meanwhile. */
  claim(joiner: string): boolean;
  /** Adds the joiner to the group; returns what it receives. */
  admit(joiner: { peerId: string; name: string; addrs: string[]; role: 'member' | 'relay' }): Promise<Welcome>;
  /** The joiner stored the group (or went away after receiving it: `confirmed` false). */
  joined(joiner: { peerId: string; name: string }, confirmed: boolean): void;
  log(line: string): void;
}

/** Serves one pairing stream on the inviter's pairing node. Never throws. */
export async function serveInviter(stream: Stream, conn: Connection, host: InviterHost): Promise<void> {
  const joiner = conn.remotePeer.toString();
  const wire = new Wire(stream);
  const fail = async (reason: ErrorReason, message: string): Promise<void> => {
    await wire.send({ t: 'error', reason, message }).catch(() => undefined);
    await stream.close().catch(() => undefined);
  };
  try {
    const hello = await wire.receive(helloSchema, 'hello');
    if (isError(hello)) return;
    if (hello.v < PAIR_VERSION) {
      // An older roam ('internal' is a reason it knows, and it shows the message).
      host.log(`pairing: refused ${joiner} (${printable(hello.name)}): it runs an older roam (pairing version ${hello.v}, this device ${PAIR_VERSION})`);
      return await fail('internal', `the inviting device runs a newer roam: upgrade roam on ${JSON.stringify(printable(hello.name))} and run \`roam pair\` again`);
    }
    const closed = host.closed();
    if (closed) {
      host.log(`pairing: ${joiner} tried a code that is ${closed === 'used' ? 'used up' : 'expired'}; refused`);
      await fail(closed, closed === 'used' ? 'this code was used already' : 'this code has expired');
      return;
    }
    const refused = host.refuse(joiner, hello.name);
    if (refused) {
      host.log(`pairing: refused ${joiner}: ${refused}`);
      await fail('removed', refused);
      return;
    }
    const nonceInviter = randomBytes(32);
    const nonceJoiner = Buffer.from(hello.nonce, 'hex');
    await wire.send({ t: 'challenge', nonce: nonceInviter.toString('hex') });
    const theirs = await wire.receive(proofSchema, 'proof');
    if (isError(theirs)) return;
    const expected = pairProof(host.proofKey, 'joiner', host.selfId, joiner, nonceInviter, nonceJoiner);
    if (!timingSafeEqual(expected, Buffer.from(theirs.proof, 'hex'))) {
      host.log(`pairing: refused ${joiner}: its proof of the code is wrong`);
      await fail('proof', 'the proof of the code is wrong');
      return;
    }
    if (!host.claim(joiner)) {
      await fail(host.closed() ?? 'used', 'this code was used already');
      return;
    }
    await wire.send({ t: 'proof', proof: pairProof(host.proofKey, 'inviter', host.selfId, joiner, nonceInviter, nonceJoiner).toString('hex') });
    const confirm = await wire.receive(confirmSchema, 'confirmation');
    if (isError(confirm)) {
      host.log(`pairing: ${joiner} did not accept this device's proof: ${confirm.message}`);
      return;
    }
    const welcome = await host.admit({ peerId: joiner, name: hello.name, addrs: hello.addrs, role: hello.role ?? 'member' });
    await wire.send(welcome);
    let confirmed = false;
    try {
      const done = await wire.receive(doneSchema, 'done');
      confirmed = !isError(done);
    } catch {
      // it went away after the welcome: it is in the log; it may pair again with a new code
    }
    host.joined({ peerId: joiner, name: hello.name }, confirmed);
    await stream.close().catch(() => undefined);
  } catch (err) {
    host.log(`pairing with ${joiner} failed: ${(err as Error).message}`);
    stream.abort(err as Error);
  }
}

// ------------------------------------------------------------------ the joiner

export interface JoinOptions {
  privateKey: PrivateKey;
  selfId: string;
  inviterId: string;
  secret: Uint8Array;
  /** The code's addresses (without /p2p). */
  addresses: readonly string[];
  name: string;
  /** This device's main addresses, for the inviter's group. */
  addrs: string[];
  /** The role it asks for ('relay': a relay-only device; 'member' when absent). */
  role?: 'member' | 'relay';
  mdns: boolean;
  deadline: number;
  log: (line: string) => void;
  /** Addresses to try as if found by mDNS (tests), with or without /p2p/. */
  found?: readonly string[];
}

const describe = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Dials the inviter (the code's addresses, then whatever mDNS finds with the inviter's peer id)
 * and runs the exchange; `accept` checks and stores the welcome before the inviter is told it is
 * done. Throws a RoamError with a ROAM_PAIR_* code (or what `accept` threw).
 */
export async function joinByCode(opts: JoinOptions, accept: (w: Welcome) => Promise<void>): Promise<Welcome> {
  const keys = pairKeys(opts.secret);
  // The group relay's one-time listener (relay-pairing.ts): `/…/p2p-circuit` in the code, its peer id derived from the code.
  const isCircuit = (a: string): boolean => /^\/ip[46]\/[^/]+\/tcp\/\d+\/p2p-circuit$/.test(a);
  const relayId = opts.addresses.some(isCircuit) ? await relayPeerId(keys.relay) : null;
  const pending: Multiaddr[][] = [];
  let wake: (() => void) | null = null;
  const tried = new Set<string>();
  const offer = (addrs: readonly (Multiaddr | string)[], via: string): void => {
    const fresh: Multiaddr[] = [];
    for (const a of addrs) {
      let ma: Multiaddr;
      try {
        ma = typeof a === 'string' ? multiaddr(a) : a;
      } catch {
        continue;
      }
      if (!ma.getComponents().some((c) => c.name === 'tcp')) continue;
      if (relayId && isCircuit(ma.toString())) ma = multiaddr(`${ma.toString().slice(0, -'/p2p-circuit'.length)}/p2p/${relayId}/p2p-circuit`);
      // A relay address ends in /p2p-circuit: the inviter's id goes after it.
      const id = ma.toString().endsWith('/p2p-circuit') ? undefined : ma.getComponents().findLast((c) => c.name === 'p2p')?.value;
      if (id !== undefined && id !== opts.inviterId) {
        opts.log(`pairing: ignoring ${id} found ${via}: not the inviter named in the code`);
        continue;
      }
      const full = id === undefined ? ma.encapsulate(`/p2p/${opts.inviterId}`) : ma;
      if (tried.has(full.toString())) continue;
      tried.add(full.toString());
      fresh.push(full);
      if (via !== 'in the code') opts.log(`pairing: trying ${full.toString()}, found ${via}`);
    }
    if (fresh.length) {
      pending.push(fresh);
      const w = wake;
      wake = null;
      w?.();
    }
  };
  const node = await pairingNode({
    privateKey: opts.privateKey,
    listen: [],
    psk: keys.psk,
    allow: (peer) => peer === opts.inviterId || peer === relayId,
    ...(relayId ? { relay: { key: keys.relay, mode: 'dial' as const } } : {}),
    mdns: opts.mdns,
    log: (l) => opts.log(`pairing: ${l}`),
    onMdnsPeer: (info) => {
      if (info.id.toString() !== opts.inviterId) return;
      offer(info.multiaddrs.map((m) => (m.getComponents().some((c) => c.name === 'p2p') ? m : m.encapsulate(`/p2p/${info.id.toString()}`))), 'on the local network');
    },
  });
  const failures: unknown[] = [];
  try {
    await node.start();
    offer(opts.addresses.filter((a) => !isCircuit(a)), 'in the code');
    offer(opts.addresses.filter(isCircuit), 'through the group\'s relay');
    if (opts.found) offer(opts.found, 'on the local network');
    let conn: Connection | null = null;
    while (!conn) {
      const batch = pending.shift();
      if (!batch) {
        const left = opts.deadline - Date.now();
        if (!opts.mdns || left <= 0) break;
        // Wait for mDNS to find the inviter (or the deadline).
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        continue;
      }
      const left = opts.deadline - Date.now();
      if (left <= 0) break;
      try {
        conn = await node.dial(batch, { signal: AbortSignal.timeout(Math.min(DIAL_TIMEOUT_MS, left)) });
        if (conn.remotePeer.toString() !== opts.inviterId) {
          failures.push(new Error(`${conn.remoteAddr.toString()} is not the inviter`));
          await conn.close().catch(() => undefined);
          conn = null;
        }
      } catch (err) {
        opts.log(`pairing: no pairing through ${batch.map(String).join(', ')}: ${describe(allErrors(err).find((e) => e instanceof NotInGroupError) ?? err)}`);
        failures.push(err);
      }
    }
    if (!conn) throw unreachable(opts, failures);
    return await joinerExchange(conn, opts, keys, accept);
  } finally {
    await Promise.resolve(node.stop()).catch(() => undefined);
  }
}

function unreachable(opts: JoinOptions, failures: unknown[]): Error {
  const all = failures.flatMap((f) => allErrors(f));
  const verdicts = all.filter((e): e is NotInGroupError => e instanceof NotInGroupError);
  if (verdicts.some((v) => /holds another pairing code/.test(v.message))) {
    return trustError(TrustErrorCodes.PAIR_PROOF, 'the inviter did not accept this code: it is wrong (or belongs to another invitation); run `roam pair` again on the inviting device and use its new code');
  }
  if (verdicts.length) {
    return trustError(TrustErrorCodes.PAIR_PROOF, 'the device that answered could not prove it knows the code: it is not the inviter; nothing was exchanged with it');
  }
  if (all.some((e) => /unexpected peer|blocked by gater|not the inviter|does not match expected remote identity/i.test(describe(e)) || (e as Error | null)?.name === 'UnexpectedPeerError')) {
    return trustError(TrustErrorCodes.PAIR_PROOF, 'a device that is not the inviter answered at the code\'s address; nothing was exchanged with it');
  }
  const where = opts.addresses.length ? opts.addresses.join(', ') : 'no address in the code';
  const why = failures.length ? `: ${describe(failures[0])}` : '';
  return trustError(
    TrustErrorCodes.PAIR_UNREACHABLE,
    `could not reach the inviter (${where}${opts.mdns ? ', nor on the local network' : ''})${why}. Is \`roam pair\` still waiting on it? A code works once, and only until its timeout`,
  );
}

/** The joiner's side of the exchange, on a connection to the inviter. */
export async function joinerExchange(conn: Connection, opts: JoinOptions, keys: Pick<PairKeys, 'proof'>, accept: (w: Welcome) => Promise<void>): Promise<Welcome> {
  let stream: Stream;
  try {
    stream = await conn.newStream(PAIR_PROTOCOL, { signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
  } catch (err) {
    throw trustError(TrustErrorCodes.PAIR_UNREACHABLE, `the inviter answered but did not open pairing: ${describe(err)}`, { cause: err });
  }
  const wire = new Wire(stream);
  const refusal = (e: z.infer<typeof errorSchema>): Error => {
    switch (e.reason) {
      case 'used':
        return trustError(TrustErrorCodes.PAIR_EXPIRED, 'this code was used already (a code pairs one device): run `roam pair` again on the inviting device');
      case 'expired':
        return trustError(TrustErrorCodes.PAIR_EXPIRED, 'this code has expired: run `roam pair` again on the inviting device');
      case 'removed':
        return trustError(TrustErrorCodes.PAIR_REFUSED, `${printable(e.message)}; ${JOINER_FIX}`);
      case 'proof':
        return trustError(TrustErrorCodes.PAIR_PROOF, 'the inviter did not accept the proof of the code: the code is wrong');
      default:
        return trustError(TrustErrorCodes.PAIR_PROOF, `the inviter refused: ${e.message}`);
    }
  };
  let answered = false;
  try {
    const nonceJoiner = randomBytes(32);
    await wire.send({ t: 'hello', v: PAIR_VERSION, nonce: nonceJoiner.toString('hex'), name: opts.name, addrs: opts.addrs.slice(0, 16), ...(opts.role === 'relay' ? { role: 'relay' } : {}) });
    const challenge = await wire.receive(challengeSchema, 'challenge');
    answered = true;
    if (isError(challenge)) throw refusal(challenge);
    const nonceInviter = Buffer.from(challenge.nonce, 'hex');
    await wire.send({ t: 'proof', proof: pairProof(keys.proof, 'joiner', opts.inviterId, opts.selfId, nonceInviter, nonceJoiner).toString('hex') });
    const theirs = await wire.receive(proofSchema, 'proof');
    if (isError(theirs)) throw refusal(theirs);
    const expected = pairProof(keys.proof, 'inviter', opts.inviterId, opts.selfId, nonceInviter, nonceJoiner);
    if (!timingSafeEqual(expected, Buffer.from(theirs.proof, 'hex'))) {
      await wire.send({ t: 'error', reason: 'proof', message: 'your proof of the code is wrong' }).catch(() => undefined);
      throw trustError(TrustErrorCodes.PAIR_PROOF, 'the device that answered could not prove it knows the code: it is not the inviter; nothing was accepted from it');
    }
    await wire.send({ t: 'confirm' });
    const welcome = await wire.receive(welcomeSchema, 'welcome');
    if (isError(welcome)) throw refusal(welcome);
    try {
      await accept(welcome);
    } catch (err) {
      await wire.send({ t: 'error', reason: 'internal', message: 'the joiner could not take the group' }).catch(() => undefined);
      throw err;
    }
    await wire.send({ t: 'done' }).catch(() => undefined);
    await stream.close().catch(() => undefined);
    return welcome;
  } catch (err) {
    stream.abort(err as Error);
    if ((err as { code?: string }).code?.startsWith('ROAM_')) throw err;
    const older = answered // an older inviter drops a newer hello without a word ? '' : ' (an inviting device that runs an older roam does this: upgrade roam on it)';
    throw trustError(TrustErrorCodes.PAIR_UNREACHABLE, `pairing with the inviter broke off: ${describe(err)}${older}`, { cause: err });
  }
}
