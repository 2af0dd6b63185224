/**
 * Pairing with a short code (`roam pair --short`, docs/TRUST.md §2.1). A short code has too few
 * bits to key anything from it directly (a pnet key derived from 31 bits could be brute-forced
 * offline from a recorded handshake), so:
 *
 * 1. The pairing nodes run without a private network: plain libp2p (Noise authenticates both
 *    peer ids, yamux), nothing keyed from the code. The joiner finds the inviter by mDNS (service
 *    `_roam-pairs`) or at `--peer` addresses; the code carries no address.
 * 2. `/roam/pair-short/1.0.0`, one round of CPace (cpace.ts) over that connection:
 *      joiner  → {t:"pake", v, nameplate, sid (16 random bytes), y: Y_a}
 *      inviter → {t:"pake", y: Y_b}   or {t:"error", reason: "nameplate" | "used" | "expired"}
 *    CI = lv_cat("roam pair short v1", inviter id, joiner id): the Noise-authenticated ids of this
 *    connection. PRS = the code's words. The inviter takes the code for this one attempt the
 *    moment a matching nameplate arrives: whatever follows, no second attempt is answered.
 * 3. The usual `/roam/pair/1.0.0` exchange (exchange.ts) on the same connection, with
 *    K_proof = HKDF-SHA256(ISK, info "roam pair short proof v1"): its proofs confirm both sides
 *    derived the same ISK (a wrong guess fails the joiner's proof, and the inviter says so), and
 *    nothing of the group is sent before they do.
 *
 * The joiner also makes one attempt: after a device answered its PAKE it never offers the code to
 * another one. Relay pairing (through the group's relay) plugs in as another source of addresses
 * for `joinByShortCode` (`peers`), once the pairing nodes carry a relay transport.
 */
import { hkdfSync, randomBytes } from 'node:crypto';
import type { Connection, Libp2p, PeerInfo, PrivateKey, Stream } from '@libp2p/interface';
import { lpStream } from '@libp2p/utils';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { z } from 'zod';
import { isRoamError } from '@roam/core/errors';
import { buildNode } from '../daemon/net/index.js';
import { shortSecret, type ShortCode } from '../machine/short-code.js';
import { CPaceParty, lvCat, POINT_BYTES } from './cpace.js';
import { TrustErrorCodes, trustError } from './errors.js';
import { PAIR_PROTOCOL, joinerExchange, serveInviter, type InviterHost, type Welcome } from './exchange.js';
import { hexDigits } from './members.js';

export const SHORT_PROTOCOL = '/roam/pair-short/1.0.0';
export const SHORT_MDNS_TAG = '_roam-pairs._udp.local';
const SHORT_VERSION = 1;
const STEP_TIMEOUT_MS = 15_000;
const DIAL_TIMEOUT_MS = 8_000;
const MAX_MESSAGE = 4096;
const enc = new TextEncoder();
const CI_LABEL = enc.encode('roam pair short v1');
const AD_JOINER = enc.encode('joiner');
const AD_INVITER = enc.encode('inviter');

const startSchema = z.strictObject({ t: z.literal('pake'), v: z.number().int().min(1).max(65535), nameplate: z.number().int().min(0).max(65535), sid: hexDigits(32), y: hexDigits(POINT_BYTES * 2) });
const replySchema = z.strictObject({ t: z.literal('pake'), y: hexDigits(POINT_BYTES * 2) });
const errorSchema = z.strictObject({ t: z.literal('error'), reason: z.enum(['nameplate', 'used', 'expired', 'version']), message: z.string().max(500) });
type ShortError = z.infer<typeof errorSchema>;

const ci = (inviter: string, joiner: string): Buffer => lvCat(CI_LABEL, enc.encode(inviter), enc.encode(joiner));
const proofKey = (isk: Uint8Array): Uint8Array => new Uint8Array(hkdfSync('sha256', isk, new Uint8Array(0), 'roam pair short proof v1', 32));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

