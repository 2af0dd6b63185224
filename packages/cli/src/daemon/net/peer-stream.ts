/**
 * One sync stream per peer: `PeerStream` writes and reads the frames of one libp2p stream and is
 * the engine's `Link` for that peer; `SyncStreams` opens, accepts, runs and ends them.
 *
 * - One stream per pair of devices, even when both dial at once: the device whose id is smaller
 *   opens it whenever a connection exists; the other side accepts. An inbound stream replaces
 *   the current one (the old link is detached first), except that the smaller side keeps a
 *   stream it opened itself (the tie-break when both opened one, see `Network.unpause`).
 * - Backpressure both ways: the read loop keeps at most FRAMES_IN_FLIGHT frames unapplied and
 *   pauses the stream (which stops yamux granting window) while a frame's worth is buffered;
 *   `Link.send` resolves only once the stream has handed the whole frame to the muxer, waiting
 *   for the `drain` event (not `onDrain()`, which resolves early in @libp2p/utils 7.4).
 */
import type { Connection, PeerId, Stream } from '@libp2p/interface';
import { MAX_FRAME_BYTES, PROTOCOL_ID, type Link, type Message } from '@roam/core';
import { STABLE_MS, backoff } from './backoff.js';
import { errText } from './errors.js';
import type { TrafficCounters } from './traffic.js';
import { FrameReader, FrameTooLargeError, READ_BUFFER_LIMIT, encodeVarint } from './frames.js';

/** What the network feeds. An `Engine` satisfies it. Peers are named by their short device id. */
export interface SyncSink {
  attach(peer: string, link: Link): Promise<void>;
  detach(peer: string, link?: Link): Promise<void>;
  onFrame(peer: string, frame: Uint8Array, link?: Link): Promise<void>;
}

/**
 * Frames handed to the engine before the read loop waits for the oldest to be applied: the engine
 * queues them (in order) and journals its state once for the burst, not once per frame.
 */
const FRAMES_IN_FLIGHT = 4;
export const OPEN_STREAM_TIMEOUT_MS = 10_000;

/**
 * Frames up to this size are copied, with their prefix, into one write with the other small
 * frames of a burst; larger ones go out as they are.
 */
const COALESCE_MAX = 64 * 1024;
/** A held small frame goes out after this long even if the engine never says its burst is over. */
const HOLD_MAX_MS = 5;

/** What the network knows of one peer. */
export interface PeerState {
  readonly id: PeerId;
  readonly peerId: string;
  readonly deviceId: string;
  readonly addresses: Set<string>;
  /** Set while connected; the time the peer was last seen connected otherwise. */
  lastSeen: number | null;
  /** The sync stream with the peer, while one is up. */
  syncStream: PeerStream | null;
  /** An outbound stream being opened; `cancelled` when an inbound one took its place. */
  opening: { cancelled: boolean } | null;
  reopenAttempt: number;
  reopenTimer: NodeJS.Timeout | undefined;
}

/** The frame writer and reader of one peer's sync stream, and the `Link` the engine sends on. */
export class PeerStream {
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
    close: (s: PeerStream, reason: string) => void,
    sent?: (frame: Uint8Array, msg?: Message) => void,
  ) {
    this.reader = new FrameReader(stream);
    this.link = {
      send: (frame, msg) => {
        sent?.(frame, msg);
        return this.send(frame);
      },
      flush: () => void this.flushHeld(),
      close: (reason) => close(this, reason),
    };
  }

  /** Resolves once the stream has taken the whole frame (or the stream is over: dropped). */
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
      return; // closed under us: the close event ends the stream
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

/** What `SyncStreams` needs of the network. */
export interface StreamHost {
  readonly sink: SyncSink;
  readonly syncReady: ((peerId: string) => Promise<boolean>) | undefined;
  stopped(): boolean;
  isPaused(ps: PeerState): boolean;
  isConnected(ps: PeerState): boolean;
  openConnections(ps: PeerState): Connection[];
  /** Whether this side opens the sync stream with `ps`. */
  weOpen(ps: PeerState): boolean;
  allowPeer(peerId: string): boolean;
  state(peer: PeerId | string): PeerState | null;
  log(line: string): void;
  guard(what: string, fn: () => unknown): void;
  /** Counts the streams and frames of each peer (status: traffic.peers). */
  readonly traffic?: TrafficCounters;
}

/** Opens, accepts, runs and ends the sync streams, one per peer. */
export class SyncStreams {
  constructor(private readonly host: StreamHost) {}

  async openStream(ps: PeerState): Promise<void> {
    if (this.host.stopped() || ps.syncStream || ps.opening || this.host.isPaused(ps)) return;
    const conn = this.host.openConnections(ps)[0];
    if (!conn) return;
    const attempt = { cancelled: false };
    ps.opening = attempt;
    if (this.host.syncReady && !(await this.host.syncReady(ps.peerId).catch(() => false))) {
      if (ps.opening === attempt) ps.opening = null;
      if (this.host.stopped() || attempt.cancelled) return;
      this.host.log(`not syncing with ${ps.deviceId} yet: its membership was not exchanged`);
      this.scheduleReopen(ps);
      return;
    }
    if (attempt.cancelled || this.host.stopped()) {
      if (ps.opening === attempt) ps.opening = null;
      return;
    }
    let stream: Stream;
    try {
      stream = await conn.newStream(PROTOCOL_ID, { signal: AbortSignal.timeout(OPEN_STREAM_TIMEOUT_MS) });
    } catch (err) {
      if (ps.opening === attempt) ps.opening = null;
      if (this.host.stopped() || attempt.cancelled) return;
      this.host.log(`could not open a sync stream to ${ps.deviceId}: ${errText(err)}`);
      this.scheduleReopen(ps);
      return;
    }
    if (ps.opening === attempt) ps.opening = null;
    if (attempt.cancelled || this.host.stopped() || this.host.isPaused(ps) || ps.syncStream) {
      stream.abort(new Error('sync stream not needed'));
      return;
    }
    this.startStream(ps, stream, true);
  }

