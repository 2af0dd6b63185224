/**
 * The `/roam/members/2.0.0` gossip that keeps every member's view of the group the same: each
 * member pushes its membership log, its secret's claim and the members' addresses to a member
 * that connects, and to all when something changed; the current secret travels only to a member
 * that said it holds an older one. Sync with a member waits for its push on the connection.
 * Protocol 2 (entries v2, see entries.ts); a member still on protocol 1 is told to upgrade
 * (gossip-legacy.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Stream } from '@libp2p/interface';
import { lpStream } from '@libp2p/utils';
import { multiaddr } from '@multiformats/multiaddr';
import { toHex } from '@roam/core/bytes';
import { z } from 'zod';
import type { Network } from '../daemon/net/index.js';
import { GRACE_MS, MAX_PREVIOUS, claimOf, directorySchema, knownToRemoved, makeSecret, mergeAddrs, newerSecret, newestGen, retireGrace, secretClaimSchema, secretFingerprint, settleSecret, verifySecret } from './group.js';
import { APPROVE_SETTING } from './approvals.js';
import { LEGACY_MEMBERS_PROTOCOL, LegacyMembers } from './gossip-legacy.js';
import { MAX_LOG_ENTRIES, entryId, entrySchema, mergeLogs, verifyEntry, type Entry } from './members.js';
import { errText, type TrustState } from './trust-state.js';

import { MEMBERS_PROTOCOL } from './protocols.js';

export { MEMBERS_PROTOCOL };
const MAX_PUSH_BYTES = 1024 * 1024;
const PUSH_TIMEOUT_MS = 10_000;
/** How long sync with a newly connected member waits for its membership message. */
const READY_TIMEOUT_MS = 10_000;

const pushSchema = z.strictObject({
  v: z.literal(2),
  group: z.string().regex(/^[0-9a-f]{32}$/),
  log: z.array(entrySchema).max(MAX_LOG_ENTRIES),
  secret: secretClaimSchema,
  /** The current secret: only to members that said they hold an older one. */
  key: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  addrs: directorySchema,
});
type Push = z.infer<typeof pushSchema>;

export class MembershipGossip {
  /** What each member said it holds, from its last push. */
  private readonly peerSecrets = new Map<string, { gen: number; fp: string }>();
  /** Members this device told its view on the current connection. */
  private readonly told = new Set<string>();
  /** Members whose membership message arrived on the current connection (sync waits for it). */
  private readonly ready = new Map<string, { ok: boolean; waiters: Set<(ok: boolean) => void> }>();

  private readonly legacy: LegacyMembers;

  constructor(private readonly t: TrustState) {
    this.legacy = new LegacyMembers(t, { ready: (peer) => this.markReady(peer, this.t.allows(peer)) });
  }

  /** Serves the members protocol and greets each member that connects. */
  async listen(net: Network): Promise<void> {
    await net.handle(MEMBERS_PROTOCOL, (stream, peer) => this.onMembersStream(stream, peer));
    await net.handle(LEGACY_MEMBERS_PROTOCOL, (stream, peer) => this.legacy.onStream(stream, peer));
    net.onPeerDisconnected((peer) => {
      this.told.delete(peer);
      this.legacy.forget(peer);
      this.unready(peer);
    });
    net.onPeerConnected((peer) => this.greet(peer));
  }

  /** Greets the members connected before the listener was in place. */
  greetConnected(net: Network): void {
    for (const p of net.connectedPeers()) if (!this.told.has(p)) this.greet(p);
  }

  /** Forgets what each member said it holds (a new group). */
  forgetSecrets(): void {
    this.peerSecrets.clear();
  }

  /** Forgets every member's state (this device left the group). */
  reset(): void {
    this.peerSecrets.clear();
    this.told.clear();
    this.legacy.reset();
    for (const p of [...this.ready.keys()]) this.unready(p);
  }

