/**
 * An append-only JSONL journal for durable state, and a `MetaStore` built on one.
 *
 * Each `append` is one line holding the JSON array of its records, written in one write and
 * fdatasynced, so a batch is atomic: a crash leaves at most a torn last line, which `open` drops
 * and truncates away. Records are plain JSON; callers encode bytes (as hex) themselves.
 * `compact` rewrites the file as just the live records (temp file, fsync, rename, dir fsync).
 */
import { constants, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { ErrorCodes, RoamError } from '../errors.js';
import type { MetaStore } from '../store.js';
import { asRoamError, stateDirFull, syncDir, writeAll, type SyncCounter } from './io.js';
import { readJournal } from './journal-read.js';

/** Journals smaller than this are never worth compacting. */
const MIN_COMPACT_BYTES = 64 * 1024;
/** Characters of serialized records written to a compaction at a time. */
const WRITE_CHUNK = 256 * 1024;

export class Journal {
  private bytes: number;
  /** Size at which `due` turns true: the journal grew by the live size since the last check. */
  private checkAt: number;
  /** Serializes appends and compactions. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly file: string,
    private fh: FileHandle,
    size: number,
    private readonly counter: SyncCounter,
  ) {
    this.bytes = size;
    // What is on disk at open is taken as live: a compaction left it at most twice the live size.
    // Checking at once would serialize every live record on the first write after each start,
    // on the way to being in sync (~0.3 s for 10,000 items, W4), to learn nothing.
    this.checkAt = Math.max(MIN_COMPACT_BYTES, 2 * size);
  }

  /**
   * Opens (creating) the journal and reads its records in order, line by line: each one goes to
   * `onRecord` if given (nothing is kept), else into the returned `records`. A torn last line is
   * removed.
   */
  static async open(file: string, counter: SyncCounter = { fsyncs: 0 }, onRecord?: (r: unknown) => void): Promise<{ journal: Journal; records: unknown[] }> {
    await fsp.mkdir(path.dirname(file), { recursive: true });
    await fsp.rm(file + '.tmp', { force: true }); // an interrupted compaction
    const records: unknown[] = [];
    // Read and appended through one handle (O_APPEND: writes go to the end whatever was read).
    const fh = await fsp.open(file, 'a+', 0o600);
    try {
      const good = await readJournal(fh, file, onRecord ?? ((r) => records.push(r)));
      const { size } = await fh.stat();
      if (good < size) {
        await fh.truncate(good);
        await fh.datasync();
        counter.fsyncs++;
      }
      return { journal: new Journal(file, fh, good, counter), records };
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  /** Whether `compact` is worth calling (amortized: at most one live-size serialization per live size of growth). */
  get due(): boolean {
    return this.bytes >= this.checkAt;
  }

  /** Durably appends the records as one atomic batch. */
  append(records: readonly unknown[]): Promise<void> {
    return this.serial(async () => {
      const line = Buffer.from(JSON.stringify(records) + '\n');
      try {
        await writeAll(this.fh, line);
      } catch (e) {
        // A partial write (ENOSPC, …) must not merge with the next batch into one corrupt line.
        await this.fh.truncate(this.bytes).catch(() => undefined);
        throw stateDirFull(e, path.dirname(this.file));
      }
      this.bytes += line.length;
      await this.fh.datasync();
      this.counter.fsyncs++;
    });
  }

  /**
   * Rewrites the journal as exactly `live` if it has grown past twice their size. Returns whether
   * it did. If it fails, the old journal is still intact and in use. The records are serialized
   * and written a chunk at a time (never the whole text in memory), and the rewrite is abandoned
   * as soon as it passes half the journal's size (then it would not be worth it).
   */
  compact(live: Iterable<unknown>): Promise<boolean> {
    return this.serial(async () => {
      if (this.bytes <= MIN_COMPACT_BYTES) {
        this.checkAt = this.bytes + MIN_COMPACT_BYTES;
        return false;
      }
      const tmp = this.file + '.tmp';
      const limit = this.bytes / 2;
      const out = await fsp.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_APPEND, 0o600);
      let size = 0;
      let worth = true;
      try {
        let chunk: string[] = [];
        let chunkLen = 0;
        const flush = async () => {
          const data = Buffer.from(chunk.join(''));
          chunk = [];
          chunkLen = 0;
          await writeAll(out, data);
          size += data.length;
        };
        for (const r of live) {
          const line = JSON.stringify([r]) + '\n';
          chunk.push(line);
          chunkLen += line.length;
          if (chunkLen >= WRITE_CHUNK) {
            await flush();
            if (size >= limit) worth = false;
            if (!worth) break;
          }
        }
        if (worth && chunkLen) await flush();
        if (size >= limit) worth = false;
        if (worth) {
          await out.sync();
          this.counter.fsyncs++;
          await fsp.rename(tmp, this.file);
        }
      } catch (e) {
        await out.close();
        await fsp.rm(tmp, { force: true }); // on a full disk, give its space back
        throw stateDirFull(e, path.dirname(this.file));
      }
      if (!worth) {
        // Not worth it: check again once the journal has grown by about the live size.
        await out.close();
        await fsp.rm(tmp, { force: true });
        this.checkAt = this.bytes + Math.max(Math.min(size, this.bytes), MIN_COMPACT_BYTES);
        return false;
      }
      // The new handle already refers to the renamed file: swap before anything else can fail.
      const old = this.fh;
      this.fh = out;
      this.bytes = size;
      this.checkAt = this.bytes + Math.max(size, MIN_COMPACT_BYTES);
      await old.close();
      await syncDir(path.dirname(this.file), this.counter);
      return true;
    });
  }

  close(): Promise<void> {
    return this.serial(() => this.fh.close());
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** A `MetaStore` over a journal of `{ k, v }` records (the last value per key wins; null deletes). */
export class JournalMetaStore implements MetaStore {
  /** Runs before each `put` (the folder store journals what the state may refer to). */
  beforePut: (() => Promise<void>) | undefined;

  private constructor(
    private readonly journal: Journal,
    private readonly map: Map<string, unknown>,
  ) {}

  static async open(file: string, counter?: SyncCounter): Promise<JournalMetaStore> {
    const map = new Map<string, unknown>();
    const { journal } = await Journal.open(file, counter, (rec) => {
      const r = rec as { k: string; v?: unknown };
      if (r.v == null) map.delete(r.k);
      else map.set(r.k, r.v);
    });
    return new JournalMetaStore(journal, map);
  }

  async load(): Promise<Map<string, unknown>> {
    return new Map(this.map);
  }

  async put(entries: ReadonlyArray<readonly [string, unknown]>): Promise<void> {
    try {
      await this.beforePut?.();
      await this.journal.append(entries.map(([k, v]) => ({ k, v: v ?? null })));
      for (const [k, v] of entries) {
        if (v == null) this.map.delete(k);
        else this.map.set(k, v);
      }
    } catch (e) {
      throw asRoamError(e);
    }
    // Opportunistic: a failed compaction leaves the journal intact, and the next put retries.
    if (this.journal.due) await this.compact().catch(() => undefined);
  }

  /** Compacts if worthwhile. */
  async compact(): Promise<void> {
    await this.journal.compact(liveOf(this.map));
  }

  close(): Promise<void> {
    return this.journal.close();
  }
}

/** The map's records, serialized lazily from a snapshot of its pairs (taken now: later puts go to the journal after). */
function liveOf(map: Map<string, unknown>): Iterable<{ k: string; v: unknown }> {
  const pairs = [...map];
  return (function* () {
    for (const [k, v] of pairs) yield { k, v };
  })();
}