  scheduleReopen(ps: PeerState): void {
    if (this.host.stopped() || this.host.isPaused(ps) || !this.host.weOpen(ps) || !this.host.isConnected(ps)) return;
    clearTimeout(ps.reopenTimer);
    ps.reopenTimer = setTimeout(() => {
      ps.reopenTimer = undefined;
      this.host.guard(`reopening the sync stream to ${ps.deviceId}`, () => this.openStream(ps));
    }, backoff(ps.reopenAttempt++));
    ps.reopenTimer.unref?.();
  }

  async onInboundStream(stream: Stream, conn: Connection): Promise<void> {
    const ps = this.host.state(conn.remotePeer);
    if (!ps || this.host.stopped()) {
      stream.abort(new Error('not accepting sync streams'));
      return;
    }
    if (this.host.syncReady && !(await this.host.syncReady(ps.peerId).catch(() => false))) {
      stream.abort(new Error('membership not exchanged yet'));
      return;
    }
    if (this.host.stopped() || stream.status !== 'open') {
      stream.abort(new Error('not accepting sync streams'));
      return;
    }
    if (this.host.isPaused(ps)) {
      stream.abort(new Error('sync paused'));
      return;
    }
    if (!this.host.allowPeer(ps.peerId)) {
      stream.abort(new Error('peer not allowed'));
      return;
    }
    // Both sides opened one (only after an unpause): the smaller side's stream wins on both ends.
    if (this.host.weOpen(ps) && (ps.opening || ps.syncStream?.outbound)) {
      stream.abort(new Error('duplicate sync stream'));
      return;
    }
    if (ps.opening) {
      ps.opening.cancelled = true;
      ps.opening = null;
    }
    this.startStream(ps, stream, false);
  }

  private startStream(ps: PeerState, stream: Stream, outbound: boolean): void {
    const old = ps.syncStream;
    if (old) void this.endStream(old, 'replaced by a new sync stream', true);
    clearTimeout(ps.reopenTimer);
    ps.reopenTimer = undefined;
    stream.maxReadBufferLength = READ_BUFFER_LIMIT;
    const s = new PeerStream(ps, stream, outbound, (ended, reason) => void this.endStream(ended, reason), (frame, msg) => this.host.traffic?.sent(ps.peerId, frame, msg));
    this.host.traffic?.stream(ps.peerId, PROTOCOL_ID);
    ps.syncStream = s;
    // (A throwing EventTarget listener would be an uncaught exception: guard it.)
    stream.addEventListener('close', (evt) => {
      this.host.guard('stream close', () => this.endStream(s, evt.error ? `stream closed: ${errText(evt.error)}` : 'stream closed'));
    });
    if (stream.status !== 'open') {
      void this.endStream(s, 'stream closed before it started');
      return;
    }
    this.host.guard(`sync with ${ps.deviceId}`, () => this.runStream(s));
  }

  private async runStream(s: PeerStream): Promise<void> {
    const ps = s.peer;
    try {
      await this.host.sink.attach(ps.deviceId, s.link);
    } catch (err) {
      await this.endStream(s, `the engine refused the link: ${errText(err)}`);
      return;
    }
    if (s.ended) return;
    this.host.log(`syncing with ${ps.deviceId} (${s.outbound ? 'outbound' : 'inbound'} stream)`);
    let reason = 'the peer closed the stream';
    try {
      const inFlight: Promise<void>[] = [];
      try {
        for (;;) {
          const frame = await s.reader.next();
          if (frame === null || s.ended) break;
          const applied = this.host.sink.onFrame(ps.deviceId, frame, s.link);
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
    await this.endStream(s, reason);
  }

  /** Ends a sync stream once: detaches its link from the sink and aborts the stream if still open. */
  endStream(s: PeerStream, reason: string, replaced = false): Promise<void> {
    if (s.ended) return s.detached;
    s.ended = true;
    const ps = s.peer;
    if (ps.syncStream === s) ps.syncStream = null;
    s.reader.dispose();
    s.releaseWaiters();
    if (s.stream.status === 'open' || s.stream.status === 'closing') {
      try {
        s.stream.abort(new Error(reason));
      } catch {
        // already gone
      }
    }
    this.host.log(`sync with ${ps.deviceId} ended: ${reason}`);
    let detaching: Promise<void>;
    try {
      detaching = this.host.sink.detach(ps.deviceId, s.link); // now, so it comes before a replacing attach
    } catch (err) {
      detaching = Promise.reject(err);
    }
    s.detached = detaching.catch((err: unknown) => {
      this.host.log(`detaching ${ps.deviceId} failed: ${errText(err)}`);
    });
    if (!replaced && !this.host.stopped()) {
      if (Date.now() - s.started >= STABLE_MS) ps.reopenAttempt = 0;
      this.scheduleReopen(ps);
    }
    return s.detached;
  }
}
