/**
 * roamd's network: a lean libp2p node (node.ts: TCP, Noise, yamux, pnet with a group key, mDNS,
 * circuit relay v2 in relay.ts) that keeps one sync stream per peer (peer-stream.ts) and hands it
 * to the engine as a `Link`, and keeps dialing its peers (dialer.ts).
 *
 * - Event handlers never throw: failures are logged and the daemon carries on.
 * - Access: `groupKey` keys a pnet (ROAM_GROUP_KEY); `protector` (pairing/protector.ts) replaces
 *   it; the gater applies the `allow`-list; `refreshAllowList()` closes the refused at once.
 */
import '../../polyfill.js';
import type { Connection, Libp2p, PeerId, PeerInfo, Stream } from '@libp2p/interface';
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id';
import type { Multiaddr } from '@multiformats/multiaddr';
import { PROTOCOL_ID } from '@roam/core';
import { Dialer } from './dialer.js';
import { dropRelayedOnDirect } from './direct.js';
import { errText } from './errors.js';
import { READ_BUFFER_LIMIT, STREAM_WINDOW } from './frames.js';
import { buildNode } from './node.js';
import { deviceIdOf, parseTarget, withPeer } from './peer-ids.js';
import { OPEN_STREAM_TIMEOUT_MS, SyncStreams, type PeerState, type SyncSink } from './peer-stream.js';
import { PeerTable, type NetPeer } from './peers.js';
import { TrafficCounters } from './traffic.js';
import { RelayRoles } from './relay.js';
import type { NetworkOptions } from './options.js';
export type { SyncSink } from './peer-stream.js';
export type { NetPeer } from './peers.js';

export type { NetworkOptions };


const DEFAULT_DIAL_TIMEOUT_MS = 10_000;
/**
 * libp2p's connection monitor pings every peer every 10 s and aborts the connection when a ping
 * takes longer than an adaptive timeout, 5 s at least by default. A device busy with a large sync
 * (or a laptop swapping) stalls that long, and the connection was dropped mid-transfer. 15 s
 * tolerates a 14 s stall; a peer that vanished without closing is still noticed within 25 s.
 */
const PING_TIMEOUT_MIN_MS = 15_000;
const MDNS_SERVICE_TAG = '_roam._udp.local';

export class Network {
  readonly peerId: string;
  readonly deviceId: string;
  private readonly node: Libp2p;
  private readonly log: (line: string) => void;
  private readonly allowPeer: (peerId: string) => boolean;
  private readonly connectListeners = new Set<(peerId: string) => void>();
  private readonly disconnectListeners = new Set<(peerId: string) => void>();
  /** Peers whose refusal was logged lately (peer id → time), so a retrying peer does not flood the log. */
  private readonly refusedLogged = new Map<string, number>();
  private readonly peerTable: PeerTable;
  private readonly roles: RelayRoles;
  private readonly dialer: Dialer;
  private readonly streams: SyncStreams;
  readonly traffic = new TrafficCounters(); // status: traffic.peers
  private stopped = false;

  private constructor(node: Libp2p, opts: NetworkOptions, allow: (peerId: string) => boolean) {
    this.node = node;
    this.peerId = node.peerId.toString();
    this.deviceId = deviceIdOf(this.peerId);
    this.allowPeer = allow;
    this.roles = new RelayRoles(node, opts.signedRole);
    const table = (this.peerTable = new PeerTable(node, this.peerId, this.deviceId, { server: opts.relay === 'server', roles: this.roles }));
    this.log = (line) => {
      try {
        opts.log(line);
      } catch {
        // a broken logger must not break the network
      }
    };
    const shared = {
      stopped: () => this.stopped,
      allowPeer: (peerId: string) => this.allowPeer(peerId),
      state: (peer: PeerId | string) => table.state(peer),
      isConnected: (ps: PeerState) => table.isConnected(ps),
      log: (line: string) => this.log(line),
      guard: (what: string, fn: () => unknown) => this.guard(what, fn),
      traffic: this.traffic,
    };
    this.dialer = new Dialer({
      ...shared,
      node,
      selfId: this.peerId,
      dialTimeoutMs: opts.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS,
      grouped: opts.groupKey !== undefined || opts.protector !== undefined,
      known: (peerId) => table.known(peerId),
      isDirect: (ps) => table.isDirect(ps),
    });
    this.streams = new SyncStreams({
      ...shared,
      sink: opts.sink,
      syncReady: opts.syncReady,
      isPaused: (ps) => table.isPaused(ps),
      openConnections: (ps) => table.openConnections(ps),
      weOpen: (ps) => table.weOpen(ps),
    });
  }

