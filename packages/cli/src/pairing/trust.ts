/**
 * Who this daemon trusts: the group it belongs to, the members, the keys of its private network,
 * and the operations that change them (pair, unpair, leave), plus the `/roam/members/1.0.0`
 * gossip that keeps every member's view the same. See docs/TRUST.md for the design.
 *
 * Modes:
 * - `env` (ROAM_GROUP_KEY set, automation and tests): @libp2p/pnet with that key, anyone holding
 *   it is admitted, no member list, no pairing.
 * - `group`: the group protector with the group's secrets; the allow-list is the member set. With
 *   no group.json the device is alone: it admits nobody and dials nobody, and its first
 *   `roam pair` founds a group with itself as the first member.
 */
import { randomBytes } from 'node:crypto';
import { publicKeyFromRaw } from '@libp2p/crypto/keys';
import type { Libp2p, PrivateKey, Stream } from '@libp2p/interface';
import { peerIdFromPrivateKey, peerIdFromPublicKey, peerIdFromString } from '@libp2p/peer-id';
import { lpStream } from '@libp2p/utils';
import { multiaddr } from '@multiformats/multiaddr';
import { RoamError } from '@roam/core';
import { z } from 'zod';
import type { Network } from '../daemon/net/index.js';
import { decodeCode, encodeCode, SECRET_BYTES } from './code.js';
import { TrustErrorCodes, trustError } from './errors.js';
import {
  GRACE_MS, MAX_PREVIOUS, claimOf, directorySchema, groupFilePath, makeSecret, mergeAddrs, newerSecret, readGroupFile, removeGroupFile,
  secretClaimSchema, secretFingerprint, settleSecret, verifySecret, writeGroupFile, type GroupFile,
} from './group.js';
import { MAX_LOG_ENTRIES, entryId, entrySchema, membership, mergeLogs, safeName, signEntry, verifyEntry, type Entry, type Membership } from './members.js';
import { GroupProtector, type ProtectorKey } from './protector.js';
import { PAIR_PROTOCOL, joinByCode, pairKeys, pairingNode, serveInviter, type Welcome } from './exchange.js';
import { codeAddresses, pairingListen } from './addresses.js';
import { nameIn, refusalForInviter, refusalForJoiner, removalOf, wrongCodeForInviter, type PairRefusal } from './refusal.js';

export const MEMBERS_PROTOCOL = '/roam/members/1.0.0';
const MAX_PUSH_BYTES = 1024 * 1024;
const PUSH_TIMEOUT_MS = 10_000;
/** A used or expired invitation keeps answering "used"/"expired" this long, then its node stops. */
const LINGER_MS = 10 * 60 * 1000;
const MAX_INVITATIONS = 4;
/** How long sync with a newly connected member waits for its membership message. */
const READY_TIMEOUT_MS = 10_000;

const pushSchema = z.strictObject({
  v: z.literal(1),
  group: z.string().regex(/^[0-9a-f]{32}$/),
  log: z.array(entrySchema).max(MAX_LOG_ENTRIES),
  secret: secretClaimSchema,
  /** The current secret: only to members that said they hold an older one. */
  key: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  addrs: directorySchema,
});
type Push = z.infer<typeof pushSchema>;

export interface TrustOptions {
  configDir: string;
  privateKey: PrivateKey;
  name: string;
  /** ROAM_GROUP_KEY: automation mode. */
  envKey?: Uint8Array;
  mdns: boolean;
  /** The daemon's listen multiaddrs (pairing listens on the same interfaces, another port). */
  listen: readonly string[];
  log: (line: string) => void;
  /** A member was removed (forget what is remembered of it). */
  onForget?: (peerId: string) => void;
}

export interface Member {
  readonly peerId: string;
  readonly name: string;
  readonly self: boolean;
  readonly addresses: string[];
}

export interface Invitation {
  /** The code: shown to the user, never logged. */
  readonly code: string;
  readonly expiresAt: number;
  /** Resolves with the device that joined; rejects with ROAM_PAIR_EXPIRED at the timeout. */
  readonly outcome: Promise<{ peerId: string; name: string }>;
  cancel(): void;
}

interface InvitationState {
  status: 'open' | 'claimed' | 'used' | 'expired';
  node: Libp2p;
  timer: NodeJS.Timeout | undefined;
  linger: NodeJS.Timeout | undefined;
  settle: (r: { ok: true; peerId: string; name: string } | { ok: false; err: Error }) => void;
}

const errText = (err: unknown): string => (err instanceof Error ? err.message || err.name : String(err));

