/**
 * Who this daemon trusts: the group it belongs to, the members, the keys of its private network,
 * and the operations that change them (pair, unpair, leave). The `/roam/members/1.0.0` gossip that
 * keeps every member's view the same is in gossip.ts; invitations and joins (`roam pair`) in
 * invitations.ts. See docs/TRUST.md for the design.
 *
 * Modes:
 * - `env` (ROAM_GROUP_KEY set, automation and tests): @libp2p/pnet with that key, anyone holding
 *   it is admitted, no member list, no pairing.
 * - `group`: the group protector with the group's secrets; the allow-list is the member set. With
 *   no group.json the device is alone: it admits nobody and dials nobody, and its first
 *   `roam pair` founds a group with itself as the first member.
 */
import { randomBytes } from 'node:crypto';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { RoamError } from '@roam/core';
import { toHex } from '@roam/core/bytes';
import type { Network } from '../daemon/net/index.js';
import { approvals, type Approvals } from './approvals.js';
import { ackDevice, approvalStatus, setApproval } from './approve-ops.js';
import { TrustErrorCodes, trustError } from './errors.js';
import { MembershipGossip } from './gossip.js';
import { GRACE_MS, MAX_PREVIOUS, groupFilePath, makeSecret, newestGen, readGroupFile, removeGroupFile, writeGroupFile, type GroupFile } from './group.js';
import { Invitations, type Invitation } from './invitations.js';
import { entryId, membership, mergeLogs, safeName, signEntry, type Membership } from './members.js';
import { catchUpProtector, type GroupProtector, type ProtectorKey } from './protector.js';
import { PairingRelays } from './relay-pairing.js';
import type { PairRefusal } from './refusal.js';
import type { Member, TrustState } from './trust-state.js';

export type { Invitation } from './invitations.js';
export type { Member } from './trust-state.js';

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
  /** A relay-only device (`roamd --relay`): it joins with the role 'relay' and adds or removes nobody. */
  relay?: boolean;
}

const EMPTY: Membership = { members: new Map(), removed: new Set() };
const NO_APPROVALS: Approvals = { approve: { on: false, by: null, at: null }, standing: new Map() };

export class Trust {
  readonly mode: 'env' | 'group';
  readonly protector: GroupProtector | undefined;
  readonly selfId: string;
  private readonly file: string;
  private group: GroupFile | null;
  private view: Membership = EMPTY;
  private standing: Approvals = NO_APPROVALS;
  /** Members held back for approval when the state was last applied (to resync the approved). */
  private heldBack = new Set<string>();
  private readonly toldHeld = new Set<string>();
  private net: Network | null = null;
  private readonly gossip: MembershipGossip;
  private readonly invitations: Invitations;
  /** A relay-only device's one-time pairing listeners (relay-pairing.ts). */
  private pairingRelays: PairingRelays | null = null;
  private readonly state: TrustState;
  /** Peers this device dials as members (to forget those that leave the set). */
  private targeted = new Set<string>();
  /** The group secret the network was last given (to notice a change). */
  private appliedKey: string | null = null;
  private tail: Promise<unknown> = Promise.resolve();
  private pruneTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  private readonly opts: TrustOptions;

