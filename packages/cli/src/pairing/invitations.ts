/**
 * Invitations and joins: `roam pair` (the inviter: a pairing node keyed by a fresh code, waiting
 * for one device) and `roam pair <code>` (the joiner: dials the inviter, takes its group). The
 * exchange itself is in exchange.ts; see docs/TRUST.md.
 */
import { randomBytes } from 'node:crypto';
import { publicKeyFromRaw } from '@libp2p/crypto/keys';
import type { Libp2p } from '@libp2p/interface';
import { peerIdFromPublicKey, peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { toHex } from '@roam/core/bytes';
import { codeAddresses, pairingListen } from './addresses.js';
import { decodeCode, encodeCode, SECRET_BYTES } from '../machine/pair-code.js';
import { formatShortCode, isShortCode, makeShortCode, parseShortCode, type ShortCode } from '../machine/short-code.js';
import { TrustErrorCodes, trustError } from './errors.js';
import { PAIR_PROTOCOL, joinByCode, pairKeys, pairingNode, serveInviter, type Welcome } from './exchange.js';
import { openRelayListeners, type RelayListeners } from './relay-pairing.js';
import type { MembershipGossip } from './gossip.js';
import { claimOf, makeSecret, mergeAddrs, verifySecret, type GroupFile } from './group.js';
import { APPROVE_SETTING } from './approvals.js';
import { membership, mergeLogs, signEntry, verifyEntry, type Entry } from './members.js';
import { nameIn, refusalForInviter, refusalForJoiner, removalOf, wrongCodeForInviter, type PairRefusal } from './refusal.js';
import { joinByShortCode, serveShortCode, shortPairingNode } from './short.js';
import { errText, type Member, type TrustState } from './trust-state.js';

/** A used or expired invitation keeps answering "used"/"expired" this long, then its node stops. */
const LINGER_MS = 10 * 60 * 1000;
const MAX_INVITATIONS = 4;

export interface Invitation {
  /** The code: shown to the user, never logged. */
  readonly code: string;
  readonly expiresAt: number;
  /** Short codes: where the pairing listener answers (for the joiner's `--peer`). */
  readonly addresses: readonly string[];
  /** Resolves with the device that joined; rejects with ROAM_PAIR_EXPIRED at the timeout. */
  readonly outcome: Promise<{ peerId: string; name: string }>;
  cancel(): void;
}

interface InvitationState {
  status: 'open' | 'claimed' | 'used' | 'expired';
  node: Libp2p;
  /** The one-time listeners the group's relays opened for it. */
  relayed: RelayListeners | null;
  timer: NodeJS.Timeout | undefined;
  linger: NodeJS.Timeout | undefined;
  settle: (r: { ok: true; peerId: string; name: string } | { ok: false; err: Error }) => void;
}

export class Invitations {
  private readonly open = new Set<InvitationState>();

  constructor(
    private readonly t: TrustState,
    private readonly gossip: MembershipGossip,
  ) {}

  /** Settles every invitation (this device left its group). */
  settleAll(why: string): void {
    for (const inv of this.open) inv.settle({ ok: false, err: trustError(TrustErrorCodes.PAIR_EXPIRED, why) });
  }

  /** Closes every invitation and stops its node. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.open].map((inv) => this.close(inv)));
  }

  /** Founds a group with this device as its only member (the first `roam pair` does it). */
  private async found(): Promise<GroupFile> {
    const id = toHex(randomBytes(16));
    const genesis = await signEntry(this.t.privateKey, { group: id, op: 'add', peer: this.t.selfId, name: this.t.name, by: this.t.selfId, at: Date.now() });
    const secret = await makeSecret(this.t.privateKey, id, 0, toHex(randomBytes(32)));
    const g: GroupFile = { v: 1, id, founder: this.t.selfId, secret, previous: [], log: [genesis], directory: {} };
    this.t.group = g;
    this.t.save();
    await this.t.apply();
    this.t.log('founded a new group with this device as its first member');
    return g;
  }

  /** `onRefused`: a device tried to join and was refused (the inviter's `roam pair` says why). */
  invite(timeoutMs: number, onRefused?: (r: PairRefusal) => void, short = false): Promise<Invitation> {
    return this.t.exclusive(async () => {
      const g = this.t.group ?? (await this.found());
      for (const inv of [...this.open].slice(0, Math.max(0, this.open.size - MAX_INVITATIONS + 1))) await this.close(inv);
      const secret = randomBytes(SECRET_BYTES);
      const keys = pairKeys(secret);
      let state!: InvitationState;
      let wrongCodes = 0;
      const shortCode = short ? makeShortCode() : null;
      // Relay-only members this device is connected to: each opens a one-time listener (relay-pairing.ts).
      // A short code carries no addresses, so it is found by mDNS or --peer only, never through a relay.
      const net = this.t.net;
      const relays = net && !shortCode ? net.connectedPeers().filter((p) => this.t.view.members.get(p)?.role === 'relay') : [];
      const node = shortCode
        ? await shortPairingNode({ privateKey: this.t.privateKey, selfId: this.t.selfId, listen: pairingListen(this.t.listen), mdns: this.t.mdns, log: (l) => this.t.log(`pairing: ${l}`) })
        : await pairingNode({
        ...(relays.length ? { relay: { key: keys.relay, mode: 'client' as const } } : {}),
        privateKey: this.t.privateKey,
        listen: pairingListen(this.t.listen),
        psk: keys.psk,
        allow: (peer) => peer !== this.t.selfId,
        mdns: this.t.mdns,
        log: (l) => this.t.log(`pairing: ${l}`),
        onWrongCode: (address) => void (wrongCodes++ < 5 && onRefused?.({ peerId: null, name: address, reason: 'wrong-code', message: wrongCodeForInviter(address) })),
      });
      const outcome = new Promise<{ peerId: string; name: string }>((resolve, reject) => {
        state = {
          status: 'open', node, relayed: null, timer: undefined, linger: undefined,
          settle: (r) => {
            clearTimeout(state.timer);
            state.relayed?.close();
            if (state.status === 'open' || state.status === 'claimed') state.status = r.ok ? 'used' : 'expired';
            if (r.ok) resolve({ peerId: r.peerId, name: r.name });
            else reject(r.err);
            state.settle = () => undefined;
            clearTimeout(state.linger);
            state.linger = setTimeout(() => void this.close(state), LINGER_MS);
            state.linger.unref?.();
          },
        };
      });
      outcome.catch(() => undefined);
      this.open.add(state);
      const host = {
        selfId: this.t.selfId,
        proofKey: keys.proof,
        closed: () => (state.status === 'used' || state.status === 'claimed' ? ('used' as const) : state.status === 'expired' ? ('expired' as const) : null),
        refuse: (joiner: string, name: string) => {
          if (!this.t.view.removed.has(joiner)) return null;
          const log = this.t.group?.log ?? [];
          const removal = removalOf(log, joiner);
          const nameOf = (p: string): string => (p === this.t.selfId ? this.t.name : nameIn(log, p));
          onRefused?.({ peerId: joiner, name, reason: 'removed', message: refusalForInviter({ peerId: joiner, name }, removal, nameOf) });
          return refusalForJoiner(this.t.name, joiner, removal, nameOf);
        },
        claim: () => {
          if (state.status !== 'open') return false;
          state.status = 'claimed';
          return true;
        },
        admit: (j: { peerId: string; name: string; addrs: string[]; role: 'member' | 'relay' }) => this.t.exclusive(() => this.admit(j)),
        joined: (j: { peerId: string; name: string }, confirmed: boolean) => {
          if (!confirmed) this.t.log(`pairing: ${j.name} received the group but did not confirm it stored it`);
          state.settle({ ok: true, peerId: j.peerId, name: j.name });
        },
        log: (l: string) => this.t.log(l),
      };
      try {
        if (shortCode) {
          await serveShortCode(node, {
            code: shortCode,
            host,
            burned: (joiner, why) => {
              this.t.log(`pairing: ${joiner} used the short code's one attempt and did not join (${why}); the code is used up`);
              state.settle({ ok: false, err: trustError(TrustErrorCodes.PAIR_PROOF, `a device tried this short code and failed (a wrong code, or it broke off): the code is used up; run \`roam pair --short\` again for a new one`) });
            },
          });
        } else await node.handle(PAIR_PROTOCOL, (stream, conn) => void serveInviter(stream, conn, host), { maxInboundStreams: 2, maxOutboundStreams: 1 });
        await node.start();
      } catch (err) {
        await this.close(state);
        throw err;
      }
      const expiresAt = Date.now() + timeoutMs;
      state.timer = setTimeout(() => {
        this.t.log('pairing: the code expired before a device joined');
        state.settle({ ok: false, err: trustError(TrustErrorCodes.PAIR_EXPIRED, `no device joined within ${Math.round(timeoutMs / 1000)} s: the code has expired`) });
      }, timeoutMs);
      state.timer.unref?.();
      if (net && relays.length) state.relayed = await this.reserve(net, node, relays, keys.relay, timeoutMs);
      const addresses = [...codeAddresses(node), ...(state.relayed?.codeAddrs ?? [])];
      const inviterKey = this.t.privateKey.publicKey.raw;
      const code = shortCode ? formatShortCode(shortCode) : encodeCode({ secret, inviterKey, addresses });
      secret.fill(0);
      this.t.log(`pairing: waiting for a device to join group ${g.id.slice(0, 8)} until ${new Date(expiresAt).toISOString()} (pairing listener on ${addresses.join(', ')})`);
      return {
        code,
        expiresAt,
        addresses: shortCode ? addresses : [],
        outcome,
        cancel: () => {
          if (state.status === 'open') {
            this.t.log('pairing: cancelled before a device joined');
            state.settle({ ok: false, err: trustError(TrustErrorCodes.PAIR_EXPIRED, 'pairing was cancelled') });
          }
        },
      };
    });
  }

  /** One-time listeners on the group's relays, and a reservation on one of them (or none, said in the log). */
  private async reserve(net: NonNullable<TrustState['net']>, node: Libp2p, relays: string[], key: Uint8Array, ttlMs: number): Promise<RelayListeners> {
    const relayed = await openRelayListeners(net, relays, key, ttlMs, (l) => this.t.log(l));
    const reserved = (): boolean => node.getMultiaddrs().some((ma) => ma.toString().includes('/p2p-circuit'));
    for (const a of relayed.dialAddrs) {
      if (reserved()) break;
      await node.dial(multiaddr(a), { signal: AbortSignal.timeout(8_000) }).catch((err: unknown) => this.t.log(`pairing: no connection to the relay's one-time listener ${a}: ${errText(err)}`));
      for (let i = 0; i < 50 && !reserved() && node.getConnections().length; i++) await new Promise((r) => setTimeout(r, 100));
    }
    if (relayed.dialAddrs.length && !reserved()) this.t.log('pairing: no reservation on the group\'s relay: the code carries its address all the same');
    return relayed;
  }

  private async close(state: InvitationState): Promise<void> {
    if (!this.open.delete(state)) return;
    state.relayed?.close();
    clearTimeout(state.timer);
    clearTimeout(state.linger);
    state.settle({ ok: false, err: trustError(TrustErrorCodes.PAIR_EXPIRED, 'the invitation was closed') });
    clearTimeout(state.linger);
    await Promise.resolve(state.node.stop()).catch(() => undefined);
  }

  /** Adds a joiner that proved the code, and builds what it receives. */
  private async admit(j: { peerId: string; name: string; addrs: string[]; role: 'member' | 'relay' }): Promise<Welcome> {
    const g = this.t.group;
    if (!g) throw new Error('this device left the group while pairing');
    if (!this.t.view.members.has(j.peerId)) {
      // A relay-only device asks for the role 'relay': it holds nothing, and nothing it signs counts.
      const role = j.role === 'relay' ? { role: 'relay' as const } : {};
      const entry = await signEntry(this.t.privateKey, { group: g.id, op: 'add', peer: j.peerId, name: j.name, by: this.t.selfId, at: Date.now(), ...role });
      g.log = mergeLogs(g.log, [entry]);
      this.t.recompute();
      const a = this.t.approvals();
      // trust.approve on in a group of one member: nobody else could approve the joiner, so the
      // setting is stated again with it among the exempt (approvals.ts).
      if (a.approve.on && !a.standing.get(j.peerId)?.pending) {
        const members = [...this.t.view.members.keys()].filter((p) => !a.standing.get(p)?.pending).sort();
        const set = await signEntry(this.t.privateKey, { group: g.id, op: 'set', peer: this.t.selfId, by: this.t.selfId, at: Date.now() + 1, attrs: { key: APPROVE_SETTING, value: true, members } });
        g.log = mergeLogs(g.log, [set]);
      }
    }
    const addrs = j.addrs.filter((a) => {
      try {
        return peerIdFromString(multiaddr(a).getComponents().find((c) => c.name === 'p2p')?.value ?? j.peerId).toString() === j.peerId;
      } catch {
        return false;
      }
    });
    if (addrs.length) g.directory[j.peerId] = mergeAddrs([], addrs);
    this.t.save();
    await this.t.apply();
    this.t.log(`pairing: ${j.name} (${j.peerId}) joined the group${j.role === 'relay' ? ' as a relay-only device' : ''}`);
    this.gossip.pushAll(j.peerId);
    const directory: Record<string, string[]> = {};
    for (const p of this.t.view.members.keys()) if (p !== j.peerId && p !== this.t.selfId && g.directory[p]?.length) directory[p] = g.directory[p]!;
    directory[this.t.selfId] = this.t.myAddrs().slice(0, 16);
    return {
      t: 'welcome',
      group: { id: g.id, founder: g.founder },
      secret: g.secret,
      previous: g.previous,
      log: g.log,
      directory,
      inviterName: this.t.name,
    };
  }

  async join(codeText: string, timeoutMs: number, found?: readonly string[], peers: readonly string[] = []): Promise<{ inviter: { peerId: string; name: string }; members: Member[] }> {
    const short = isShortCode(codeText) ? parseShortCode(codeText) : null;
    const others = [...this.t.view.members.keys()].filter((p) => p !== this.t.selfId);
    if (others.length) {
      throw trustError(
        TrustErrorCodes.ALREADY_PAIRED,
        `this device is already paired (with ${others.map((p) => this.t.nameOf(p)).join(', ')}); run \`roam leave\` first to pair it into another group`,
      );
    }
    if (short) return await this.joinShort(short, timeoutMs, peers);
    const code = decodeCode(codeText);
    let inviterId: string;
    try {
      inviterId = peerIdFromPublicKey(publicKeyFromRaw(code.inviterKey)).toString();
    } catch {
      throw trustError(TrustErrorCodes.PAIR_CODE_INVALID, 'not a roam pairing code: its inviter key is not an Ed25519 public key');
    }
    if (inviterId === this.t.selfId) throw trustError(TrustErrorCodes.PAIR_CODE_INVALID, 'this device printed that code: run `roam pair <code>` on the other device');
    this.t.log(`pairing: joining the device ${inviterId}`);
    let inviterName = inviterId;
    await joinByCode(
      {
        privateKey: this.t.privateKey,
        selfId: this.t.selfId,
        inviterId,
        secret: code.secret,
        addresses: code.addresses,
        name: this.t.name,
        addrs: this.t.myAddrs(),
        role: this.t.role,
        mdns: this.t.mdns,
        deadline: Date.now() + timeoutMs,
        log: (l) => this.t.log(l),
        ...(found ? { found } : {}),
      },
      (w) =>
        this.t.exclusive(async () => {
          inviterName = w.inviterName;
          await this.adopt(w, inviterId);
        }),
    ).catch((err: unknown) => {
      this.t.log(`pairing failed: ${errText(err)}`);
      throw err;
    });
    return { inviter: { peerId: inviterId, name: inviterName }, members: this.t.members() };
  }

  private async joinShort(code: ShortCode, timeoutMs: number, peers: readonly string[]): Promise<{ inviter: { peerId: string; name: string }; members: Member[] }> {
    let inviter = { peerId: '', name: '' };
    const opts = { privateKey: this.t.privateKey, selfId: this.t.selfId, code, peers, name: this.t.name, addrs: this.t.myAddrs(), mdns: this.t.mdns, deadline: Date.now() + timeoutMs, log: (l: string) => this.t.log(l) };
    await joinByShortCode(opts, (w, inviterId) =>
      this.t.exclusive(async () => {
        inviter = { peerId: inviterId, name: w.inviterName };
        await this.adopt(w, inviterId);
      }),
    ).catch((err: unknown) => {
      this.t.log(`pairing failed: ${errText(err)}`);
      throw err;
    });
    return { inviter, members: this.t.members() };
  }

  /** Checks a welcome and makes its group this device's group. */
  private async adopt(w: Welcome, inviterId: string): Promise<void> {
    const others = [...this.t.view.members.keys()].filter((p) => p !== this.t.selfId);
    if (others.length) throw trustError(TrustErrorCodes.ALREADY_PAIRED, 'this device was paired by another way meanwhile');
    const log: Entry[] = [];
    for (const e of w.log) if (e.group === w.group.id && (await verifyEntry(e))) log.push(e);
    const view = membership(w.group.id, w.group.founder, log);
    if (!view.members.has(this.t.selfId) || !view.members.has(inviterId)) {
      throw trustError(TrustErrorCodes.PAIR_PROOF, 'the inviter sent a membership that does not make both devices members');
    }
    if (!view.members.has(w.secret.by) || !(await verifySecret(w.group.id, claimOf(w.secret)))) {
      throw trustError(TrustErrorCodes.PAIR_PROOF, 'the inviter sent a group secret that no member made and signed');
    }
    const previous: GroupFile['previous'] = [];
    for (const p of w.previous) if (p.until > Date.now() && (await verifySecret(w.group.id, claimOf(p)))) previous.push(p);
    const directory: Record<string, string[]> = {};
    for (const [p, addrs] of Object.entries(w.directory)) if (p !== this.t.selfId && view.members.has(p)) directory[p] = addrs;
    const now = Date.now();
    this.t.group = { v: 1, id: w.group.id, founder: w.group.founder, secret: w.secret, previous: previous.filter((p) => p.until > now), log, directory };
    this.gossip.forgetSecrets();
    // An invitation of this device's former (lone) group must not add anyone to the new one.
    for (const inv of this.open) if (inv.status === 'open') inv.settle({ ok: false, err: trustError(TrustErrorCodes.PAIR_EXPIRED, 'this device joined another group') });
    this.t.save();
    await this.t.apply();
    this.t.log(`pairing: joined ${w.inviterName}'s group: ${[...view.members.values()].map((m) => m.name).join(', ')}`);
  }
}