async function send(stream: Stream, msg: unknown): Promise<void> {
  await lpStream(stream, { maxDataLength: MAX_MESSAGE }).write(enc.encode(JSON.stringify(msg)), { signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
}

async function receive<T>(stream: Stream, schema: z.ZodType<T>): Promise<T | ShortError> {
  const bytes = await lpStream(stream, { maxDataLength: MAX_MESSAGE }).read({ signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
  const raw: unknown = JSON.parse(new TextDecoder().decode(bytes.subarray()));
  const err = errorSchema.safeParse(raw);
  if (err.success) return err.data;
  const ok = schema.safeParse(raw);
  if (!ok.success) throw new Error('the peer sent a malformed short-code pairing message');
  return ok.data;
}

const isError = (m: unknown): m is ShortError => (m as { t?: unknown }).t === 'error';

/** A pairing node with no private network (nothing may be keyed from a short code). */
export function shortPairingNode(opts: { privateKey: PrivateKey; selfId: string; listen: string[]; mdns: boolean; log: (l: string) => void; onMdnsPeer?: (info: PeerInfo) => void }): Promise<Libp2p> {
  return buildNode({
    privateKey: opts.privateKey,
    listen: opts.listen,
    deny: (peer) => peer.toString() === opts.selfId,
    ...(opts.mdns ? { mdns: { serviceTag: SHORT_MDNS_TAG, interval: 1000, onPeer: (info: PeerInfo) => opts.onMdnsPeer?.(info) } } : {}),
    dialTimeoutMs: DIAL_TIMEOUT_MS,
    maxConnections: 16,
  });
}

// ------------------------------------------------------------------ the inviter

export interface ShortInviter {
  readonly code: ShortCode;
  /** The invitation's host (exchange.ts); its proofKey is replaced by the PAKE's. */
  readonly host: InviterHost;
  /** A device took the code's one attempt and did not join with it: the code is used up. */
  burned(joiner: string, why: string): void;
}

/** Registers the short-code protocols on the inviter's pairing node. */
export async function serveShortCode(node: Libp2p, inv: ShortInviter): Promise<void> {
  let attempt: { conn: string; joiner: string; key: Uint8Array | null; over: boolean; timer?: NodeJS.Timeout } | null = null;
  const burn = (why: string): void => {
    if (!attempt || attempt.over) return;
    attempt.over = true;
    clearTimeout(attempt.timer);
    inv.burned(attempt.joiner, why);
  };
  await node.handle(
    SHORT_PROTOCOL,
    async (stream: Stream, conn: Connection) => {
      const joiner = conn.remotePeer.toString();
      try {
        const m = await receive(stream, startSchema);
        if (isError(m)) return void (await stream.close().catch(() => undefined));
        const refuse = async (reason: ShortError['reason'], message: string): Promise<void> => {
          await send(stream, { t: 'error', reason, message }).catch(() => undefined);
          await stream.close().catch(() => undefined);
        };
        if (m.v !== SHORT_VERSION) return await refuse('version', `short-code pairing version ${m.v} is not ${SHORT_VERSION}: use the same roam on both devices`);
        if (m.nameplate !== inv.code.nameplate) return await refuse('nameplate', `this device waits with number ${inv.code.nameplate}`);
        const closed = inv.host.closed();
        if (attempt || closed) {
          const reason = !attempt && closed === 'expired' ? 'expired' : 'used';
          inv.host.log(`pairing: ${joiner} tried a short code that is ${reason === 'expired' ? 'expired' : 'used up'}; refused`);
          return await refuse(reason, reason === 'expired' ? 'this code has expired' : 'this code was used already');
        }
        // The one attempt: from here on the code is spent, whatever the outcome.
        const mine = (attempt = { conn: conn.id, joiner, key: null as Uint8Array | null, over: false, timer: undefined as NodeJS.Timeout | undefined });
        mine.timer = setTimeout(() => burn('it did not go on with the pairing'), 2 * STEP_TIMEOUT_MS);
        mine.timer.unref?.();
        const party = new CPaceParty('responder', shortSecret(inv.code), ci(inv.host.selfId, joiner), Buffer.from(m.sid, 'hex'), AD_INVITER);
        mine.key = proofKey(party.finish(Buffer.from(m.y, 'hex'), AD_JOINER));
        await send(stream, { t: 'pake', y: hex(party.message) });
        await stream.close().catch(() => undefined);
      } catch (err) {
        inv.host.log(`pairing: short-code exchange with ${joiner} failed: ${(err as Error).message}`);
        if (attempt?.conn === conn.id) burn((err as Error).message);
        stream.abort(err as Error);
      }
    },
    { maxInboundStreams: 2, maxOutboundStreams: 1 },
  );
  await node.handle(
    PAIR_PROTOCOL,
    async (stream: Stream, conn: Connection) => {
      const a = attempt;
      if (!a || a.conn !== conn.id || !a.key || a.over) return void stream.abort(new Error('no short-code PAKE on this connection'));
      clearTimeout(a.timer);
      await serveInviter(stream, conn, { ...inv.host, proofKey: a.key, joined: (j, confirmed) => ((a.over = true), inv.host.joined(j, confirmed)) });
      burn('its proof of the code was wrong');
    },
    { maxInboundStreams: 2, maxOutboundStreams: 1 },
  );
}

// ------------------------------------------------------------------ the joiner

export interface ShortJoinOptions {
  privateKey: PrivateKey;
  selfId: string;
  code: ShortCode;
  /** `--peer` addresses (with or without /p2p); relay pairing would add its circuit address here. */
  peers: readonly string[];
  name: string;
  addrs: string[];
  mdns: boolean;
  deadline: number;
  log: (line: string) => void;
}

const USED_UP = 'run `roam pair --short` again on the inviting device and use its new code';

/** Finds the inviter, runs the PAKE and the exchange; `accept` stores the welcome. */
export async function joinByShortCode(opts: ShortJoinOptions, accept: (w: Welcome, inviterId: string) => Promise<void>): Promise<void> {
  const pending: Multiaddr[][] = [];
  const tried = new Set<string>();
  let wake: (() => void) | null = null;
  const offer = (addrs: readonly (Multiaddr | string)[], via: string): void => {
    const fresh: Multiaddr[] = [];
    for (const a of addrs) {
      try {
        const ma = typeof a === 'string' ? multiaddr(a) : a;
        if (!ma.getComponents().some((c) => c.name === 'tcp') || tried.has(ma.toString())) continue;
        tried.add(ma.toString());
        fresh.push(ma);
      } catch {
        opts.log(`pairing: ignoring the address ${String(a).slice(0, 100)} (${via}): not a multiaddr`);
      }
    }
    if (!fresh.length) return;
    opts.log(`pairing: trying ${fresh.map(String).join(', ')} (${via})`);
    pending.push(fresh);
    const w = wake;
    wake = null;
    w?.();
  };
  const node = await shortPairingNode({
    privateKey: opts.privateKey,
    selfId: opts.selfId,
    listen: [],
    mdns: opts.mdns,
    log: opts.log,
    onMdnsPeer: (info) => offer(info.multiaddrs.map((m) => (m.getComponents().some((c) => c.name === 'p2p') ? m : m.encapsulate(`/p2p/${info.id.toString()}`))), 'found on the local network'),
  });
  const failures: string[] = [];
  let others = 0;
  try {
    await node.start();
    offer(opts.peers, '--peer');
    for (;;) {
      const left = opts.deadline - Date.now();
      if (left <= 0) break;
      const batch = pending.shift();
      if (!batch) {
        if (!opts.mdns) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          wake = () => (clearTimeout(timer), resolve());
        });
        continue;
      }
      let conn: Connection;
      try {
        conn = await node.dial(batch, { signal: AbortSignal.timeout(Math.min(DIAL_TIMEOUT_MS, left)) });
      } catch (err) {
        failures.push(`${batch.map(String).join(', ')}: ${(err as Error).message}`);
        continue;
      }
      const result = await attempt(conn, opts, accept);
      if (result === 'other') {
        others++;
        await conn.close().catch(() => undefined);
        continue;
      }
      return;
    }
    const where = [opts.peers.length ? `at ${opts.peers.join(', ')}` : '', opts.mdns ? 'on the local network' : ''].filter(Boolean).join(' or ') || 'anywhere (mDNS is off: give its address with --peer)';
    const seen = others ? ` (${others} device(s) there wait with another number)` : '';
    const why = failures.length ? `: ${failures[0]}` : '';
    throw trustError(TrustErrorCodes.PAIR_UNREACHABLE, `found no device waiting with number ${opts.code.nameplate} ${where}${seen}${why}. Is \`roam pair --short\` still waiting on it?`);
  } finally {
    await Promise.resolve(node.stop()).catch(() => undefined);
  }
}

/** One PAKE attempt on a connection: 'other' when the device there waits with another number. */
async function attempt(conn: Connection, opts: ShortJoinOptions, accept: (w: Welcome, inviterId: string) => Promise<void>): Promise<'other' | 'done'> {
  const inviterId = conn.remotePeer.toString();
  let stream: Stream;
  try {
    stream = await conn.newStream(SHORT_PROTOCOL, { signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
  } catch (err) {
    throw trustError(TrustErrorCodes.PAIR_UNREACHABLE, `the device at ${conn.remoteAddr.toString()} did not open short-code pairing: ${(err as Error).message}`, { cause: err });
  }
  const sid = randomBytes(16);
  const party = new CPaceParty('initiator', shortSecret(opts.code), ci(inviterId, opts.selfId), sid, AD_JOINER);
  let key: Uint8Array;
  try {
    await send(stream, { t: 'pake', v: SHORT_VERSION, nameplate: opts.code.nameplate, sid: hex(sid), y: hex(party.message) });
    const reply = await receive(stream, replySchema);
    if (isError(reply)) {
      if (reply.reason === 'nameplate') return 'other';
      if (reply.reason === 'version') throw trustError(TrustErrorCodes.PAIR_PROOF, `the inviter refused: ${reply.message}`);
      throw trustError(TrustErrorCodes.PAIR_EXPIRED, `this code was ${reply.reason === 'expired' ? 'expired' : 'used already (a short code allows one attempt)'}: ${USED_UP}`);
    }
    key = proofKey(party.finish(Buffer.from(reply.y, 'hex'), AD_INVITER));
  } catch (err) {
    stream.abort(err as Error);
    if (isRoamError(err)) throw err;
    throw trustError(TrustErrorCodes.PAIR_UNREACHABLE, `short-code pairing with ${conn.remoteAddr.toString()} broke off: ${(err as Error).message}`, { cause: err });
  }
  await stream.close().catch(() => undefined);
  const join = { privateKey: opts.privateKey, selfId: opts.selfId, inviterId, secret: new Uint8Array(0), addresses: [], name: opts.name, addrs: opts.addrs, mdns: false, deadline: opts.deadline, log: opts.log };
  try {
    await joinerExchange(conn, join, { proof: key }, (w) => accept(w, inviterId));
  } catch (err) {
    if (isRoamError(err) && err.code === TrustErrorCodes.PAIR_PROOF) {
      throw trustError(TrustErrorCodes.PAIR_PROOF, `the code is wrong (the devices derived different keys from it); it is used up now: ${USED_UP}`, { cause: err });
    }
    throw err;
  }
  return 'done';
}
