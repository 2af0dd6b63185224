/**
 * roamd's network layer: a lean libp2p node (TCP, Noise, yamux; a pnet private network when a
 * group key is set; mDNS when enabled) that keeps one sync stream per peer and hands it to the
 * engine as a `Link`.
 *
 * - One stream per pair of devices, even when both dial at once: the device whose id is smaller
 *   opens it whenever a connection exists; the other side accepts. An inbound stream replaces
 *   the current one (the old link is detached first), except that the smaller side keeps a
 *   stream it opened itself (the tie-break when both opened one, see `unpause`).
 * - Frames are varint length-prefixed; a frame over MAX_FRAME_BYTES closes that stream, never
 *   the daemon.
 * - Backpressure both ways: the read loop keeps at most FRAMES_IN_FLIGHT frames unapplied and
 *   pauses the stream (which stops yamux granting window) while a frame's worth is buffered;
 *   `Link.send` resolves only once the stream has handed the whole frame to the muxer, waiting
 *   for the `drain` event (not `onDrain()`, which resolves early in @libp2p/utils 7.4).
 * - Explicit peers and mDNS finds are redialed with backoff (0.5 s doubling to 30 s) while not
 *   connected; `stop()` cancels every timer.
 * - Event handlers never throw: failures are logged and the daemon carries on.
 * - Access: `groupKey` keys an @libp2p/pnet private network (ROAM_GROUP_KEY); `protector` (a
 *   paired daemon's group protector, see pairing/protector.ts) replaces it; `allow` is the
 *   allow-list the connection gater applies to every connection. `refreshAllowList()` closes the
 *   connections of peers no longer allowed, at once.
 */