  /**
   * Resolves true once the peer's membership message arrived on this connection (so a member
   * that was offline learns of removals before any session byte moves), false if it does not
   * come in time or the peer is no member.
   */
  syncReady(peer: string): Promise<boolean> {
    if (!this.t.allows(peer)) return Promise.resolve(false);
    let r = this.ready.get(peer);
    if (r?.ok) return Promise.resolve(true);
    if (!r) this.ready.set(peer, (r = { ok: false, waiters: new Set() }));
    const entry = r;
    return new Promise<boolean>((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        entry.waiters.delete(done);
        resolve(ok && this.t.allows(peer));
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

  private pushFor(peer: string, opts: { only?: Entry[] } = {}): Push {
    const g = this.t.group!;
    const mine = claimOf(g.secret);
    const theirs = this.peerSecrets.get(peer);
    // The secret travels only to a member known to hold an older one (its own push said so).
    const withKey = !opts.only && theirs !== undefined && this.t.view.members.has(peer) && newerSecret(mine, theirs);
    const addrs: Record<string, string[]> = {};
    if (!opts.only) {
      for (const p of this.t.view.members.keys()) if (p !== this.t.selfId && p !== peer && g.directory[p]?.length) addrs[p] = g.directory[p]!;
      addrs[this.t.selfId] = this.t.myAddrs().slice(0, 16);
    }
    return { v: 2, group: g.id, log: opts.only ?? g.log, secret: mine, ...(withKey ? { key: g.secret.key } : {}), addrs };
  }

  /** Sends this device's view of the group to one peer. */
  async push(peer: string, opts: { only?: Entry[] } = {}): Promise<void> {
    const net = this.t.net;
    if (!net || !this.t.group) return;
    const msg = this.pushFor(peer, opts);
    let stream: Stream;
    try {
      stream = await net.openProtocolStream(peer, MEMBERS_PROTOCOL, AbortSignal.timeout(PUSH_TIMEOUT_MS));
    } catch (err) {
      // An older roam: it speaks protocol 1 only.
      if ((err as Error).name !== 'UnsupportedProtocolError') throw err;
      this.legacy.warn(peer);
      return this.legacy.push(peer);
    }
    try {
      const lp = lpStream(stream, { maxDataLength: MAX_PUSH_BYTES });
      await lp.write(new TextEncoder().encode(JSON.stringify(msg)), { signal: AbortSignal.timeout(PUSH_TIMEOUT_MS) });
      await stream.close({ signal: AbortSignal.timeout(PUSH_TIMEOUT_MS) });
      if (!opts.only) this.told.add(peer);
      if (msg.key) this.t.log(`sent the group secret (generation ${msg.secret.gen}) to ${this.t.nameOf(peer)}`);
    } catch (err) {
      stream.abort(err as Error);
      throw err;
    }
  }

  /** Tells a newly connected member this device's view (retried a few times: sync waits for it). */
  private greet(peer: string, attempt = 0): void {
    if (!this.t.allows(peer) || this.t.stopped()) return;
    this.push(peer).catch((err: unknown) => {
      if (attempt < 3 && this.t.net?.connectedPeers().includes(peer)) {
        setTimeout(() => this.greet(peer, attempt + 1), 500 * (attempt + 1)).unref?.();
      } else {
        this.t.log(`telling ${this.t.nameOf(peer)} about the group failed: ${errText(err)}`);
      }
    });
  }

  pushAll(except?: string): void {
    if (!this.t.net) return;
    for (const p of this.t.net.connectedPeers()) {
      if (p === except || !this.t.allows(p)) continue;
      void this.push(p).catch((err: unknown) => this.t.log(`telling ${this.t.nameOf(p)} about the group failed: ${errText(err)}`));
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
      this.t.log(`membership message from ${this.t.nameOf(peer)} refused: ${errText(err)}`);
      stream.abort(err as Error);
      return;
    }
    await this.t.exclusive(() => this.onPush(peer, msg));
  }

  private async onPush(peer: string, msg: Push): Promise<void> {
    const g = this.t.group;
    if (!g || this.t.stopped()) return;
    if (msg.group !== g.id) {
      this.t.log(`${peer} speaks for another group; closing`);
      await this.t.net?.forgetPeer(peer);
      return;
    }
    const known = new Set(g.log.map((e) => entryId(e)));
    const fresh: Entry[] = [];
    for (const e of msg.log) {
      if (e.group !== g.id || known.has(entryId(e))) continue;
      if (!(await verifyEntry(e))) {
        this.t.log(`ignoring a membership entry from ${this.t.nameOf(peer)} with a bad signature`);
        continue;
      }
      fresh.push(e);
      known.add(entryId(e));
    }
    let changed = false;
    const before = this.t.view;
    const approveBefore = this.t.approvals().approve;
    if (fresh.length) {
      g.log = mergeLogs(g.log, fresh);
      this.t.recompute();
      changed = true;
      this.logApprovals(fresh, approveBefore);
      for (const p of this.t.view.members.keys()) if (!before.members.has(p)) this.t.log(`${this.t.nameOf(p)} (${p}) joined the group (added by ${this.t.nameOf(this.t.view.members.get(p)!.addedBy)})`);
      for (const p of this.t.view.removed) if (!before.removed.has(p)) this.t.log(`${before.members.get(p)?.name ?? p} (${p}) was removed from the group`);
    }
    if (!this.t.view.members.has(this.t.selfId)) {
      const by = msg.log.find((e) => e.op === 'remove' && e.peer === this.t.selfId)?.by;
      this.t.log(`this device was removed from the group${by ? ` by ${before.members.get(by)?.name ?? by}` : ''}: it forgets the group and connects to nobody; \`roam leave\` gives it a new identity to pair again`);
      await this.t.drop();
      return;
    }
    if (fresh.length && this.settleSecret()) changed = true;
    if (!this.t.view.members.has(peer)) {
      this.t.log(`ignoring membership from ${peer}: not a member`);
      this.markReady(peer, false);
      // A device telling of its own leave: it holds the secret, rotate past it.
      if (await this.rotateAfterRemoves(fresh, -1)) changed = true;
      if (changed) {
        this.t.save();
        await this.t.apply();
        this.pushAll(peer);
      }
      return;
    }
    this.peerSecrets.set(peer, { gen: msg.secret.gen, fp: msg.secret.fp });
    const mine = { gen: g.secret.gen, fp: secretFingerprint(g.secret.key) };
    let adopted = false;
    if (msg.key && secretFingerprint(msg.key) === msg.secret.fp && newerSecret(msg.secret, mine)) {
      // Only a secret a current member made and signed.
      if (this.t.view.members.has(msg.secret.by) && (await verifySecret(g.id, msg.secret))) {
        g.previous = [{ ...g.secret, until: Date.now() + GRACE_MS }, ...g.previous].slice(0, MAX_PREVIOUS);
        g.secret = { gen: msg.secret.gen, key: msg.key, by: msg.secret.by, sig: msg.secret.sig };
        changed = adopted = true;
        this.t.log(`received the group secret (generation ${msg.secret.gen}, made by ${this.t.nameOf(msg.secret.by)}) from ${this.t.nameOf(peer)}; the previous one is accepted from members until every member is on the new one (7 days at most)`);
      } else {
        this.t.log(`ignoring a group secret from ${this.t.nameOf(peer)}: not made and signed by a member`);
      }
    }
    // A removal this member told of and did not rotate past yet (it said which secret it holds).
    if (await this.rotateAfterRemoves(fresh, msg.secret.gen)) changed = true;
    const seen = new Map([...this.peerSecrets].map(([p, c]) => [p, c.fp] as const));
    if (retireGrace(g, this.t.view.members.keys(), this.t.selfId, seen, Date.now())) {
      changed = true;
      if (!g.previous.length) this.t.log('every member is on the current group secret: the replaced ones are accepted no more');
    }
    for (const [p, addrs] of Object.entries(msg.addrs)) {
      if (p === this.t.selfId || !this.t.view.members.has(p)) continue;
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
      this.t.save();
      await this.t.apply();
      this.pushAll(peer);
    }
    this.markReady(peer, true);
    // Answer when the peer lacks something this device has, or holds a newer secret it did not send.
    const theirs = new Set(msg.log.map((e) => entryId(e)));
    const now = { gen: g.secret.gen, fp: secretFingerprint(g.secret.key) };
    const theyLack = g.log.some((e) => !theirs.has(entryId(e))) || newerSecret(now, msg.secret);
    const weLack = !msg.key && newerSecret(msg.secret, now);
    // Adopted its secret: say so, so it can stop accepting the replaced ones (retireGrace).
    if (theyLack || weLack || adopted || !this.told.has(peer)) {
      await this.push(peer).catch((err: unknown) => this.t.log(`answering ${this.t.nameOf(peer)} failed: ${errText(err)}`));
    }
  }

  /** Says what fresh `ack` and `set` entries changed (approvals.ts). */
  private logApprovals(fresh: readonly Entry[], before: { on: boolean; by: string | null }): void {
    const now = this.t.approvals();
    if (now.approve.on !== before.on || now.approve.by !== before.by) this.t.log(`${APPROVE_SETTING} is now ${now.approve.on ? 'on' : 'off'} (set by ${this.t.nameOf(now.approve.by ?? '')})`);
    for (const e of fresh) {
      if (e.op === 'ack' && now.standing.get(e.peer)?.ackedBy.includes(e.by)) this.t.log(`${this.t.nameOf(e.peer)} (${e.peer}), added by ${this.t.nameOf(now.standing.get(e.peer)!.addedBy)}, was acknowledged by ${this.t.nameOf(e.by)}`);
    }
    for (const [p, s] of now.standing) if (s.pending && !before.on && now.approve.on) this.t.log(`${this.t.nameOf(p)} waits for approval`);
  }

  /**
   * A device that left, or was removed, knows every secret up to the generation its remove names
   * (`knownToRemoved`): the first remaining member that learns of it, while no newer secret is
   * about, makes one past it. Members that learn at once each make one of the same generation;
   * the gossip keeps the one with the largest fingerprint (`newerSecret`), so all converge.
   * `claimed`: the generation the telling member said it holds (-1: not a member). Relays make
   * no secrets.
   */
  private async rotateAfterRemoves(fresh: readonly Entry[], claimed: number): Promise<boolean> {
    const g = this.t.group;
    if (!g || this.t.view.members.get(this.t.selfId)?.role !== 'member') return false;
    let known = -1;
    let who = '';
    for (const e of fresh) {
      if (e.op !== 'remove' || e.peer === this.t.selfId || !this.t.view.removed.has(e.peer)) continue;
      const gen = knownToRemoved(e, newestGen(g));
      if (gen > known) [known, who] = [gen, e.peer];
    }
    if (known < 0 || Math.max(g.secret.gen, claimed) > known) return false;
    g.previous = [{ ...g.secret, until: Date.now() + GRACE_MS }, ...g.previous].slice(0, MAX_PREVIOUS);
    g.secret = await makeSecret(this.t.privateKey, g.id, known + 1, toHex(randomBytes(32)));
    this.t.log(`${who} left or was removed holding the group secret up to generation ${known}: replaced it (generation ${g.secret.gen})`);
    return true;
  }

  /**
   * A secret made by a device that is no longer a member is never the current one: go back to
   * the newest still in its grace that a member made (a newer one arrives from the members).
   * Returns whether the current secret changed.
   */
  private settleSecret(): boolean {
    const g = this.t.group;
    if (!g) return false;
    const was = g.secret.gen;
    if (!settleSecret(g, this.t.view.removed, Date.now())) return false;
    this.t.log(`the group secret (generation ${was}) was made by a device now removed: back to generation ${g.secret.gen} until a member sends a newer one`);
    return true;
  }
}