  static async create(opts: NetworkOptions): Promise<Network> {
    const self = peerIdFromPrivateKey(opts.privateKey).toString();
    const allow = (peerId: string): boolean => {
      if (peerId === self) return true;
      try {
        return opts.allow ? opts.allow(peerId) : true;
      } catch (err) {
        try {
          opts.log(`the allow-list check for ${peerId} failed, refusing it: ${errText(err)}`);
        } catch {
          // nothing more to do
        }
        return false;
      }
    };
    const deny = (peer: PeerId): boolean => !allow(peer.toString());
    let net: Network | undefined;
    const denyInbound = (peer: PeerId): boolean => {
      const denied = deny(peer);
      if (denied) net?.logRefusal(peer.toString());
      return denied;
    };
    // A malformed address or peer id throws here, before anything starts: a usage error.
    const targets = opts.peers.map((addr) => ({ addr, ...parseTarget(addr) }));
    let onMdnsPeer: (info: PeerInfo) => void = () => undefined;
    const node = await buildNode({
      privateKey: opts.privateKey,
      listen: opts.listen,
      ...(opts.groupKey ? { groupKey: opts.groupKey } : opts.protector ? { protector: opts.protector } : {}),
      deny,
      denyInbound,
      ...(opts.mdns ? { mdns: { serviceTag: MDNS_SERVICE_TAG, onPeer: (info: PeerInfo) => onMdnsPeer(info) } } : {}),
      dialTimeoutMs: opts.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS,
      streamWindow: { maxStreamWindowSize: STREAM_WINDOW, maxReadBufferLength: READ_BUFFER_LIMIT },
      pingTimeoutMinMs: PING_TIMEOUT_MIN_MS,
      ...(opts.onObservedAddr ? { onObservedAddr: opts.onObservedAddr } : {}),
      ...(opts.relay ? { relay: opts.relay } : {}),
      ...(opts.offerRelay ? { offerRelay: opts.offerRelay } : {}),
      ...(opts.upnp ? { upnp: true } : {}),
    });

    net = new Network(node, opts, allow);
    const created = net;
    onMdnsPeer = (info) => created.guard('mDNS discovery', () => created.dialer.onDiscovery(info));
    try {
      await created.start(targets, opts.relay !== 'server');
    } catch (err) {
      created.stopped = true;
      try {
        await node.stop();
      } catch {
        // the start error is the one to report
      }
      throw err;
    }
    return created;
  }

  /** `serveSync` false (a relay-only device): the sync protocol is not served, so every sync stream is refused. */
  private async start(targets: Array<{ addr: string; ma: Multiaddr; peerId: string | null }>, serveSync: boolean): Promise<void> {
    const node = this.node;
    const opts = { maxInboundStreams: 8, maxOutboundStreams: 8 };
    if (serveSync) await node.handle(PROTOCOL_ID, (stream, conn) => this.guard('inbound stream', () => this.refuseRelay(stream, conn) || this.streams.onInboundStream(stream, conn)), opts);
    node.addEventListener('connection:open', (evt) => this.guard('connection:open', () => this.onConnectionOpen(evt.detail)));
    node.addEventListener('peer:connect', (evt) => this.guard('peer:connect', () => this.onPeerConnect(evt.detail)));
    node.addEventListener('peer:disconnect', (evt) => this.guard('peer:disconnect', () => this.onPeerDisconnect(evt.detail)));
    await node.start();
    for (const conn of node.getConnections()) this.onConnectionOpen(conn);
    for (const t of targets) this.dialer.addTarget(t.addr, t.ma, t.peerId);
  }

  // ---------------------------------------------------------------- public API

  /** Adds a multiaddr to keep dialing, as if it had been in `peers`; dials it at once. */
  addPeer(addr: string): void {
    this.dialer.addPeer(addr);
  }

  /**
   * The addresses to keep dialing a member at (known from the group: `source` names whence),
   * replacing those the same source gave before; `--peer` addresses and other sources' stay.
   */
  setPeerAddresses(peerId: string, addrs: readonly string[], source?: string): void {
    this.dialer.setPeerAddresses(peerId, addrs, source);
  }

  /** Dials every place to dial now, from the first backoff step (after the keys changed). */
  redialNow(): void {
    this.dialer.redialNow();
  }