const EMPTY: Membership = { members: new Map(), removed: new Set() };

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

export class Trust {
  readonly mode: 'env' | 'group';
  readonly protector: GroupProtector | undefined;
  readonly selfId: string;
  private readonly file: string;
  private group: GroupFile | null;
  private view: Membership = EMPTY;
  private net: Network | null = null;
  /** What each member said it holds, from its last push. */
  private readonly peerSecrets = new Map<string, { gen: number; fp: string }>();
  private readonly invitations = new Set<InvitationState>();
  /** Members this device told its view on the current connection. */
  private readonly told = new Set<string>();
  /** Members whose membership message arrived on the current connection (sync waits for it). */
  private readonly ready = new Map<string, { ok: boolean; waiters: Set<(ok: boolean) => void> }>();
  /** Peers this device dials as members (to forget those that leave the set). */
  private targeted = new Set<string>();
  /** The group secret the network was last given (to notice a change). */
  private appliedKey: string | null = null;
  private tail: Promise<unknown> = Promise.resolve();
  private pruneTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastGraceLog = 0;

  private readonly opts: TrustOptions;

  private constructor(opts: TrustOptions) {
    this.opts = { ...opts, name: safeName(opts.name) };
    this.mode = opts.envKey ? 'env' : 'group';
    this.selfId = peerIdFromPrivateKey(opts.privateKey).toString();
    this.file = groupFilePath(opts.configDir);
    this.group = this.mode === 'group' ? readGroupFile(this.file) : null;
    this.protector =
      this.mode === 'group'
        ? new GroupProtector({
            log: (l) => this.log(l),
            onAccepted: (_conn, k) => {
              if (k.label === this.currentKey()?.label) return;
              // Once a minute at most: a removed device retrying must not flood the log.
              const now = Date.now();
              if (now - this.lastGraceLog < 60_000) return;
              this.lastGraceLog = now;
              this.log(`accepted a connection with ${k.label}: a member catching up after a rotation (the allow-list still decides)`);
            },
          })
        : undefined;
    this.recompute();
    this.setKeys();
  }

  static open(opts: TrustOptions): Trust {
    return new Trust(opts);
  }

  private log(line: string): void {
    this.opts.log(line);
  }

  /** The group's id, or null when this device is in none. */
  get groupId(): string | null {
    return this.group?.id ?? null;
  }

  // ---------------------------------------------------------------- state

  /** Whether the connection gater admits this peer. */
  allows(peerId: string): boolean {
    if (this.mode === 'env') return true;
    return peerId !== this.selfId && this.view.members.has(peerId);
  }

  private recompute(): void {
    this.view = this.group ? membership(this.group.id, this.group.founder, this.group.log) : EMPTY;
  }

  private currentKey(): ProtectorKey | null {
    const g = this.group;
    return g ? { key: Buffer.from(g.secret.key, 'hex'), label: `the group secret (generation ${g.secret.gen})` } : null;
  }

  private setKeys(): void {
    if (!this.protector) return;
    const g = this.group;
    const current = this.currentKey();
    if (!g || !current) {
      this.protector.setKeys(null, []);
      return;
    }
    const now = Date.now();
    g.previous = g.previous.filter((p) => p.until > now);
    const previous = g.previous.map((p) => ({ key: Buffer.from(p.key, 'hex'), label: `the previous group secret (generation ${p.gen}, accepted until ${new Date(p.until).toISOString()})` }));
    this.protector.setKeys(current, [current, ...previous]);
  }

  private save(): void {
    if (this.group) writeGroupFile(this.file, this.group);
  }

  /** Applies the state to the network: keys, allow-list, who to dial. */
  private async apply(): Promise<void> {
    const key = this.group?.secret.key ?? null;
    this.recompute();
    this.setKeys();
    const net = this.net;
    if (!net || this.mode === 'env') return;
    const keyChanged = key !== this.appliedKey;
    this.appliedKey = key;
    await net.refreshAllowList();
    const members = new Set([...this.view.members.keys()].filter((p) => p !== this.selfId));
    for (const p of this.targeted) {
      if (!members.has(p)) {
        await net.forgetPeer(p);
        if (this.view.removed.has(p) || !this.group) this.opts.onForget?.(p);
      }
    }
    for (const p of this.view.removed) this.opts.onForget?.(p);
    for (const p of members) net.setPeerAddresses(p, this.group?.directory[p] ?? []);
    this.targeted = members;
    // New keys: what failed with the old ones (or with none) is worth dialing again at once.
    if (keyChanged) net.redialNow();
  }

