/**
 * Pairing across networks through the group's relay (docs/TRUST.md "Pairing through a relay").
 *
 * A joiner holds no group key, so it cannot reach the relay's group network. The inviter asks each
 * relay-only member it is connected to, over the group connection (`/roam/pair-relay/1.0.0`), to
 * open a one-time listener for this invitation:
 *
 *   inviter → relay   {t: 'open', key: K_relay, ttl}     K_relay = HKDF(secret, "roam pair relay psk v1")
 *   relay   → inviter {t: 'open', addrs}                 the listener's addresses (its own fresh port)
 *   …the stream stays open; when the inviter closes it, or at `ttl`, the listener stops.
 *
 * The listener is a libp2p node of its own: a private network keyed by K_relay (never the secret
 * itself, nor the pairing key), an identity derived from K_relay (so the code need not carry it:
 * the joiner derives it too), and a circuit relay v2 server on which only the inviter (the peer id
 * that asked, Noise-authenticated on the group connection) may reserve and every circuit goes to
 * the inviter. Its only protocols are the relay's own: a non-member that holds the code gets that
 * one circuit to the inviter's pairing node, where the pairing exchange (its own private network,
 * Noise and proofs of the code) runs end to end; the relay forwards ciphertext.
 */
import { hkdfSync } from 'node:crypto';
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import type { Libp2p, PrivateKey, Stream } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { lpStream } from '@libp2p/utils';
import { z } from 'zod';
import { buildNode, type Network } from '../daemon/net/index.js';
import { pairingListen } from './addresses.js';
import { hexDigits } from './members.js';
import { GroupProtector } from './protector.js';

export const PAIR_RELAY_PROTOCOL = '/roam/pair-relay/1.0.0';
/** A one-time listener lives at most this long (an invitation's default is 10 minutes). */
const MAX_TTL_MS = 60 * 60_000;
/** One-time listeners a relay keeps for one member, and in all. */
const MAX_PER_MEMBER = 4;
const MAX_LISTENERS = 16;
const STEP_TIMEOUT_MS = 15_000;
const MAX_MESSAGE = 8 * 1024;
/** Relay addresses a code carries at most. */
const MAX_CODE_RELAY_ADDRS = 2;

const openSchema = z.strictObject({ t: z.literal('open'), key: hexDigits(64), ttl: z.number().int().positive() });
const openedSchema = z.strictObject({ t: z.literal('open'), addrs: z.array(z.string().max(300)).max(16) });

/** The one-time listener's identity: derived from K_relay, so the joiner knows its peer id from the code. */
export async function relayIdentity(relayKey: Uint8Array): Promise<PrivateKey> {
  return generateKeyPairFromSeed('Ed25519', new Uint8Array(hkdfSync('sha256', relayKey, new Uint8Array(0), 'roam pair relay id v1', 32)));
}

export async function relayPeerId(relayKey: Uint8Array): Promise<string> {
  return peerIdFromPrivateKey(await relayIdentity(relayKey)).toString();
}

/** A one-time listener (not started): keyed by `relayKey`, reservations and circuits for `member` only. */
export async function oneTimeRelayNode(relayKey: Uint8Array, member: string, listen: string[], log: (line: string) => void): Promise<Libp2p> {
  const protector = new GroupProtector({ log, secretName: 'pairing relay key' });
  const k = { key: relayKey, label: 'the pairing relay key' };
  protector.setKeys(k, [k]);
  return buildNode({
    privateKey: await relayIdentity(relayKey),
    listen,
    protector,
    deny: () => false, // whoever holds the code's relay key; the relay hooks decide the rest
    dialTimeoutMs: 8_000,
    maxConnections: 16,
    relay: 'server',
    relayFor: member,
  });
}