  private constructor(opts: TrustOptions) {
    this.opts = { ...opts, name: safeName(opts.name) };
    this.mode = opts.envKey ? 'env' : 'group';
    this.selfId = peerIdFromPrivateKey(opts.privateKey).toString();
    this.file = groupFilePath(opts.configDir);
    this.group = this.mode === 'group' ? readGroupFile(this.file) : null;
    this.protector =
      this.mode === 'group'
        ? catchUpProtector((l) => this.log(l), () => this.currentKey()?.label)
        : undefined;
    this.recompute();
    this.setKeys();
    const self = this;
    const state: TrustState = (this.state = {
      selfId: this.selfId,
      name: this.opts.name,
      privateKey: this.opts.privateKey,
      mdns: this.opts.mdns,
      listen: this.opts.listen,
      role: this.opts.relay ? 'relay' : 'member',
      get group() {
        return self.group;
      },
      set group(g) {
        self.group = g;
      },
      get view() {
        return self.view;
      },
      get net() {
        return self.net;
      },
      stopped: () => this.stopped,
      log: (line) => this.log(line),
      allows: (peerId) => this.allows(peerId),
      nameOf: (peerId) => this.nameOf(peerId),
      myAddrs: () => this.net?.addresses() ?? [],
      members: () => this.members(),
      approvals: () => this.standing,
      recompute: () => this.recompute(),
      save: () => this.save(),
      apply: () => this.apply(),
      exclusive: (fn) => this.exclusive(fn),
      drop: () => this.drop(),
    });
    this.gossip = new MembershipGossip(state);
    this.invitations = new Invitations(state, this.gossip);
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

  /** A member's signed role ('member', 'relay', or a later version's); undefined: not a member. */
  roleOf(peerId: string): string | undefined {
    return this.view.members.get(peerId)?.role;
  }

  /** A member's name from its signed add (a relay never syncs, so never tells its name otherwise). */
  memberName(peerId: string): string | undefined {
    return this.view.members.get(peerId)?.name;
  }

  /** A relay (by this daemon's mode or its signed role) signs nothing that counts: it may not add or remove devices. */
  private requireMember(what: string): void {
    const role = this.opts.relay ? 'relay' : this.group ? (this.roleOf(this.selfId) ?? 'member') : 'member';
    if (role !== 'member') throw new RoamError('ROAM_CONFIG', `${what} is not for a relay-only device (its role in the group is ${role}): run it on a member`);
  }

  private recompute(): void {
    this.view = this.group ? membership(this.group.id, this.group.founder, this.group.log) : EMPTY;
    this.standing = this.group ? approvals(this.group.id, this.group.log, this.view, this.selfId) : NO_APPROVALS;
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
    for (const p of g.previous) p.until = Math.min(p.until, now + GRACE_MS); // a file from a build with a longer grace
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
    // Approved since: drop the refused connection, so sync starts now rather than after a backoff.
    const held = new Set([...this.standing.standing].filter(([, s]) => s.pending).map(([p]) => p));
    const approved = [...this.heldBack].filter((p) => members.has(p) && !held.has(p));
    for (const p of approved) {
      this.toldHeld.delete(p);
      await net.forgetPeer(p);
    }
    this.heldBack = held;
    for (const p of members) net.setPeerAddresses(p, this.group?.directory[p] ?? []);
    this.targeted = members;
    if (approved.length) net.redialNow();
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
    await this.gossip.listen(net);
    if (this.opts.relay) {
      this.pairingRelays = new PairingRelays({ listen: this.opts.listen, mayAsk: (p) => this.roleOf(p) === 'member', log: (l) => this.log(l) });
      await this.pairingRelays.start(net);
    }
    await this.apply();
    // Connections made before the listener was in place.
    this.gossip.greetConnected(net);
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
    if (this.standing.standing.get(peer)?.pending) {
      if (this.toldHeld.has(peer)) return Promise.resolve(false);
      this.toldHeld.add(peer); // said once (sync retries with a backoff)
      this.log(`not syncing with ${this.nameOf(peer)}: it waits for approval (trust.approve is on; \`roam devices --approve ${this.nameOf(peer)}\` on a member other than the one that added it)`);
      return Promise.resolve(false);
    }
    return this.gossip.syncReady(peer);
  }

  /** Who added each member, which are new here, which wait for approval, and the setting. */
  approvals(): Approvals {
    return this.standing;
  }

  /** Acknowledges (with `trust.approve` on: approves) a device another member added, for the whole group (approve-ops.ts). */
  ack(device: string, deviceIdOf: (peerId: string) => string): Promise<{ peerId: string; name: string; pending: boolean }> {
    this.requireGroupMode('acknowledging devices');
    return this.exclusive(() => ackDevice(this.state, this.gossip, this.resolve(device, deviceIdOf)));
  }

  /** New devices and approvals, for `roam status`. */
  approvalStatus(): ReturnType<typeof approvalStatus> {
    return approvalStatus(this.state);
  }

  /** Turns the group's signed `trust.approve` setting on or off (approve-ops.ts). */
  setApprove(on: boolean): Promise<{ approve: boolean }> {
    this.requireGroupMode('trust.approve');
    return this.exclusive(() => setApproval(this.state, this.gossip, on));
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

  // ---------------------------------------------------------------- roam pair, roam pair <code>

  /** `onRefused`: a device tried to join and was refused (the inviter's `roam pair` says why). */
  invite(timeoutMs: number, onRefused?: (r: PairRefusal) => void, short = false): Promise<Invitation> {
    this.requireGroupMode('pairing');
    this.requireMember('inviting a device (`roam pair`)');
    return this.invitations.invite(timeoutMs, onRefused, short);
  }

  /** `peers`: where to look for a short code's inviter besides mDNS (`--peer`). */
  async join(codeText: string, timeoutMs: number, found?: readonly string[], peers?: readonly string[]): Promise<{ inviter: { peerId: string; name: string }; members: Member[] }> {
    this.requireGroupMode('pairing');
    return await this.invitations.join(codeText, timeoutMs, found, peers);
  }

  /** Forgets the group: no keys, nobody allowed, nobody dialed. */
  private async drop(): Promise<void> {
    this.invitations.settleAll('this device left the group');
    removeGroupFile(this.file);
    this.group = null;
    this.gossip.reset();
    await this.apply();
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
    this.requireMember('removing a device (`roam unpair`)');
    return this.exclusive(async () => {
      const peer = this.resolve(device, deviceIdOf);
      if (peer === this.selfId) throw trustError(TrustErrorCodes.UNKNOWN_DEVICE, 'that is this device: use `roam leave` to take it out of the group');
      const g = this.group!;
      const name = this.nameOf(peer);
      const keep = g.log.filter((e) => e.by === peer && e.op === 'add').map((e) => entryId(e));
      const entry = await signEntry(this.opts.privateKey, { group: g.id, op: 'remove', peer, by: this.selfId, at: Date.now(), keep, attrs: { secretGen: newestGen(g) } });
      g.log = mergeLogs(g.log, [entry]);
      // Rotate: the removed device holds the current secret.
      g.previous = [{ ...g.secret, until: Date.now() + GRACE_MS }, ...g.previous].slice(0, MAX_PREVIOUS);
      g.secret = await makeSecret(this.opts.privateKey, g.id, g.secret.gen + 1, toHex(randomBytes(32)));
      delete g.directory[peer];
      this.save();
      // Tell the removed device (only its own removal), so an honest one stops at once.
      if (this.net?.connectedPeers().includes(peer)) {
        await this.gossip.push(peer, { only: [entry] }).catch(() => undefined);
      }
      await this.apply();
      this.gossip.pushAll();
      this.log(`removed ${name} (${peer}) from the group; the group secret is now generation ${g.secret.gen} (members accept the previous one from members until every member is on the new one, 7 days at most)`);
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
      // The newest secret this device knows: the first remaining member that learns of the leave
      // rotates past it (gossip.ts), since this device can no longer be trusted with it.
      const entry = await signEntry(this.opts.privateKey, { group: g.id, op: 'remove', peer: this.selfId, by: this.selfId, at: Date.now(), keep, attrs: { secretGen: newestGen(g) } });
      g.log = mergeLogs(g.log, [entry]);
      const connected = this.net?.connectedPeers().filter((p) => others.includes(p)) ?? [];
      await Promise.all(connected.map((p) => this.gossip.push(p).catch(() => undefined)));
      this.log(`left the group (told ${connected.length} of ${others.length} other member(s) now; the others learn it from them)`);
      await this.drop();
      return { left: true, members: others.length };
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pruneTimer);
    await this.invitations.closeAll();
    await this.pairingRelays?.stop();
  }
}