  /** Stops dialing a peer, closes its connections and forgets it (a removed member). */
  async forgetPeer(peerId: string): Promise<void> {
    this.dialer.forget(peerId);
    const ps = this.peerTable.known(peerId);
    if (ps) {
      clearTimeout(ps.reopenTimer);
      if (ps.opening) ps.opening.cancelled = true;
      if (ps.syncStream) await this.streams.endStream(ps.syncStream, 'the peer was removed from the group');
    }
    try {
      await this.node.hangUp(peerIdFromString(peerId));
    } catch (err) {
      this.log(`closing the connections to ${deviceIdOf(peerId)} failed: ${errText(err)}`);
    }
    this.peerTable.delete(peerId);
  }

  /** Closes at once every connection to a peer the allow-list no longer admits. */
  async refreshAllowList(): Promise<void> {
    const closing: Promise<void>[] = [];
    const logged = new Set<string>();
    for (const conn of this.node.getConnections()) {
      const peer = conn.remotePeer.toString();
      if (this.allowPeer(peer)) continue;
      if (!logged.has(peer)) this.log(`closing the connections to ${deviceIdOf(peer)} (${peer}): no longer allowed`);
      logged.add(peer);
      const ps = this.peerTable.known(peer);
      if (ps?.syncStream) closing.push(this.streams.endStream(ps.syncStream, 'the peer is no longer allowed'));
      closing.push(conn.close().catch(() => conn.abort(new Error('no longer allowed'))));
    }
    await Promise.all(closing);
  }

  /** Serves another protocol, to allowed peers only. */
  async handle(protocol: string, handler: (stream: Stream, peerId: string, remoteAddr: string) => void | Promise<void>): Promise<void> {
    await this.node.handle(protocol, (stream, conn) => {
      const peer = conn.remotePeer.toString();
      if (!this.allowPeer(peer)) {
        stream.abort(new Error('peer not allowed'));
        return;
      }
      this.traffic.stream(peer, protocol);
      this.guard(`${protocol} from ${deviceIdOf(peer)}`, () => handler(stream, peer, conn.remoteAddr.toString()));
    }, { maxInboundStreams: 4, maxOutboundStreams: 4 });
  }

  /** Opens a stream of another protocol on the open connection to a peer. */
  async openProtocolStream(peerId: string, protocol: string, signal?: AbortSignal): Promise<Stream> {
    const ps = this.peerTable.state(peerId);
    const conn = ps ? this.peerTable.openConnections(ps)[0] : undefined;
    if (!conn) throw new Error(`not connected to ${deviceIdOf(peerId)}`);
    const stream = await conn.newStream(protocol, { signal: signal ?? AbortSignal.timeout(OPEN_STREAM_TIMEOUT_MS) });
    this.traffic.stream(peerId, protocol);
    return stream;
  }

  /** Peer ids with an open connection. */
  connectedPeers(): string[] {
    return [...new Set(this.node.getConnections().filter((c) => c.status === 'open').map((c) => c.remotePeer.toString()))];
  }

  /** Calls `fn` with the peer id each time a peer connects (after the gater admitted it). */
  onPeerConnected(fn: (peerId: string) => void): () => void {
    this.connectListeners.add(fn);
    return () => this.connectListeners.delete(fn);
  }

  /** Calls `fn` with the peer id each time the last connection to a peer closes. */
  onPeerDisconnected(fn: (peerId: string) => void): () => void {
    this.disconnectListeners.add(fn);
    return () => this.disconnectListeners.delete(fn);
  }

  /** Logs an inbound connection the allow-list refused (once a minute per peer at most). */
  private logRefusal(peerId: string): void {
    const now = Date.now();
    const last = this.refusedLogged.get(peerId);
    if (last !== undefined && now - last < 60_000) return;
    this.refusedLogged.set(peerId, now);
    if (this.refusedLogged.size > 1000) this.refusedLogged.clear();
    this.log(`refused a connection from ${deviceIdOf(peerId)} (${peerId}): not a member of this group`);
  }

  /** Listen addresses, each ending in /p2p/<our peer id>. */
  addresses(): string[] {
    const suffix = `/p2p/${this.peerId}`;
    return this.node.getMultiaddrs().map((ma) => {
      const s = ma.toString();
      return s.endsWith(suffix) ? s : `${s}${suffix}`;
    });
  }

  peers(): NetPeer[] {
    return this.peerTable.snapshot();
  }