import '../polyfill.js';
import { createHash } from 'node:crypto';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import type { Connection, ConnectionProtector, Libp2p, PeerId, PeerInfo, PrivateKey, Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface';
import { mdns as mdnsDiscovery } from '@libp2p/mdns';
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id';
import { preSharedKey } from '@libp2p/pnet';
import { tcp } from '@libp2p/tcp';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { MAX_FRAME_BYTES, PROTOCOL_ID, type Link } from '@roam/core';
import { createLibp2p } from 'libp2p';
import { NotInGroupError, swarmKey } from '../pairing/protector.js';

/** What the network feeds. An `Engine` satisfies it. Peers are named by their short device id. */
export interface SyncSink {
  attach(peer: string, link: Link): Promise<void>;
  detach(peer: string, link?: Link): Promise<void>;
  onFrame(peer: string, frame: Uint8Array, link?: Link): Promise<void>;
}

export interface NetworkOptions {
  /** Ed25519 key (from @libp2p/crypto): gives the node its stable peer id. */
  privateKey: PrivateKey;
  /** Multiaddrs to listen on (the caller decides the default, e.g. /ip4/0.0.0.0/tcp/0). */
  listen: string[];
  /** Multiaddrs to keep dialing, with or without /p2p/<id>. */
  peers: string[];
  mdns: boolean;
  /** 32 bytes: only devices with the same key can connect (libp2p private network). */
  groupKey?: Uint8Array;
  /** The connection protector when there is no `groupKey` (a paired daemon's group protector). */
  protector?: ConnectionProtector;
  sink: SyncSink;
  log: (line: string) => void;
  /** Connection allow-list by peer id (pairing). Default: allow every peer. */
  allow?: (peerId: string) => boolean;
  /** Give up one dial after this long (default 10 s). */
  dialTimeoutMs?: number;
  /**
   * Sync streams with a peer wait until this resolves true (a paired daemon: until the peer's
   * membership was exchanged on this connection); false: not now (retried with backoff).
   */
  syncReady?: (peerId: string) => Promise<boolean>;
}

export interface NetPeer {
  peerId: string;
  deviceId: string;
  /** A libp2p connection to the peer is open. */
  connected: boolean;
  /** A sync stream with the peer is up. */
  syncing: boolean;
  /** Syncing with it is paused (`pause(peerId)` or `pause()`). */
  paused: boolean;
  /** Addresses we dial it at (explicit, found by mDNS, or that reached it). */
  addresses: string[];
  /** When the peer was last connected (ms since the epoch; now while connected), or null. */
  lastSeen: number | null;
}

/** 16 lowercase hex characters: the first 8 bytes of sha256 of the peer id string. */
export function deviceIdOf(peerId: string): string {
  return createHash('sha256').update(peerId, 'utf8').digest('hex').slice(0, 16);
}

// ------------------------------------------------------------------ limits and timings

/** yamux grows a stream's receive window up to this (its default is 16 MiB). */
const STREAM_WINDOW = 4 * 1024 * 1024;
/**
 * Bytes a paused stream may hold before libp2p resets it. While paused, yamux grants no window,
 * so at most the window in flight (plus one update sent while pausing) can arrive.
 */
const READ_BUFFER_LIMIT = 2 * STREAM_WINDOW + MAX_FRAME_BYTES;
/** The reader pauses the stream once it holds more than this, and resumes below the second. */
const READ_AHEAD = MAX_FRAME_BYTES;
const READ_RESUME = MAX_FRAME_BYTES / 2;
/**
 * Frames handed to the engine before the read loop waits for the oldest to be applied: the engine
 * queues them (in order) and journals its state once for the burst, not once per frame.
 */
const FRAMES_IN_FLIGHT = 4;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** A connection or a sync stream that lasted this long counts as a success (resets backoff). */
const STABLE_MS = 10_000;
const OPEN_STREAM_TIMEOUT_MS = 10_000;
const DEFAULT_DIAL_TIMEOUT_MS = 10_000;
/**
 * libp2p's connection monitor pings every peer every 10 s and aborts the connection when a ping
 * takes longer than an adaptive timeout, 5 s at least by default. A device busy with a large sync
 * (or a laptop swapping) stalls that long, and the connection was dropped mid-transfer. 15 s
 * tolerates a 14 s stall; a peer that vanished without closing is still noticed within 25 s.
 */
const PING_TIMEOUT_MIN_MS = 15_000;
const MDNS_SERVICE_TAG = '_roam._udp.local';

const backoff = (attempt: number): number => Math.min(BACKOFF_MIN_MS * 2 ** attempt, BACKOFF_MAX_MS);

// ------------------------------------------------------------------ framing

function encodeVarint(n: number): Uint8Array {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return Uint8Array.from(out);
}

/**
 * Frames up to this size are copied, with their prefix, into one write with the other small
 * frames of a burst; larger ones go out as they are.
 */
const COALESCE_MAX = 64 * 1024;
/** A held small frame goes out after this long even if the engine never says its burst is over. */
const HOLD_MAX_MS = 5;

/** Bytes of the varint prefix of the largest allowed frame. */
const MAX_PREFIX_BYTES = encodeVarint(MAX_FRAME_BYTES).length;

class FrameTooLargeError extends Error {
  constructor(length: number | null) {
    super(
      length === null
        ? `a frame length prefix is longer than ${MAX_PREFIX_BYTES} bytes`
        : `a frame of ${length} bytes is over the ${MAX_FRAME_BYTES}-byte limit`,
    );
    this.name = 'FrameTooLargeError';
  }
}

/**
 * Length-prefixed frames off a v3 stream, with receive backpressure. libp2p's own `lpStream`
 * buffers without pausing and aborts at 4 MiB, which a slow reader behind a 16 MiB yamux window
 * trips; this reader pauses the stream while it holds a frame's worth, so yamux stops granting
 * window and the sender waits.
 */
class FrameReader {
  private chunks: Uint8Array[] = [];
  private size = 0;
  private wake: (() => void) | null = null;
  private events = 0;
  private failure: Error | null = null;
  private pausing = false;
  private disposed = false;

  constructor(private readonly stream: Stream) {
    stream.addEventListener('message', this.onMessage);
    stream.addEventListener('remoteCloseWrite', this.onSignal);
    stream.addEventListener('close', this.onClose);
  }

  private readonly onMessage = (evt: StreamMessageEvent): void => {
    const data = evt.data;
    if (data instanceof Uint8Array) this.push(data);
    else for (const b of data) this.push(b);
    if (this.size > READ_AHEAD) this.pauseSoon();
    this.signal();
  };

  private readonly onSignal = (): void => this.signal();

  private readonly onClose = (evt: StreamCloseEvent): void => {
    if (evt.error && !this.failure) this.failure = evt.error;
    this.signal();
  };

  private push(b: Uint8Array): void {
    if (b.length === 0) return;
    this.chunks.push(b);
    this.size += b.length;
  }

  private signal(): void {
    this.events++;
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /**
   * Pauses after the current dispatch: `resume()` dispatches the buffered data synchronously and
   * then tells yamux to resume, so a pause from inside that dispatch would be undone at once.
   */
  private pauseSoon(): void {
    if (this.pausing) return;
    this.pausing = true;
    queueMicrotask(() => {
      this.pausing = false;
      if (this.disposed || this.size <= READ_AHEAD || this.stream.readStatus !== 'readable') return;
      try {
        this.stream.pause();
      } catch {
        // closing: nothing more will come anyway
      }
    });
  }

  private resume(): void {
    if (this.disposed || this.stream.readStatus !== 'paused') return;
    try {
      this.stream.resume();
    } catch {
      // closing or closed: the close event ends the reader
    }
  }

  private ended(): boolean {
    const s = this.stream;
    return (s.remoteWriteStatus === 'closed' || s.readStatus === 'closed') && s.readBufferLength === 0;
  }

  /** The next frame, or null at a clean end of the stream. Throws when the stream failed. */
  async next(): Promise<Uint8Array | null> {
    for (;;) {
      if (this.failure) throw this.failure;
      let frame: Uint8Array | null;
      try {
        frame = this.take();
      } catch (err) {
        this.failure = err as Error;
        throw err;
      }
      if (frame) {
        if (this.size < READ_RESUME) this.resume();
        return frame;
      }
      if (this.ended()) {
        if (this.size > 0) throw new Error(`the stream ended inside a frame (${this.size} bytes left over)`);
        return null;
      }
      const seen = this.events;
      this.resume(); // may dispatch buffered data synchronously
      if (seen !== this.events) continue;
      await new Promise<void>((r) => (this.wake = r));
    }
  }

  /** Takes one complete frame off the buffer (an owned copy), or returns null if none is complete. */
  private take(): Uint8Array | null {
    let length = 0;
    let scale = 1;
    let prefix = 0;
    let complete = false;
    outer: for (const chunk of this.chunks) {
      for (let i = 0; i < chunk.length; i++) {
        const byte = chunk[i]!;
        prefix++;
        length += (byte & 0x7f) * scale;
        scale *= 0x80;
        if ((byte & 0x80) === 0) {
          complete = true;
          break outer;
        }
        if (prefix >= MAX_PREFIX_BYTES) throw new FrameTooLargeError(null);
      }
    }
    if (!complete) return null;
    if (length > MAX_FRAME_BYTES) throw new FrameTooLargeError(length);
    if (this.size < prefix + length) return null;
    this.consume(prefix);
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      const head = this.chunks[0]!;
      const n = Math.min(head.length, length - filled);
      out.set(head.subarray(0, n), filled);
      filled += n;
      this.consume(n);
    }
    return out;
  }

  private consume(n: number): void {
    this.size -= n;
    while (n > 0) {
      const head = this.chunks[0]!;
      if (head.length <= n) {
        n -= head.length;
        this.chunks.shift();
      } else {
        this.chunks[0] = head.subarray(n);
        n = 0;
      }
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.stream.removeEventListener('message', this.onMessage);
    this.stream.removeEventListener('remoteCloseWrite', this.onSignal);
    this.stream.removeEventListener('close', this.onClose);
    this.chunks = [];
    this.size = 0;
    if (!this.failure) this.failure = new Error('sync stream closed');
    this.signal();
  }
}

// ------------------------------------------------------------------ state

interface PeerState {
  readonly id: PeerId;
  readonly peerId: string;
  readonly deviceId: string;
  readonly addresses: Set<string>;
  /** Set while connected; the time the peer was last seen connected otherwise. */
  lastSeen: number | null;
  session: Session | null;
  /** An outbound stream being opened; `cancelled` when an inbound one took its place. */
  opening: { cancelled: boolean } | null;
  reopenAttempt: number;
  reopenTimer: NodeJS.Timeout | undefined;
}

/** A place to keep dialing: an explicit `--peer` address, or a peer found by mDNS. */
interface Target {
  readonly label: string;
  readonly explicit: boolean;
  /** Set by `setPeerAddresses` (members' known addresses), replaced when they change. */
  readonly managed?: boolean;
  addrs: Multiaddr[];
  peerId: string | null;
  attempt: number;
  timer: NodeJS.Timeout | undefined;
  dialing: boolean;
  connectedAt: number | null;
  lastError: string | null;
}

class Session {
  ended = false;
  detached: Promise<void> = Promise.resolve();
  readonly started = Date.now();
  readonly reader: FrameReader;
  readonly link: Link;
  private sendTail: Promise<void> = Promise.resolve();
  /** Small frames (with their prefixes) waiting to go out together; see `send`. */
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  private heldTimer: NodeJS.Timeout | undefined;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly peer: PeerState,
    readonly stream: Stream,
    readonly outbound: boolean,
    close: (s: Session, reason: string) => void,
  ) {
    this.reader = new FrameReader(stream);
    this.link = {
      send: (frame) => this.send(frame),
      flush: () => void this.flushHeld(),
      close: (reason) => close(this, reason),
    };
  }

  /** Resolves once the stream has taken the whole frame (or the session is over: dropped). */
  send(frame: Uint8Array): Promise<void> {
    if (frame.length > MAX_FRAME_BYTES) return Promise.reject(new FrameTooLargeError(frame.length));
    const prefix = encodeVarint(frame.length);
    if (frame.length > COALESCE_MAX) {
      // A large frame is not worth copying (yamux cuts it into window-sized pieces anyway).
      void this.flushHeld();
      return this.write([prefix, frame]);
    }
    // Small frames wait for the end of the engine's burst (`flush`), to go out as one write: each
    // write is a yamux data frame of its own (12 B of header, 18 B of Noise, and a 30 B window
    // update back). The bytes held are bounded: past COALESCE_MAX they go out, and the sender waits.
    this.held.push(prefix, frame);
    this.heldBytes += prefix.length + frame.length;
    if (this.heldBytes >= COALESCE_MAX) return this.flushHeld();
    this.heldTimer ??= setTimeout(() => void this.flushHeld(), HOLD_MAX_MS);
    return Promise.resolve();
  }

  /** Sends the small frames held back, as one write. */
  flushHeld(): Promise<void> {
    clearTimeout(this.heldTimer);
    this.heldTimer = undefined;
    if (!this.held.length) return Promise.resolve();
    const out = new Uint8Array(this.heldBytes);
    let at = 0;
    for (const b of this.held) {
      out.set(b, at);
      at += b.length;
    }
    this.held = [];
    this.heldBytes = 0;
    return this.write([out]);
  }

  private write(chunks: Uint8Array[]): Promise<void> {
    const p = this.sendTail.then(() => this.writeNow(chunks));
    this.sendTail = p.catch(() => undefined);
    return p;
  }

  private async writeNow(chunks: Uint8Array[]): Promise<void> {
    const s = this.stream;
    if (this.ended || s.writeStatus !== 'writable') return;
    let ok = true;
    try {
      for (const c of chunks) ok = s.send(c) && ok;
    } catch {
      return; // closed under us: the close event ends the session
    }
    // `send` returns false when the muxer is full; the bytes wait in the stream's write buffer
    // until `drain`. Resolve only when it is flushed, so each link buffers at most one frame.
    while ((!ok || s.writableNeedsDrain) && !this.ended && s.writeStatus === 'writable') {
      ok = true;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          s.removeEventListener('drain', done);
          s.removeEventListener('close', done);
          this.waiters.delete(done);
          resolve();
        };
        s.addEventListener('drain', done);
        s.addEventListener('close', done);
        this.waiters.add(done);
      });
    }
  }

  /** Releases senders waiting for a drain that will never come. */
  releaseWaiters(): void {
    clearTimeout(this.heldTimer);
    this.held = [];
    this.heldBytes = 0;
    for (const w of [...this.waiters]) w();
  }
}

