/**
 * The sync stream's framing: varint length-prefixed frames, at most MAX_FRAME_BYTES each (a larger
 * one closes that stream, never the daemon), read with receive backpressure.
 */
import type { Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface';
import { MAX_FRAME_BYTES } from '@roam/core';

/** yamux grows a stream's receive window up to this (its default is 16 MiB). */
export const STREAM_WINDOW = 4 * 1024 * 1024;
/**
 * Bytes a paused stream may hold before libp2p resets it. While paused, yamux grants no window,
 * so at most the window in flight (plus one update sent while pausing) can arrive.
 */
export const READ_BUFFER_LIMIT = 2 * STREAM_WINDOW + MAX_FRAME_BYTES;
/** The reader pauses the stream once it holds more than this, and resumes below the second. */
const READ_AHEAD = MAX_FRAME_BYTES;
const READ_RESUME = MAX_FRAME_BYTES / 2;

export function encodeVarint(n: number): Uint8Array {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return Uint8Array.from(out);
}

/** Bytes of the varint prefix of the largest allowed frame. */
const MAX_PREFIX_BYTES = encodeVarint(MAX_FRAME_BYTES).length;

export class FrameTooLargeError extends Error {
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
export class FrameReader {
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