const send = async (lp: ReturnType<typeof lpStream>, msg: unknown): Promise<void> => {
  await lp.write(new TextEncoder().encode(JSON.stringify(msg)), { signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
};
const receive = async <T>(lp: ReturnType<typeof lpStream>, schema: z.ZodType<T>, signal: AbortSignal): Promise<T> =>
  schema.parse(JSON.parse(new TextDecoder().decode((await lp.read({ signal })).subarray())));

// ------------------------------------------------------------------ the relay

export interface PairingRelayOptions {
  /** The relay daemon's listen addresses (the one-time listeners use the same interfaces, fresh ports). */
  listen: readonly string[];
  /** Whether this member may ask (a member, not another relay). */
  mayAsk: (peerId: string) => boolean;
  log: (line: string) => void;
}

/** A relay-only device's one-time pairing listeners. */
export class PairingRelays {
  private readonly nodes = new Map<Libp2p, string>();
  private stopped = false;

  constructor(private readonly opts: PairingRelayOptions) {}

  async start(net: Network): Promise<void> {
    await net.handle(PAIR_RELAY_PROTOCOL, (stream, peer) => this.serve(stream, peer));
  }

  private async serve(stream: Stream, member: string): Promise<void> {
    const lp = lpStream(stream, { maxDataLength: MAX_MESSAGE });
    const mine = [...this.nodes.values()].filter((p) => p === member).length;
    if (this.stopped || !this.opts.mayAsk(member) || mine >= MAX_PER_MEMBER || this.nodes.size >= MAX_LISTENERS) {
      this.opts.log(`pairing relay: refused a one-time listener to ${member} (${this.opts.mayAsk(member) ? 'too many open' : 'not a member'})`);
      stream.abort(new Error('refused'));
      return;
    }
    let node: Libp2p | null = null;
    try {
      const req = await receive(lp, openSchema, AbortSignal.timeout(STEP_TIMEOUT_MS));
      node = await oneTimeRelayNode(Buffer.from(req.key, 'hex'), member, pairingListen(this.opts.listen), (l) => this.opts.log(`pairing relay: ${l}`));
      this.nodes.set(node, member);
      await node.start();
      const addrs = node.getMultiaddrs().map((ma) => ma.decapsulateCode(421).toString());
      await send(lp, { t: 'open', addrs });
      const ttl = Math.min(req.ttl, MAX_TTL_MS);
      this.opts.log(`pairing relay: a one-time listener for ${member} on ${addrs.join(', ')} for ${Math.round(ttl / 1000)} s at most`);
      // Until the inviter closes the stream (its invitation ended) or the lifetime is over.
      await lp.read({ signal: AbortSignal.timeout(ttl) }).catch(() => undefined);
    } catch (err) {
      this.opts.log(`pairing relay: ${member}'s one-time listener: ${(err as Error).message}`);
    } finally {
      if (node) {
        this.nodes.delete(node);
        await Promise.resolve(node.stop()).catch(() => undefined);
        this.opts.log(`pairing relay: closed the one-time listener for ${member}`);
      }
      stream.abort(new Error('closed'));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.nodes.keys()].map((n) => Promise.resolve(n.stop()).catch(() => undefined)));
    this.nodes.clear();
  }
}

// ------------------------------------------------------------------ the inviter

export interface RelayListeners {
  /** For the code: `/ip4/…/tcp/…/p2p-circuit` (the joiner adds the derived relay id and the inviter's). */
  readonly codeAddrs: string[];
  /** Where the inviter's pairing node dials to reserve (with the derived relay id). */
  readonly dialAddrs: string[];
  close(): void;
}

/** Asks each of `relays` (connected relay-only members) for a one-time listener; keeps what answered. */
export async function openRelayListeners(net: Network, relays: readonly string[], relayKey: Uint8Array, ttlMs: number, log: (line: string) => void): Promise<RelayListeners> {
  const rid = await relayPeerId(relayKey);
  const streams: Stream[] = [];
  const found: string[] = [];
  await Promise.all(relays.map(async (relay) => {
    try {
      const stream = await net.openProtocolStream(relay, PAIR_RELAY_PROTOCOL);
      const lp = lpStream(stream, { maxDataLength: MAX_MESSAGE });
      await send(lp, { t: 'open', key: Buffer.from(relayKey).toString('hex'), ttl: ttlMs });
      const opened = await receive(lp, openedSchema, AbortSignal.timeout(STEP_TIMEOUT_MS));
      streams.push(stream);
      // The addresses the relay listens on, and the hosts this device reached it at with that port.
      const ports = opened.addrs.map((a) => /\/tcp\/(\d+)/.exec(a)?.[1]).filter((p): p is string => !!p);
      const known = net.peers().find((p) => p.peerId === relay)?.addresses ?? [];
      const seen = known.filter((a) => !a.includes('/p2p-circuit')).map((a) => /^(\/ip[46]\/[^/]+\/tcp\/)\d+/.exec(a)?.[1]).filter((h): h is string => !!h);
      const usable = (a: string): boolean => /^\/ip[46]\/[^/]+\/tcp\/\d+$/.test(a) && !/^\/ip4\/127\.|^\/ip6\/::1\/|^\/ip6\/fe80/i.test(a);
      found.push(...[...seen.flatMap((h) => ports.map((p) => `${h}${p}`)), ...opened.addrs].filter(usable));
    } catch (err) {
      log(`pairing: the relay ${relay} opened no one-time listener: ${(err as Error).message}`);
    }
  }));
  const addrs = [...new Set(found)];
  return {
    codeAddrs: addrs.slice(0, MAX_CODE_RELAY_ADDRS).map((a) => `${a}/p2p-circuit`),
    dialAddrs: addrs.map((a) => `${a}/p2p/${rid}`),
    close: () => {
      for (const s of streams) void s.close().catch(() => s.abort(new Error('closed')));
    },
  };
}