const errText = (err: unknown): string => {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const parts = [err.name && err.name !== 'Error' ? `${err.name}: ${err.message}` : err.message];
    if (typeof code === 'string' && !err.message.includes(code)) parts.push(`(${code})`);
    return parts.join(' ');
  }
  return String(err);
};

/** Failures that are not about the remote end's key (nothing listening, no route, bad name). */
const NOT_A_KEY_PROBLEM = /ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EADDRNOTAVAIL|EAI_AGAIN|NoValidAddresses|dial self|DialDenied|denied/i;

/** The address with `/p2p/<peerId>` at the end (as users copy it to `--peer`). */
function withPeer(addr: string, peerId: string): string {
  return addr.includes('/p2p/') ? addr : `${addr}/p2p/${peerId}`;
}

/** A `--peer` address: throws when the multiaddr or its /p2p/ id is malformed. */
function parseTarget(addr: string): { ma: Multiaddr; peerId: string | null } {
  const ma = multiaddr(addr);
  const p2p = ma.getComponents().find((c) => c.name === 'p2p')?.value;
  return { ma, peerId: p2p === undefined ? null : peerIdFromString(p2p).toString() };
}

/** Every error inside an error (libp2p aggregates a dial's failures). */
function allErrors(err: unknown, depth = 0): unknown[] {
  const errors = (err as { errors?: unknown[] } | null)?.errors;
  const cause = (err as { cause?: unknown } | null)?.cause;
  const inner = [...(Array.isArray(errors) ? errors : []), ...(cause !== undefined ? [cause] : [])];
  return depth > 4 ? [err] : [err, ...inner.flatMap((e) => allErrors(e, depth + 1))];
}