  /**
   * Stops syncing with one peer (by peer id or device id) or with all: their sync streams close
   * and stay closed (the connection stays up). `unpause(id)` lifts only that peer's own pause.
   */
  async pause(peerId?: string): Promise<void> {
    this.peerTable.pause(peerId);
    const ending: Promise<void>[] = [];
    for (const ps of this.peerTable.all()) {
      if (!this.peerTable.isPaused(ps)) continue;
      if (ps.opening) ps.opening.cancelled = true;
      ps.opening = null;
      clearTimeout(ps.reopenTimer);
      ps.reopenTimer = undefined;
      if (ps.syncStream) ending.push(this.streams.endStream(ps.syncStream, 'paused'));
    }
    await Promise.all(ending);
  }

  /**
   * Resumes syncing. Here either side opens the stream at once (the peer would otherwise only
   * retry on its backoff); if both open one, the smaller side's stream wins on both ends.
   */
  async unpause(peerId?: string): Promise<void> {
    this.peerTable.unpause(peerId);
    for (const ps of this.peerTable.all()) {
      if (this.peerTable.isPaused(ps) || ps.syncStream || ps.opening || !this.peerTable.isConnected(ps)) continue;
      ps.reopenAttempt = 0;
      this.guard(`opening a sync stream to ${ps.deviceId}`, () => this.streams.openStream(ps));
    }
  }

  /** Closes every sync stream (detaching each link), cancels every timer, stops libp2p. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.dialer.stop();
    const ending: Promise<void>[] = [];
    for (const ps of this.peerTable.all()) {
      clearTimeout(ps.reopenTimer);
      if (ps.opening) ps.opening.cancelled = true;
      if (ps.syncStream) ending.push(this.streams.endStream(ps.syncStream, 'roamd is stopping'));
    }
    await Promise.all(ending);
    try {
      await this.node.stop();
    } catch (err) {
      this.log(`stopping libp2p failed: ${errText(err)}`);
    }
  }

  // ---------------------------------------------------------------- helpers

  /** Runs an event handler so that nothing escapes it. */
  private guard(what: string, fn: () => unknown): void {
    try {
      const r = fn();
      if (r instanceof Promise) r.catch((err: unknown) => this.log(`${what} failed: ${errText(err)}`));
    } catch (err) {
      this.log(`${what} failed: ${errText(err)}`);
    }
  }
  /** A relay-only device is never sent an index: its sync stream is reset unread. */
  private refuseRelay(stream: Stream, conn: Connection): boolean {
    const peer = conn.remotePeer.toString();
    if (!this.roles.isRelay(peer)) return false;
    this.log(`refused a sync stream from ${deviceIdOf(peer)} (${peer}): a relay-only device holds no folders`);
    stream.abort(new Error('a relay-only device is never sent an index'));
    return true;
  }

  // ---------------------------------------------------------------- connections

  private onConnectionOpen(conn: Connection): void {
    const ps = this.peerTable.state(conn.remotePeer);
    if (!ps) return;
    ps.lastSeen = Date.now();
    this.traffic.connection(ps.peerId);
    if (conn.direction === 'outbound') ps.addresses.add(withPeer(conn.remoteAddr.toString(), ps.peerId));
    dropRelayedOnDirect(this.node, conn, this.log);
    if (this.stopped || !this.peerTable.weOpen(ps) || ps.syncStream || ps.opening || this.peerTable.isPaused(ps)) return;
    clearTimeout(ps.reopenTimer);
    ps.reopenTimer = undefined;
    ps.reopenAttempt = 0;
    this.guard(`opening a sync stream to ${ps.deviceId}`, () => this.streams.openStream(ps));
  }

  private onPeerConnect(peer: PeerId): void {
    const ps = this.peerTable.state(peer);
    if (!ps) return;
    ps.lastSeen = Date.now();
    const conn = this.peerTable.openConnections(ps)[0];
    this.log(`connected to ${ps.deviceId} (${ps.peerId})${conn ? ` via ${conn.remoteAddr.toString()} (${conn.direction})` : ''}`);
    this.dialer.connected(ps.peerId);
    for (const fn of this.connectListeners) this.guard('peer connected', () => fn(ps.peerId));
  }

  private onPeerDisconnect(peer: PeerId): void {
    const ps = this.peerTable.state(peer);
    if (!ps) return;
    ps.lastSeen = Date.now();
    this.log(`disconnected from ${ps.deviceId}`);
    for (const fn of this.disconnectListeners) this.guard('peer disconnected', () => fn(ps.peerId));
    if (this.stopped) return;
    this.dialer.disconnected(ps.peerId);
  }
}
