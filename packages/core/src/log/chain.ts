/**
 * Incremental line framing and chain hashing.
 *
 * `LineChain` consumes raw bytes in any chunking, folds each complete line (bytes up to and
 * including `\n`) into the chain hash, and holds back a trailing partial line: its bytes are fed to
 * the running hash but never counted in `pos` until its `\n` arrives. It never copies or decodes
 * line content, so CRLF, invalid UTF-8 and lines of many MB pass through untouched.
 *
 * It also records checkpoints: the position at the first line end at or after every multiple of
 * `checkpointInterval` bytes. The rule depends only on content, so two logs that share a prefix
 * share the checkpoints inside it, which lets peers find a common prefix by comparing lists.
 */
import type { Hasher, Sha256State } from './hash.js';
import type { LogPos } from './position.js';

export const DEFAULT_CHECKPOINT_INTERVAL = 1024 * 1024;

const NL = 0x0a;

export class LineChain {
  private readonly hasher: Hasher;
  private readonly interval: number;
  private current: LogPos;
  private running: Sha256State | null = null;
  private partial = 0;
  private nextCheckpointAt: number;
  /** Checkpoints produced since construction (or since the last `takeCheckpoints`). */
  private fresh: LogPos[] = [];

  constructor(hasher: Hasher, start: LogPos, checkpointInterval = DEFAULT_CHECKPOINT_INTERVAL) {
    if (!(checkpointInterval > 0)) throw new RangeError('checkpointInterval must be > 0');
    this.hasher = hasher;
    this.interval = checkpointInterval;
    this.current = start;
    this.nextCheckpointAt = (Math.floor(start.offset / checkpointInterval) + 1) * checkpointInterval;
  }

  /** Position after the last complete line seen. */
  get pos(): LogPos {
    return this.current;
  }

  /** Bytes of the held-back partial line. */
  get partialBytes(): number {
    return this.partial;
  }

  /** Feed bytes. Returns how many of them belong to complete lines (from this chunk). */
  push(chunk: Uint8Array): number {
    let from = 0;
    let completed = 0;
    while (from < chunk.length) {
      const nl = chunk.indexOf(NL, from);
      if (nl === -1) {
        const rest = chunk.subarray(from);
        (this.running ??= this.hasher.createSha256().update(this.current.hash)).update(rest);
        this.partial += rest.length;
        break;
      }
      const piece = chunk.subarray(from, nl + 1);
      const state = this.running ?? this.hasher.createSha256().update(this.current.hash);
      state.update(piece);
      const lineLen = this.partial + piece.length;
      this.current = { offset: this.current.offset + lineLen, line: this.current.line + 1, hash: state.digest() };
      this.running = null;
      this.partial = 0;
      completed = nl + 1;
      if (this.current.offset >= this.nextCheckpointAt) {
        this.fresh.push(this.current);
        this.nextCheckpointAt = (Math.floor(this.current.offset / this.interval) + 1) * this.interval;
      }
      from = nl + 1;
    }
    return completed;
  }

  takeCheckpoints(): LogPos[] {
    const out = this.fresh;
    this.fresh = [];
    return out;
  }
}