/** The group handshake's own verdict, if a dial failed on it. */
export function notInGroup(err: unknown): NotInGroupError | null {
  return (allErrors(err).find((e) => e instanceof NotInGroupError) as NotInGroupError | undefined) ?? null;
}

// ------------------------------------------------------------------ the network

export class Network {
  readonly peerId: string;
  readonly deviceId: string;
  private readonly node: Libp2p;
  private readonly sink: SyncSink;
  private readonly log: (line: string) => void;
  private readonly allowPeer: (peerId: string) => boolean;
  private readonly grouped: boolean;
  private readonly dialTimeoutMs: number;
  private readonly connectListeners = new Set<(peerId: string) => void>();
  private readonly disconnectListeners = new Set<(peerId: string) => void>();
  private readonly syncReady: ((peerId: string) => Promise<boolean>) | undefined;
  /** Peers whose refusal was logged lately (peer id → time), so a retrying peer does not flood the log. */
  private readonly refusedLogged = new Map<string, number>();
  private readonly states = new Map<string, PeerState>();
  private readonly targets: Target[] = [];
  private readonly pausedPeers = new Set<string>();
  private pausedAll = false;
  private stopped = false;

  private constructor(node: Libp2p, opts: NetworkOptions, allow: (peerId: string) => boolean) {
    this.node = node;
    this.peerId = node.peerId.toString();
    this.deviceId = deviceIdOf(this.peerId);
    this.sink = opts.sink;
    this.allowPeer = allow;
    this.grouped = opts.groupKey !== undefined || opts.protector !== undefined;
    this.syncReady = opts.syncReady;
    this.dialTimeoutMs = opts.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS;
    this.log = (line) => {
      try {
        opts.log(line);
      } catch {
        // a broken logger must not break the network
      }
    };
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
    const node = await createLibp2p({
      start: false,
      privateKey: opts.privateKey,
      addresses: { listen: opts.listen },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [
        yamux({
          streamOptions: {
            maxStreamWindowSize: STREAM_WINDOW,
            maxReadBufferLength: READ_BUFFER_LIMIT,
          },
        }),
      ],
      ...(opts.groupKey
        ? { connectionProtector: preSharedKey({ psk: swarmKey(opts.groupKey) }) }
        : opts.protector
          ? { connectionProtector: () => opts.protector! }
          : {}),
      peerDiscovery: opts.mdns
        ? [
            (components: Parameters<ReturnType<typeof mdnsDiscovery>>[0]) => {
              // Listen to mDNS itself: the node's 'peer:discovery' also fires for every peer
              // that merely connects, and not again when a known peer shows up at a new address.
              const service = mdnsDiscovery({ serviceTag: MDNS_SERVICE_TAG })(components);
              service.addEventListener('peer', (evt) => onMdnsPeer(evt.detail));
              return service;
            },
          ]
        : [],
      connectionGater: {
        denyDialPeer: deny,
        denyInboundEncryptedConnection: denyInbound,
        denyOutboundEncryptedConnection: deny,
      },
      connectionManager: {
        dialTimeout: opts.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS,
      },
      connectionMonitor: { pingTimeout: { minTimeout: PING_TIMEOUT_MIN_MS } },
      services: {},
    });

    net = new Network(node, opts, allow);
    const created = net;
    onMdnsPeer = (info) => created.guard('mDNS discovery', () => created.onDiscovery(info));
    try {
      await created.start(targets);
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

  private async start(targets: Array<{ addr: string; ma: Multiaddr; peerId: string | null }>): Promise<void> {
    const node = this.node;
    await node.handle(PROTOCOL_ID, (stream, conn) => this.guard('inbound stream', () => this.onInboundStream(stream, conn)), {
      maxInboundStreams: 8,
      maxOutboundStreams: 8,
    });
    node.addEventListener('connection:open', (evt) => this.guard('connection:open', () => this.onConnectionOpen(evt.detail)));
    node.addEventListener('peer:connect', (evt) => this.guard('peer:connect', () => this.onPeerConnect(evt.detail)));
    node.addEventListener('peer:disconnect', (evt) => this.guard('peer:disconnect', () => this.onPeerDisconnect(evt.detail)));
    await node.start();

    for (const conn of node.getConnections()) this.onConnectionOpen(conn);
    for (const t of targets) this.addTarget(t.addr, t.ma, t.peerId);
  }

  private addTarget(addr: string, ma: Multiaddr, peerId: string | null): void {
    if (this.stopped || this.targets.some((t) => t.explicit && t.label === addr)) return;
    if (peerId === this.peerId) {
      this.log(`ignoring peer ${addr}: that is this device`);
      return;
    }
    const target: Target = {
      label: addr, explicit: true, addrs: [ma], peerId, attempt: 0,
      timer: undefined, dialing: false, connectedAt: null, lastError: null,
    };
    this.targets.push(target);
    if (peerId) this.state(peerId)?.addresses.add(addr);
    this.schedule(target, 0);
  }

  // ---------------------------------------------------------------- public API

  /** Adds a multiaddr to keep dialing, as if it had been in `peers`; dials it at once. */
  addPeer(addr: string): void {
    const { ma, peerId } = parseTarget(addr);
    this.addTarget(addr, ma, peerId);
  }

  /**
   * The addresses to keep dialing a member at (known from the group), replacing those given
   * before; `--peer` addresses stay. An empty list stops dialing it (except at `--peer` ones).
   */
  setPeerAddresses(peerId: string, addrs: readonly string[]): void {
    if (this.stopped || peerId === this.peerId) return;
    const wanted = new Map<string, Multiaddr>();
    for (const a of addrs) {
      try {
        const full = withPeer(a, peerId);
        const { ma, peerId: id } = parseTarget(full);
        if (id === peerId) wanted.set(full, ma);
      } catch {
        // a malformed hint: skip it
      }
    }
    for (let i = this.targets.length - 1; i >= 0; i--) {
      const t = this.targets[i]!;
      if (t.managed && t.peerId === peerId && !wanted.has(t.label)) {
        clearTimeout(t.timer);
        this.targets.splice(i, 1);
      }
    }
    for (const [label, ma] of wanted) {
      if (this.targets.some((t) => t.label === label)) continue;
      const target: Target = {
        label, explicit: true, managed: true, addrs: [ma], peerId, attempt: 0,
        timer: undefined, dialing: false, connectedAt: null, lastError: null,
      };
      this.targets.push(target);
      this.state(peerId)?.addresses.add(label);
      this.schedule(target, 0);
    }
  }

  /** Dials every place to dial now, from the first backoff step (after the keys changed). */
  redialNow(): void {
    for (const t of this.targets) {
      const known = t.peerId ? this.states.get(t.peerId) : undefined;
      if (t.dialing || (known && this.isConnected(known))) continue;
      t.attempt = 0;
      t.lastError = null;
      this.schedule(t, 0);
    }
  }

  /** Stops dialing a peer, closes its connections and forgets it (a removed member). */
  async forgetPeer(peerId: string): Promise<void> {
    for (let i = this.targets.length - 1; i >= 0; i--) {
      const t = this.targets[i]!;
      if (t.peerId === peerId) {
        clearTimeout(t.timer);
        this.targets.splice(i, 1);
      }
    }
    const ps = this.states.get(peerId);
    if (ps) {
      clearTimeout(ps.reopenTimer);
      if (ps.opening) ps.opening.cancelled = true;
      if (ps.session) await this.endSession(ps.session, 'the peer was removed from the group');
    }
    try {
      await this.node.hangUp(peerIdFromString(peerId));
    } catch (err) {
      this.log(`closing the connections to ${deviceIdOf(peerId)} failed: ${errText(err)}`);
    }
    this.states.delete(peerId);
    this.pausedPeers.delete(peerId);
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
      const ps = this.states.get(peer);
      if (ps?.session) closing.push(this.endSession(ps.session, 'the peer is no longer allowed'));
      closing.push(conn.close().catch(() => conn.abort(new Error('no longer allowed'))));
    }
    await Promise.all(closing);
  }

  /** Serves another protocol, to allowed peers only. */
  async handle(protocol: string, handler: (stream: Stream, peerId: string) => void | Promise<void>): Promise<void> {
    await this.node.handle(protocol, (stream, conn) => {
      const peer = conn.remotePeer.toString();
      if (!this.allowPeer(peer)) {
        stream.abort(new Error('peer not allowed'));
        return;
      }
      this.guard(`${protocol} from ${deviceIdOf(peer)}`, () => handler(stream, peer));
    }, { maxInboundStreams: 4, maxOutboundStreams: 4 });
  }

  /** Opens a stream of another protocol on the open connection to a peer. */
  async openProtocolStream(peerId: string, protocol: string, signal?: AbortSignal): Promise<Stream> {
    const ps = this.state(peerId);
    const conn = ps ? this.openConnections(ps)[0] : undefined;
    if (!conn) throw new Error(`not connected to ${deviceIdOf(peerId)}`);
    return conn.newStream(protocol, { signal: signal ?? AbortSignal.timeout(OPEN_STREAM_TIMEOUT_MS) });
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
    const now = Date.now();
    return [...this.states.values()].map((ps) => {
      const connected = this.isConnected(ps);
      return {
        peerId: ps.peerId,
        deviceId: ps.deviceId,
        connected,
        syncing: ps.session !== null,
        paused: this.isPaused(ps),
        addresses: [...ps.addresses],
        lastSeen: connected ? now : ps.lastSeen,
      };
    });
  }

  /**
   * Stops syncing with one peer (by peer id or device id) or with all: their sync streams close
   * and stay closed (the connection stays up). `unpause(id)` lifts only that peer's own pause.
   */
  async pause(peerId?: string): Promise<void> {
    if (peerId === undefined) this.pausedAll = true;
    else this.pausedPeers.add(peerId);
    const ending: Promise<void>[] = [];
    for (const ps of this.states.values()) {
      if (!this.isPaused(ps)) continue;
      if (ps.opening) ps.opening.cancelled = true;
      ps.opening = null;
      clearTimeout(ps.reopenTimer);
      ps.reopenTimer = undefined;
      if (ps.session) ending.push(this.endSession(ps.session, 'paused'));
    }
    await Promise.all(ending);
  }

  /**
   * Resumes syncing. Here either side opens the stream at once (the peer would otherwise only
   * retry on its backoff); if both open one, the smaller side's stream wins on both ends.
   */
  async unpause(peerId?: string): Promise<void> {
    if (peerId === undefined) {
      this.pausedAll = false;
      this.pausedPeers.clear();
    } else {
      this.pausedPeers.delete(peerId);
      for (const ps of this.states.values()) {
        if (ps.deviceId === peerId) this.pausedPeers.delete(ps.peerId);
        if (ps.peerId === peerId) this.pausedPeers.delete(ps.deviceId);
      }
    }
    for (const ps of this.states.values()) {
      if (this.isPaused(ps) || ps.session || ps.opening || !this.isConnected(ps)) continue;
      ps.reopenAttempt = 0;
      this.guard(`opening a sync stream to ${ps.deviceId}`, () => this.openStream(ps));
    }
  }

  /** Closes every sync stream (detaching each link), cancels every timer, stops libp2p. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.targets) clearTimeout(t.timer);
    const ending: Promise<void>[] = [];
    for (const ps of this.states.values()) {
      clearTimeout(ps.reopenTimer);
      if (ps.opening) ps.opening.cancelled = true;
      if (ps.session) ending.push(this.endSession(ps.session, 'roamd is stopping'));
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

  private state(peer: PeerId | string): PeerState | null {
    const key = peer.toString();
    if (key === this.peerId) return null;
    let ps = this.states.get(key);
    if (!ps) {
      ps = {
        id: typeof peer === 'string' ? peerIdFromString(peer) : peer,
        peerId: key,
        deviceId: deviceIdOf(key),
        addresses: new Set(),
        lastSeen: null,
        session: null,
        opening: null,
        reopenAttempt: 0,
        reopenTimer: undefined,
      };
      this.states.set(key, ps);
    }
    return ps;
  }

  private openConnections(ps: PeerState): Connection[] {
    return this.node.getConnections(ps.id).filter((c) => c.status === 'open');
  }

  private isConnected(ps: PeerState): boolean {
    return this.openConnections(ps).length > 0;
  }

  private isPaused(ps: PeerState): boolean {
    return this.pausedAll || this.pausedPeers.has(ps.peerId) || this.pausedPeers.has(ps.deviceId);
  }

  /** Whether this side opens the sync stream with `ps`: the smaller device id does. */
  private weOpen(ps: PeerState): boolean {
    if (this.deviceId !== ps.deviceId) return this.deviceId < ps.deviceId;
    return this.peerId < ps.peerId;
  }

  // ---------------------------------------------------------------- connections

  private onConnectionOpen(conn: Connection): void {
    const ps = this.state(conn.remotePeer);
    if (!ps) return;
    ps.lastSeen = Date.now();
    if (conn.direction === 'outbound') ps.addresses.add(withPeer(conn.remoteAddr.toString(), ps.peerId));
    if (this.stopped || !this.weOpen(ps) || ps.session || ps.opening || this.isPaused(ps)) return;
    clearTimeout(ps.reopenTimer);
    ps.reopenTimer = undefined;
    ps.reopenAttempt = 0;
    this.guard(`opening a sync stream to ${ps.deviceId}`, () => this.openStream(ps));
  }

  private onPeerConnect(peer: PeerId): void {
    const ps = this.state(peer);
    if (!ps) return;
    ps.lastSeen = Date.now();
    const conn = this.openConnections(ps)[0];
    this.log(`connected to ${ps.deviceId} (${ps.peerId})${conn ? ` via ${conn.remoteAddr.toString()} (${conn.direction})` : ''}`);
    for (const t of this.targets) {
      if (t.peerId === ps.peerId) t.connectedAt ??= Date.now();
    }
    for (const fn of this.connectListeners) this.guard('peer connected', () => fn(ps.peerId));
  }

  private onPeerDisconnect(peer: PeerId): void {
    const ps = this.state(peer);
    if (!ps) return;
    ps.lastSeen = Date.now();
    this.log(`disconnected from ${ps.deviceId}`);
    for (const fn of this.disconnectListeners) this.guard('peer disconnected', () => fn(ps.peerId));
    if (this.stopped) return;
    for (const t of this.targets) {
      if (t.peerId !== ps.peerId || t.dialing) continue;
      if (t.connectedAt !== null && Date.now() - t.connectedAt >= STABLE_MS) t.attempt = 0;
      t.connectedAt = null;
      this.schedule(t, backoff(t.attempt++));
    }
  }

  private onDiscovery(info: PeerInfo): void {
    const peerId = info.id.toString();
    if (this.stopped || peerId === this.peerId || !this.allowPeer(peerId)) return;
    const addrs = info.multiaddrs.filter((ma) => ma.getComponents().some((c) => c.name === 'tcp'));
    if (!addrs.length) return;
    const ps = this.state(info.id);
    for (const ma of addrs) ps?.addresses.add(withPeer(ma.toString(), peerId));
    let t = this.targets.find((x) => !x.explicit && x.peerId === peerId);
    if (!t) {
      t = {
        label: `${peerId} (mDNS)`, explicit: false, addrs, peerId, attempt: 0,
        timer: undefined, dialing: false, connectedAt: null, lastError: null,
      };
      this.targets.push(t);
      this.log(`found ${deviceIdOf(peerId)} (${peerId}) on the local network`);
    } else {
      t.addrs = addrs;
    }
    if (!t.dialing && t.timer === undefined && !(ps && this.isConnected(ps))) this.schedule(t, 0);
  }

  private schedule(t: Target, delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(t.timer);
    t.timer = setTimeout(() => {
      t.timer = undefined;
      this.guard(`dialing ${t.label}`, () => this.dial(t));
    }, delayMs);
    t.timer.unref?.();
  }

  private async dial(t: Target): Promise<void> {
    if (this.stopped || t.dialing) return;
    const known = t.peerId ? this.state(t.peerId) : null;
    if (known && this.isConnected(known)) return; // rescheduled when it disconnects
    if (t.peerId && !this.allowPeer(t.peerId)) {
      const why = `not dialing ${t.label}: the peer is not on the allow-list`;
      if (why !== t.lastError) this.log(why);
      t.lastError = why;
      this.schedule(t, backoff(t.attempt++));
      return;
    }
    t.dialing = true;
    try {
      const target = t.explicit ? t.addrs[0]! : t.addrs;
      // libp2p aborts pending dials itself when the node stops.
      const conn = await this.node.dial(target, { signal: AbortSignal.timeout(this.dialTimeoutMs) });
      const peerId = conn.remotePeer.toString();
      if (t.peerId !== peerId) {
        t.peerId = peerId;
        if (t.explicit) this.state(peerId)?.addresses.add(withPeer(t.label, peerId));
      }
      t.connectedAt ??= Date.now();
      if (t.lastError !== null) this.log(`reached ${t.label} again`);
      t.lastError = null;
      // The connection may have closed already (the disconnect came before we knew the id).
      const ps = this.state(peerId);
      if (ps && !this.isConnected(ps) && !this.stopped) this.schedule(t, backoff(t.attempt++));
    } catch (err) {
      if (this.stopped) return;
      const why = this.describeDialError(t, err);
      const delay = backoff(t.attempt++);
      if (why !== t.lastError) this.log(`${why}; retrying every ${Math.round(BACKOFF_MAX_MS / 1000)} s at most (next in ${delay / 1000} s)`);
      t.lastError = why;
      this.schedule(t, delay);
    } finally {
      t.dialing = false;
    }
  }

  private describeDialError(t: Target, err: unknown): string {
    const text = errText(err);
    const errors = (err as { errors?: unknown[] } | null)?.errors;
    const all = Array.isArray(errors) && errors.length ? errors.map(errText).join('; ') : text;
    const verdict = notInGroup(err);
    if (verdict) {
      if (/not in a group yet/.test(verdict.message)) return `not dialing ${t.label}: ${verdict.message}`;
      return `cannot connect to ${t.label}: ${verdict.message}`;
    }
    if (this.grouped && !NOT_A_KEY_PROBLEM.test(all)) {
      return `peer ${t.label} refused the connection: not in this group (wrong group key?)`;
    }
    const hint = /Message length too long/i.test(all) ? ' (the peer may be in a group: set the same group key)' : '';
    return `could not reach ${t.label}: ${all}${hint}`;
  }

  // ---------------------------------------------------------------- sync streams

  private async openStream(ps: PeerState): Promise<void> {
    if (this.stopped || ps.session || ps.opening || this.isPaused(ps)) return;
    const conn = this.openConnections(ps)[0];
    if (!conn) return;
    const attempt = { cancelled: false };
    ps.opening = attempt;
    if (this.syncReady && !(await this.syncReady(ps.peerId).catch(() => false))) {
      if (ps.opening === attempt) ps.opening = null;
      if (this.stopped || attempt.cancelled) return;
      this.log(`not syncing with ${ps.deviceId} yet: its membership was not exchanged`);
      this.scheduleReopen(ps);
      return;
    }
    if (attempt.cancelled || this.stopped) {
      if (ps.opening === attempt) ps.opening = null;
      return;
    }
    let stream: Stream;
    try {
      stream = await conn.newStream(PROTOCOL_ID, { signal: AbortSignal.timeout(OPEN_STREAM_TIMEOUT_MS) });
    } catch (err) {
      if (ps.opening === attempt) ps.opening = null;
      if (this.stopped || attempt.cancelled) return;
      this.log(`could not open a sync stream to ${ps.deviceId}: ${errText(err)}`);
      this.scheduleReopen(ps);
      return;
    }
    if (ps.opening === attempt) ps.opening = null;
    if (attempt.cancelled || this.stopped || this.isPaused(ps) || ps.session) {
      stream.abort(new Error('sync stream not needed'));
      return;
    }
    this.startSession(ps, stream, true);
  }

  private scheduleReopen(ps: PeerState): void {
    if (this.stopped || this.isPaused(ps) || !this.weOpen(ps) || !this.isConnected(ps)) return;
    clearTimeout(ps.reopenTimer);
    ps.reopenTimer = setTimeout(() => {
      ps.reopenTimer = undefined;
      this.guard(`reopening the sync stream to ${ps.deviceId}`, () => this.openStream(ps));
    }, backoff(ps.reopenAttempt++));
    ps.reopenTimer.unref?.();
  }

  private async onInboundStream(stream: Stream, conn: Connection): Promise<void> {
    const ps = this.state(conn.remotePeer);
    if (!ps || this.stopped) {
      stream.abort(new Error('not accepting sync streams'));
      return;
    }
    if (this.syncReady && !(await this.syncReady(ps.peerId).catch(() => false))) {
      stream.abort(new Error('membership not exchanged yet'));
      return;
    }
    if (this.stopped || stream.status !== 'open') {
      stream.abort(new Error('not accepting sync streams'));
      return;
    }
    if (this.isPaused(ps)) {
      stream.abort(new Error('sync paused'));
      return;
    }
    if (!this.allowPeer(ps.peerId)) {
      stream.abort(new Error('peer not allowed'));
      return;
    }
    // Both sides opened one (only after an unpause): the smaller side's stream wins on both ends.
    if (this.weOpen(ps) && (ps.opening || ps.session?.outbound)) {
      stream.abort(new Error('duplicate sync stream'));
      return;
    }
    if (ps.opening) {
      ps.opening.cancelled = true;
      ps.opening = null;
    }
    this.startSession(ps, stream, false);
  }

  private startSession(ps: PeerState, stream: Stream, outbound: boolean): void {
    const old = ps.session;
    if (old) void this.endSession(old, 'replaced by a new sync stream', true);
    clearTimeout(ps.reopenTimer);
    ps.reopenTimer = undefined;
    stream.maxReadBufferLength = READ_BUFFER_LIMIT;
    const s = new Session(ps, stream, outbound, (session, reason) => void this.endSession(session, reason));
    ps.session = s;
    // (A throwing EventTarget listener would be an uncaught exception: guard it.)
    stream.addEventListener('close', (evt) => {
      this.guard('stream close', () => this.endSession(s, evt.error ? `stream closed: ${errText(evt.error)}` : 'stream closed'));
    });
    if (stream.status !== 'open') {
      void this.endSession(s, 'stream closed before it started');
      return;
    }
    this.guard(`sync with ${ps.deviceId}`, () => this.runSession(s));
  }

  private async runSession(s: Session): Promise<void> {
    const ps = s.peer;
    try {
      await this.sink.attach(ps.deviceId, s.link);
    } catch (err) {
      await this.endSession(s, `the engine refused the link: ${errText(err)}`);
      return;
    }
    if (s.ended) return;
    this.log(`syncing with ${ps.deviceId} (${s.outbound ? 'outbound' : 'inbound'} stream)`);
    let reason = 'the peer closed the stream';
    try {
      const inFlight: Promise<void>[] = [];
      try {
        for (;;) {
          const frame = await s.reader.next();
          if (frame === null || s.ended) break;
          const applied = this.sink.onFrame(ps.deviceId, frame, s.link);
          applied.catch(() => undefined); // awaited below, in order
          inFlight.push(applied);
          if (inFlight.length >= FRAMES_IN_FLIGHT) await inFlight.shift();
        }
      } finally {
        await Promise.allSettled(inFlight);
      }
      for (const applied of inFlight) await applied;
    } catch (err) {
      reason = err instanceof FrameTooLargeError ? `refused: ${err.message}` : errText(err);
    }
    await this.endSession(s, reason);
  }

  /** Ends a session once: detaches its link from the sink and aborts the stream if still open. */
  private endSession(s: Session, reason: string, replaced = false): Promise<void> {
    if (s.ended) return s.detached;
    s.ended = true;
    const ps = s.peer;
    if (ps.session === s) ps.session = null;
    s.reader.dispose();
    s.releaseWaiters();
    if (s.stream.status === 'open' || s.stream.status === 'closing') {
      try {
        s.stream.abort(new Error(reason));
      } catch {
        // already gone
      }
    }
    this.log(`sync with ${ps.deviceId} ended: ${reason}`);
    let detaching: Promise<void>;
    try {
      detaching = this.sink.detach(ps.deviceId, s.link); // now, so it comes before a replacing attach
    } catch (err) {
      detaching = Promise.reject(err);
    }
    s.detached = detaching.catch((err: unknown) => {
      this.log(`detaching ${ps.deviceId} failed: ${errText(err)}`);
    });
    if (!replaced && !this.stopped) {
      if (Date.now() - s.started >= STABLE_MS) ps.reopenAttempt = 0;
      this.scheduleReopen(ps);
    }
    return s.detached;
  }
}
