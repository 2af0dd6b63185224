/**
 * The peers' outgoing queues: sends and serves go to a per-peer queue that awaits each
 * `Link.send`, which gives send backpressure without blocking other peers. A failed send closes
 * that peer's link and nothing else.
 */
import { isRoamError } from '../errors.js';
import { encodeMessage, type Message } from '../protocol/index.js';
import type { EngineStats, Link } from './types.js';

/** One peer's link and its queue of outgoing work. */
export interface PeerChannel {
  readonly link: Link;
  /** Outgoing work for this peer, run in order. */
  queue: Promise<void>;
  /** Jobs in `queue` not finished yet: the link is flushed when the last one is done. */
  jobs: number;
  closed: boolean;
}

export class PeerQueues {
  /** The connected peers' channels, by peer. */
  readonly channels = new Map<string, PeerChannel>();

  constructor(
    private readonly stats: EngineStats,
    private readonly log: (line: string) => void,
    /** A send to `peer` failed and its link was closed: end its session unless a new link came up. */
    private readonly sendFailed: (peer: string) => void,
  ) {}

  /** Runs `job` on the peer's queue after its earlier jobs (nothing once the peer is gone). */
  enqueue(peer: string, job: () => Promise<void>): void {
    const ch = this.channels.get(peer);
    if (!ch || ch.closed) return;
    ch.jobs++;
    ch.queue = ch.queue.then(async () => {
      try {
        if (!ch.closed) await job();
      } catch (err) {
        const why = isRoamError(err) ? `${err.code}: ${err.message}` : String(err);
        this.log(`sending to ${peer} failed: ${why}`);
        if (this.channels.get(peer) !== ch) return;
        this.close(peer, why);
        this.sendFailed(peer);
      } finally {
        // The burst is over (an index entry and the lines it announces, say): let them go out together.
        if (--ch.jobs === 0 && !ch.closed) ch.link.flush?.();
      }
    });
  }

  /** Encodes and sends one message now (the caller is on the peer's queue). */
  async sendNow(peer: string, msg: Message): Promise<void> {
    const ch = this.channels.get(peer);
    if (!ch || ch.closed) return;
    const frame = encodeMessage(msg);
    this.stats.framesOut++;
    this.stats.bytesOut += frame.length;
    await ch.link.send(frame, msg);
  }

  /** Closes the link to `peer` and forgets its channel. */
  close(peer: string, reason: string): void {
    const ch = this.channels.get(peer);
    if (!ch) return;
    ch.closed = true;
    this.channels.delete(peer);
    ch.link.close(reason);
  }
}
