/** A staged whole-content write's temp file, hashed as it is written (see staging.ts). */
import type { FileHandle } from 'node:fs/promises';
import { ErrorCodes, RoamError } from '../errors.js';
import { LineChain } from '../log/chain.js';
import type { Sha256State } from '../log/hash.js';
import type { LogPos } from '../log/position.js';
import { writeAll } from './io.js';
import type { FsStoreStats } from './stats.js';

/** A staged whole-content write: a hidden temp file beside the item, hashed as it is written. */
export class Staging {
  written = 0;
  finished = false;
  private closed = false;
  /** The chain of pending writes, in order. */
  private writes: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    /** The temp file's item-relative name. */
    readonly tmpName: string,
    readonly fh: FileHandle,
    private readonly hash: LineChain | Sha256State,
    private readonly stats: FsStoreStats,
  ) {}

  write(offset: number, data: Uint8Array): Promise<void> {
    if (this.finished) return Promise.reject(new RoamError(ErrorCodes.STORE_IO, `staged write of ${this.name} is finished`, { name: this.name }));
    if (offset !== this.written) {
      return Promise.reject(new RoamError(ErrorCodes.PROTOCOL_VIOLATION, `staged write of ${this.name} at ${offset}, expected ${this.written}`, { name: this.name }));
    }
    this.written += data.length;
    this.stats.bytesHashed += data.length;
    if (this.hash instanceof LineChain) this.hash.push(data);
    else this.hash.update(data);
    return (this.writes = this.writes.then(() => writeAll(this.fh, data, offset)));
  }

  /** Resolves when every write has reached the file (rejects if one failed). */
  flushed(): Promise<void> {
    return this.writes;
  }

  /** Size, line count, hash and checkpoints of what was written (a log's partial last line is not counted). */
  result(): { size: number; lines: number; hash: Uint8Array; checkpoints: LogPos[] } {
    if (!(this.hash instanceof LineChain)) return { size: this.written, lines: 0, hash: this.hash.digest(), checkpoints: [] };
    const { offset, line, hash } = this.hash.pos;
    return { size: offset, lines: line, hash, checkpoints: this.hash.takeCheckpoints() };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }
}