  /** Runs state changes one at a time. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  async attach(net: Network): Promise<void> {
    this.net = net;
    if (this.mode === 'env') return;
    await net.handle(MEMBERS_PROTOCOL, (stream, peer) => this.onMembersStream(stream, peer));
    net.onPeerDisconnected((peer) => {
      this.told.delete(peer);
      this.unready(peer);
    });
    net.onPeerConnected((peer) => this.greet(peer));
    await this.apply();
    // Connections made before the listener was in place.
    for (const p of net.connectedPeers()) if (!this.told.has(p)) this.greet(p);
    this.pruneTimer = setInterval(() => void this.exclusive(async () => this.setKeys()), 3600_000);
    this.pruneTimer.unref?.();
    if (this.group) this.log(`in a group of ${this.view.members.size} device(s): ${[...this.view.members.values()].map((m) => m.name).join(', ')}`);
    else this.log('not paired yet: this device connects to nobody until `roam pair`');
  }

  /**
   * Resolves true once the peer's membership message arrived on this connection (so a member
   * that was offline learns of removals before any session byte moves), false if it does not
   * come in time or the peer is no member.
   */
  syncReady(peer: string): Promise<boolean> {
    if (this.mode === 'env') return Promise.resolve(true);
    if (!this.allows(peer)) return Promise.resolve(false);
    let r = this.ready.get(peer);
    if (r?.ok) return Promise.resolve(true);
    if (!r) this.ready.set(peer, (r = { ok: false, waiters: new Set() }));
    const entry = r;
    return new Promise<boolean>((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        entry.waiters.delete(done);
        resolve(ok && this.allows(peer));
      };
      const timer = setTimeout(() => done(false), READY_TIMEOUT_MS);
      timer.unref?.();
      entry.waiters.add(done);
    });
  }

  private markReady(peer: string, ok: boolean): void {
    let r = this.ready.get(peer);
    if (!r) this.ready.set(peer, (r = { ok, waiters: new Set() }));
    r.ok = ok;
    for (const w of [...r.waiters]) w(ok);
  }

  private unready(peer: string): void {
    const r = this.ready.get(peer);
    this.ready.delete(peer);
    if (r) for (const w of [...r.waiters]) w(false);
  }

  private nameOf(peerId: string): string {
    return this.view.members.get(peerId)?.name ?? peerId;
  }

  members(): Member[] {
    if (!this.group) return [];
    return [...this.view.members].map(([peerId, m]) => ({
      peerId,
      name: peerId === this.selfId ? this.opts.name : m.name,
      self: peerId === this.selfId,
      addresses: peerId === this.selfId ? (this.net?.addresses() ?? []) : (this.group?.directory[peerId] ?? []),
    }));
  }

  private requireGroupMode(what: string): void {
    if (this.mode === 'env') throw new RoamError('ROAM_CONFIG', `${what} is off while ROAM_GROUP_KEY is set: that group admits every device holding the key`);
  }

  /** Founds a group with this device as its only member (the first `roam pair` does it). */
  private async found(): Promise<GroupFile> {
    const id = hex(randomBytes(16));
    const genesis = await signEntry(this.opts.privateKey, { v: 1, group: id, op: 'add', peer: this.selfId, name: this.opts.name, by: this.selfId, at: Date.now() });
    const secret = await makeSecret(this.opts.privateKey, id, 0, hex(randomBytes(32)));
    const g: GroupFile = { v: 1, id, founder: this.selfId, secret, previous: [], log: [genesis], directory: {} };
    this.group = g;
    this.save();
    await this.apply();
    this.log('founded a new group with this device as its first member');
    return g;
  }

  // ---------------------------------------------------------------- membership gossip

  private myAddrs(): string[] {
    return this.net?.addresses() ?? [];
  }

  private pushFor(peer: string, opts: { only?: Entry[] } = {}): Push {
    const g = this.group!;
    const mine = claimOf(g.secret);
    const theirs = this.peerSecrets.get(peer);
    // The secret travels only to a member known to hold an older one (its own push said so).
    const withKey = !opts.only && theirs !== undefined && this.view.members.has(peer) && newerSecret(mine, theirs);
    const addrs: Record<string, string[]> = {};
    if (!opts.only) {
      for (const p of this.view.members.keys()) if (p !== this.selfId && p !== peer && g.directory[p]?.length) addrs[p] = g.directory[p]!;
      addrs[this.selfId] = this.myAddrs().slice(0, 16);
    }
    return { v: 1, group: g.id, log: opts.only ?? g.log, secret: mine, ...(withKey ? { key: g.secret.key } : {}), addrs };
  }

  /** Sends this device's view of the group to one peer. */
  private async push(peer: string, opts: { only?: Entry[] } = {}): Promise<void> {
    const net = this.net;
    if (!net || !this.group) return;
    const msg = this.pushFor(peer, opts);
    const stream = await net.openProtocolStream(peer, MEMBERS_PROTOCOL, AbortSignal.timeout(PUSH_TIMEOUT_MS));
    try {
      const lp = lpStream(stream, { maxDataLength: MAX_PUSH_BYTES });
      await lp.write(new TextEncoder().encode(JSON.stringify(msg)), { signal: AbortSignal.timeout(PUSH_TIMEOUT_MS) });
      await stream.close({ signal: AbortSignal.timeout(PUSH_TIMEOUT_MS) });
      if (!opts.only) this.told.add(peer);
      if (msg.key) this.log(`sent the group secret (generation ${msg.secret.gen}) to ${this.nameOf(peer)}`);
    } catch (err) {
      stream.abort(err as Error);
      throw err;
    }
  }

  /** Tells a newly connected member this device's view (retried a few times: sync waits for it). */
  private greet(peer: string, attempt = 0): void {
    if (!this.allows(peer) || this.stopped) return;
    this.push(peer).catch((err: unknown) => {
      if (attempt < 3 && this.net?.connectedPeers().includes(peer)) {
        setTimeout(() => this.greet(peer, attempt + 1), 500 * (attempt + 1)).unref?.();
      } else {
        this.log(`telling ${this.nameOf(peer)} about the group failed: ${errText(err)}`);
      }
    });
  }

  private pushAll(except?: string): void {
    if (!this.net) return;
    for (const p of this.net.connectedPeers()) {
      if (p === except || !this.allows(p)) continue;
      void this.push(p).catch((err: unknown) => this.log(`telling ${this.nameOf(p)} about the group failed: ${errText(err)}`));
    }
  }

  private async onMembersStream(stream: Stream, peer: string): Promise<void> {
    let msg: Push;
    try {
      const lp = lpStream(stream, { maxDataLength: MAX_PUSH_BYTES });
      const bytes = await lp.read({ signal: AbortSignal.timeout(PUSH_TIMEOUT_MS) });
      await stream.close().catch(() => undefined);
      const parsed = pushSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes.subarray())));
      if (!parsed.success) throw new Error('malformed membership message');
      msg = parsed.data;
    } catch (err) {
      this.log(`membership message from ${this.nameOf(peer)} refused: ${errText(err)}`);
      stream.abort(err as Error);
      return;
    }
    await this.exclusive(() => this.onPush(peer, msg));
  }

  private async onPush(peer: string, msg: Push): Promise<void> {
    const g = this.group;
    if (!g || this.stopped) return;
    if (msg.group !== g.id) {
      this.log(`${peer} speaks for another group; closing`);
      await this.net?.forgetPeer(peer);
      return;
    }
    const known = new Set(g.log.map((e) => entryId(e)));
    const fresh: Entry[] = [];
    for (const e of msg.log) {
      if (e.group !== g.id || known.has(entryId(e))) continue;
      if (!(await verifyEntry(e))) {
        this.log(`ignoring a membership entry from ${this.nameOf(peer)} with a bad signature`);
        continue;
      }
      fresh.push(e);
      known.add(entryId(e));
    }
    let changed = false;
    const before = this.view;
    if (fresh.length) {
      g.log = mergeLogs(g.log, fresh);
      this.recompute();
      changed = true;
      for (const p of this.view.members.keys()) if (!before.members.has(p)) this.log(`${this.nameOf(p)} (${p}) joined the group (added by ${this.nameOf(this.view.members.get(p)!.addedBy)})`);
      for (const p of this.view.removed) if (!before.removed.has(p)) this.log(`${before.members.get(p)?.name ?? p} (${p}) was removed from the group`);
    }
    if (!this.view.members.has(this.selfId)) {
      const by = msg.log.find((e) => e.op === 'remove' && e.peer === this.selfId)?.by;
      this.log(`this device was removed from the group${by ? ` by ${before.members.get(by)?.name ?? by}` : ''}: it forgets the group and connects to nobody; \`roam leave\` gives it a new identity to pair again`);
      await this.drop();
      return;
    }
    if (!this.view.members.has(peer)) {
      this.log(`ignoring membership from ${peer}: not a member`);
      this.markReady(peer, false);
      if (changed) {
        this.save();
        await this.apply();
        this.pushAll(peer);
      }
      return;
    }
    this.peerSecrets.set(peer, { gen: msg.secret.gen, fp: msg.secret.fp });
    if (fresh.length && this.settleSecret()) changed = true;
    const mine = { gen: g.secret.gen, fp: secretFingerprint(g.secret.key) };
    if (msg.key && secretFingerprint(msg.key) === msg.secret.fp && newerSecret(msg.secret, mine)) {
      // Only a secret a current member made and signed.
      if (this.view.members.has(msg.secret.by) && (await verifySecret(g.id, msg.secret))) {
        g.previous = [{ ...g.secret, until: Date.now() + GRACE_MS }, ...g.previous].slice(0, MAX_PREVIOUS);
        g.secret = { gen: msg.secret.gen, key: msg.key, by: msg.secret.by, sig: msg.secret.sig };
        changed = true;
        this.log(`received the group secret (generation ${msg.secret.gen}, made by ${this.nameOf(msg.secret.by)}) from ${this.nameOf(peer)}; the previous one is accepted from members for 30 days`);
      } else {
        this.log(`ignoring a group secret from ${this.nameOf(peer)}: not made and signed by a member`);
      }
    }
    for (const [p, addrs] of Object.entries(msg.addrs)) {
      if (p === this.selfId || !this.view.members.has(p)) continue;
      const valid = addrs.filter((a) => {
        try {
          multiaddr(a);
          return true;
        } catch {
          return false;
        }
      });
      // A member's own report replaces what was known; others' reports are hints added to it.
      const next = p === peer ? mergeAddrs([], valid) : mergeAddrs(g.directory[p] ?? [], valid);
      if (JSON.stringify(next) !== JSON.stringify(g.directory[p] ?? [])) {
        g.directory[p] = next;
        changed = true;
      }
    }
    if (changed) {
      this.save();
      await this.apply();
      this.pushAll(peer);
    }
    this.markReady(peer, true);
    // Answer when the peer lacks something this device has, or holds a newer secret it did not send.
    const theirs = new Set(msg.log.map((e) => entryId(e)));
    const now = { gen: g.secret.gen, fp: secretFingerprint(g.secret.key) };
    const theyLack = g.log.some((e) => !theirs.has(entryId(e))) || newerSecret(now, msg.secret);
    const weLack = !msg.key && newerSecret(msg.secret, now);
    if (theyLack || weLack || !this.told.has(peer)) {
      await this.push(peer).catch((err: unknown) => this.log(`answering ${this.nameOf(peer)} failed: ${errText(err)}`));
    }
  }

  /**
   * A secret made by a device that is no longer a member is never the current one: go back to
   * the newest still in its grace that a member made (a newer one arrives from the members).
   * Returns whether the current secret changed.
   */
  private settleSecret(): boolean {
    const g = this.group;
    if (!g) return false;
    const was = g.secret.gen;
    if (!settleSecret(g, this.view.removed, Date.now())) return false;
    this.log(`the group secret (generation ${was}) was made by a device now removed: back to generation ${g.secret.gen} until a member sends a newer one`);
    return true;
  }

  /** Forgets the group: no keys, nobody allowed, nobody dialed. */
  private async drop(): Promise<void> {
    for (const inv of this.invitations) inv.settle({ ok: false, err: trustError(TrustErrorCodes.PAIR_EXPIRED, 'this device left the group') });
    removeGroupFile(this.file);
    this.group = null;
    this.peerSecrets.clear();
    this.told.clear();
    for (const p of [...this.ready.keys()]) this.unready(p);
    await this.apply();
  }

  // ---------------------------------------------------------------- roam pair (inviter)

  /** `onRefused`: a device tried to join and was refused (the inviter's `roam pair` says why). */
  invite(timeoutMs: number, onRefused?: (r: PairRefusal) => void): Promise<Invitation> {
    this.requireGroupMode('pairing');
    return this.exclusive(async () => {
      const g = this.group ?? (await this.found());
      for (const inv of [...this.invitations].slice(0, Math.max(0, this.invitations.size - MAX_INVITATIONS + 1))) await this.closeInvitation(inv);
      const secret = randomBytes(SECRET_BYTES);
      const keys = pairKeys(secret);
      let state!: InvitationState;
      let wrongCodes = 0;
      const node = await pairingNode({
        privateKey: this.opts.privateKey,
        listen: pairingListen(this.opts.listen),
        psk: keys.psk,
        allow: (peer) => peer !== this.selfId,
        mdns: this.opts.mdns,
        log: (l) => this.log(`pairing: ${l}`),
        onWrongCode: (address) => void (wrongCodes++ < 5 && onRefused?.({ peerId: null, name: address, reason: 'wrong-code', message: wrongCodeForInviter(address) })),
      });
      const outcome = new Promise<{ peerId: string; name: string }>((resolve, reject) => {
        state = {
          status: 'open', node, timer: undefined, linger: undefined,
          settle: (r) => {
            clearTimeout(state.timer);
            if (state.status === 'open' || state.status === 'claimed') state.status = r.ok ? 'used' : 'expired';
            if (r.ok) resolve({ peerId: r.peerId, name: r.name });
            else reject(r.err);
            state.settle = () => undefined;
            clearTimeout(state.linger);
            state.linger = setTimeout(() => void this.closeInvitation(state), LINGER_MS);
            state.linger.unref?.();
          },
        };
      });
      outcome.catch(() => undefined);
      this.invitations.add(state);
      const host = {
        selfId: this.selfId,
        proofKey: keys.proof,
        closed: () => (state.status === 'used' || state.status === 'claimed' ? ('used' as const) : state.status === 'expired' ? ('expired' as const) : null),
        refuse: (joiner: string, name: string) => {
          if (!this.view.removed.has(joiner)) return null;
          const log = this.group?.log ?? [];
          const removal = removalOf(log, joiner);
          const nameOf = (p: string): string => (p === this.selfId ? this.opts.name : nameIn(log, p));
          onRefused?.({ peerId: joiner, name, reason: 'removed', message: refusalForInviter({ peerId: joiner, name }, removal, nameOf) });
          return refusalForJoiner(this.opts.name, joiner, removal, nameOf);
        },
        claim: () => {
          if (state.status !== 'open') return false;
          state.status = 'claimed';
          return true;
        },
        admit: (j: { peerId: string; name: string; addrs: string[] }) => this.exclusive(() => this.admit(j)),
        joined: (j: { peerId: string; name: string }, confirmed: boolean) => {
          if (!confirmed) this.log(`pairing: ${j.name} received the group but did not confirm it stored it`);
          state.settle({ ok: true, peerId: j.peerId, name: j.name });
        },
        log: (l: string) => this.log(l),
      };
      try {
        await node.handle(PAIR_PROTOCOL, (stream, conn) => void serveInviter(stream, conn, host), { maxInboundStreams: 2, maxOutboundStreams: 1 });
        await node.start();
      } catch (err) {
        await this.closeInvitation(state);
        throw err;
      }
      const expiresAt = Date.now() + timeoutMs;
      state.timer = setTimeout(() => {
        this.log('pairing: the code expired before a device joined');
        state.settle({ ok: false, err: trustError(TrustErrorCodes.PAIR_EXPIRED, `no device joined within ${Math.round(timeoutMs / 1000)} s: the code has expired`) });
      }, timeoutMs);
      state.timer.unref?.();
      const addresses = codeAddresses(node);
      const inviterKey = this.opts.privateKey.publicKey.raw;
      const code = encodeCode({ secret, inviterKey, addresses });
      secret.fill(0);
      this.log(`pairing: waiting for a device to join group ${g.id.slice(0, 8)} until ${new Date(expiresAt).toISOString()} (pairing listener on ${addresses.join(', ')})`);
      return {
        code,
        expiresAt,
        outcome,
        cancel: () => {
          if (state.status === 'open') {
            this.log('pairing: cancelled before a device joined');
            state.settle({ ok: false, err: trustError(TrustErrorCodes.PAIR_EXPIRED, 'pairing was cancelled') });
          }
        },
      };
    });
  }

  private async closeInvitation(state: InvitationState): Promise<void> {
    if (!this.invitations.delete(state)) return;
    clearTimeout(state.timer);
    clearTimeout(state.linger);
    state.settle({ ok: false, err: trustError(TrustErrorCodes.PAIR_EXPIRED, 'the invitation was closed') });
    clearTimeout(state.linger);
    await Promise.resolve(state.node.stop()).catch(() => undefined);
  }

  /** Adds a joiner that proved the code, and builds what it receives. */
  private async admit(j: { peerId: string; name: string; addrs: string[] }): Promise<Welcome> {
    const g = this.group;
    if (!g) throw new Error('this device left the group while pairing');
    if (!this.view.members.has(j.peerId)) {
      const entry = await signEntry(this.opts.privateKey, { v: 1, group: g.id, op: 'add', peer: j.peerId, name: j.name, by: this.selfId, at: Date.now() });
      g.log = mergeLogs(g.log, [entry]);
    }
    const addrs = j.addrs.filter((a) => {
      try {
        return peerIdFromString(multiaddr(a).getComponents().find((c) => c.name === 'p2p')?.value ?? j.peerId).toString() === j.peerId;
      } catch {
        return false;
      }
    });
    if (addrs.length) g.directory[j.peerId] = mergeAddrs([], addrs);
    this.save();
    await this.apply();
    this.log(`pairing: ${j.name} (${j.peerId}) joined the group`);
    this.pushAll(j.peerId);
    const directory: Record<string, string[]> = {};
    for (const p of this.view.members.keys()) if (p !== j.peerId && p !== this.selfId && g.directory[p]?.length) directory[p] = g.directory[p]!;
    directory[this.selfId] = this.myAddrs().slice(0, 16);
    return {
      t: 'welcome',
      group: { id: g.id, founder: g.founder },
      secret: g.secret,
      previous: g.previous,
      log: g.log,
      directory,
      inviterName: this.opts.name,
    };
  }

  // ---------------------------------------------------------------- roam pair <code> (joiner)

  async join(codeText: string, timeoutMs: number, found?: readonly string[]): Promise<{ inviter: { peerId: string; name: string }; members: Member[] }> {
    this.requireGroupMode('pairing');
    const code = decodeCode(codeText);
    const others = [...this.view.members.keys()].filter((p) => p !== this.selfId);
    if (others.length) {
      throw trustError(
        TrustErrorCodes.ALREADY_PAIRED,
        `this device is already paired (with ${others.map((p) => this.nameOf(p)).join(', ')}); run \`roam leave\` first to pair it into another group`,
      );
    }
    let inviterId: string;
    try {
      inviterId = peerIdFromPublicKey(publicKeyFromRaw(code.inviterKey)).toString();
    } catch {
      throw trustError(TrustErrorCodes.PAIR_CODE_INVALID, 'not a roam pairing code: its inviter key is not an Ed25519 public key');
    }
    if (inviterId === this.selfId) throw trustError(TrustErrorCodes.PAIR_CODE_INVALID, 'this device printed that code: run `roam pair <code>` on the other device');
    this.log(`pairing: joining the device ${inviterId}`);
    let inviterName = inviterId;
    await joinByCode(
      {
        privateKey: this.opts.privateKey,
        selfId: this.selfId,
        inviterId,
        secret: code.secret,
        addresses: code.addresses,
        name: this.opts.name,
        addrs: this.myAddrs(),
        mdns: this.opts.mdns,
        deadline: Date.now() + timeoutMs,
        log: (l) => this.log(l),
        ...(found ? { found } : {}),
      },
      (w) =>
        this.exclusive(async () => {
          inviterName = w.inviterName;
          await this.adopt(w, inviterId);
        }),
    ).catch((err: unknown) => {
      this.log(`pairing failed: ${errText(err)}`);
      throw err;
    });
    return { inviter: { peerId: inviterId, name: inviterName }, members: this.members() };
  }

  /** Checks a welcome and makes its group this device's group. */
  private async adopt(w: Welcome, inviterId: string): Promise<void> {
    const others = [...this.view.members.keys()].filter((p) => p !== this.selfId);
    if (others.length) throw trustError(TrustErrorCodes.ALREADY_PAIRED, 'this device was paired by another way meanwhile');
    const log: Entry[] = [];
    for (const e of w.log) if (e.group === w.group.id && (await verifyEntry(e))) log.push(e);
    const view = membership(w.group.id, w.group.founder, log);
    if (!view.members.has(this.selfId) || !view.members.has(inviterId)) {
      throw trustError(TrustErrorCodes.PAIR_PROOF, 'the inviter sent a membership that does not make both devices members');
    }
    if (!view.members.has(w.secret.by) || !(await verifySecret(w.group.id, claimOf(w.secret)))) {
      throw trustError(TrustErrorCodes.PAIR_PROOF, 'the inviter sent a group secret that no member made and signed');
    }
    const previous: GroupFile['previous'] = [];
    for (const p of w.previous) if (p.until > Date.now() && (await verifySecret(w.group.id, claimOf(p)))) previous.push(p);
    const directory: Record<string, string[]> = {};
    for (const [p, addrs] of Object.entries(w.directory)) if (p !== this.selfId && view.members.has(p)) directory[p] = addrs;
    const now = Date.now();
    this.group = { v: 1, id: w.group.id, founder: w.group.founder, secret: w.secret, previous: previous.filter((p) => p.until > now), log, directory };
    this.peerSecrets.clear();
    // An invitation of this device's former (lone) group must not add anyone to the new one.
    for (const inv of this.invitations) if (inv.status === 'open') inv.settle({ ok: false, err: trustError(TrustErrorCodes.PAIR_EXPIRED, 'this device joined another group') });
    this.save();
    await this.apply();
    this.log(`pairing: joined ${w.inviterName}'s group: ${[...view.members.values()].map((m) => m.name).join(', ')}`);
  }

  // ---------------------------------------------------------------- roam unpair, roam leave

  /** Finds a member by name, peer id or device id. */
  resolve(device: string, deviceIdOf: (peerId: string) => string): string {
    if (!this.group) throw trustError(TrustErrorCodes.UNKNOWN_DEVICE, 'this device is not in a group (see `roam pair`)');
    const matches = [...this.view.members].filter(([p, m]) => p === device || deviceIdOf(p) === device || (p === this.selfId ? this.opts.name : m.name) === device);
    if (matches.length > 1) throw trustError(TrustErrorCodes.UNKNOWN_DEVICE, `${matches.length} devices are named ${JSON.stringify(device)}: name it by its peer id (see \`roam devices\`)`);
    if (!matches.length) {
      if (this.view.removed.has(device)) throw trustError(TrustErrorCodes.UNKNOWN_DEVICE, `${device} was removed from the group already`);
      throw trustError(TrustErrorCodes.UNKNOWN_DEVICE, `no device ${JSON.stringify(device)} in this group (see \`roam devices\`)`);
    }
    return matches[0]![0];
  }

  unpair(device: string, deviceIdOf: (peerId: string) => string): Promise<{ peerId: string; name: string; generation: number }> {
    this.requireGroupMode('unpairing');
    return this.exclusive(async () => {
      const peer = this.resolve(device, deviceIdOf);
      if (peer === this.selfId) throw trustError(TrustErrorCodes.UNKNOWN_DEVICE, 'that is this device: use `roam leave` to take it out of the group');
      const g = this.group!;
      const name = this.nameOf(peer);
      const keep = g.log.filter((e) => e.by === peer && e.op === 'add').map((e) => entryId(e));
      const entry = await signEntry(this.opts.privateKey, { v: 1, group: g.id, op: 'remove', peer, by: this.selfId, at: Date.now(), keep });
      g.log = mergeLogs(g.log, [entry]);
      // Rotate: the removed device holds the current secret.
      g.previous = [{ ...g.secret, until: Date.now() + GRACE_MS }, ...g.previous].slice(0, MAX_PREVIOUS);
      g.secret = await makeSecret(this.opts.privateKey, g.id, g.secret.gen + 1, hex(randomBytes(32)));
      delete g.directory[peer];
      this.save();
      // Tell the removed device (only its own removal), so an honest one stops at once.
      if (this.net?.connectedPeers().includes(peer)) {
        await this.push(peer, { only: [entry] }).catch(() => undefined);
      }
      await this.apply();
      this.pushAll();
      this.log(`removed ${name} (${peer}) from the group; the group secret is now generation ${g.secret.gen} (members still accept the previous one from members for 30 days)`);
      return { peerId: peer, name, generation: g.secret.gen };
    });
  }

  leave(): Promise<{ left: boolean; members: number }> {
    this.requireGroupMode('leaving');
    return this.exclusive(async () => {
      const g = this.group;
      if (!g) return { left: false, members: 0 };
      const others = [...this.view.members.keys()].filter((p) => p !== this.selfId);
      const keep = g.log.filter((e) => e.by === this.selfId && e.op === 'add').map((e) => entryId(e));
      const entry = await signEntry(this.opts.privateKey, { v: 1, group: g.id, op: 'remove', peer: this.selfId, by: this.selfId, at: Date.now(), keep });
      g.log = mergeLogs(g.log, [entry]);
      const connected = this.net?.connectedPeers().filter((p) => others.includes(p)) ?? [];
      await Promise.all(connected.map((p) => this.push(p).catch(() => undefined)));
      this.log(`left the group (told ${connected.length} of ${others.length} other member(s) now; the others learn it from them)`);
      await this.drop();
      return { left: true, members: others.length };
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pruneTimer);
    await Promise.all([...this.invitations].map((inv) => this.closeInvitation(inv)));
  }
}
