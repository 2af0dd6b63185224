/** The engine's ports and options: a link to a peer, a clock, and what the engine runs with. */
import type { Hasher } from '../log/hash.js';
import type { Message } from '../protocol/index.js';
import type { ReplicatorOptions } from '../replication/replicator.js';
import type { FolderStore } from '../store.js';

/** A reliable, ordered, bidirectional frame channel to one peer (a libp2p stream, or a test pipe). */
export interface Link {
  /**
   * Resolves once the transport has accepted the frame (waits while it is congested). `msg` is what
   * the frame encodes, for a link that counts what it carries without decoding it again.
   */
  send(frame: Uint8Array, msg?: Message): Promise<void>;
  close(reason: string): void;
  /**
   * Nothing more is queued for this peer right now. A link may hold small frames back to send
   * several in one transport write (one muxer frame, one encryption record); it must send what it
   * holds when this is called.
   */
  flush?(): void;
}

export interface Clock {
  now(): number;
}

export interface EngineOptions extends ReplicatorOptions {
  readonly stores: ReadonlyMap<string, FolderStore>;
  readonly hasher: Hasher;
  readonly clock: Clock;
  readonly log?: (line: string) => void;
  /**
   * After a pull failed on a store I/O error (a full disk), try it again after this long,
   * doubling up to 60 s while it keeps failing (default 2 s).
   */
  readonly ioRetryMs?: number;
  /** A partial last line that holds up a write is dropped after this long unwritten (default 30 s; see partial-tails.ts). */
  readonly partialTailMs?: number;
  /** Whether a tool on this device holds the item open now: its partial last line is then never dropped. */
  readonly liveWriter?: (folder: string, name: string) => boolean;
}

/** The engine's counters (status and benchmarks). */
export interface EngineStats {
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
  refusedFrames: number;
}
