/**
 * `FsFolderStore`: the `FolderStore` port over a real folder.
 *
 * Names ending `.jsonl` are line logs, everything else whole files. The store keeps an index of
 * every item (content state plus the stat fingerprint it last saw) in a journal under `stateDir`,
 * so that a scan, even after a restart, judges unchanged files by stat alone and reads a grown log
 * only past its known end. Its own writes update the index, so scans never report them.
 *
 * Crash safety of appends: an intent record is journaled before the data is written and the new
 * state after it is fsynced; `open` truncates a log with an intent but no commit back to the
 * intent's offset, so after a crash a log holds only whole batches and matches its persisted state.
 * Whole-content writes go to a hidden temp file that is renamed over the item. A brand-new log is
 * written whole under a temp name, fsynced and renamed into place; its directory fsync and record
 * wait for the next journal write (any record, or `meta.put`, so before the replication state can
 * refer to it): after a crash such a log is absent, or whole and unknown (the next scan reports it).
 */
import { constants, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { ErrorCodes, RoamError } from '../errors.js';
import type { DiskState, LocalChange } from '../items.js';
import { DEFAULT_CHECKPOINT_INTERVAL, LineChain } from '../log/chain.js';
import type { Hasher } from '../log/hash.js';
import { endOf, GENESIS, type LogPos } from '../log/position.js';
import { validateName } from '../names.js';
import type { FolderStore, PartialTail, ScanOptions, StagedWrite } from '../store.js';
import { nodeHasher } from './hash.js';
import { asRoamError } from './io.js';
import { JournalMetaStore } from './journal.js';
import { partialTailOf } from './partial-tail.js';
import type { FsStoreStats } from './stats.js';
import { lstatItem, openItem } from './safe-path.js';
import { encodeEntry, fingerprint, type IndexRecord, ItemIndex, lastAtOrBefore } from './index-records.js';
import { ChunkReader } from './read-range.js';
import type { StoreCtx } from './store-context.js';
import { scan, walk, type WalkedFile } from './scan.js';
import { appendLog, rollBack } from './appends.js';
import { copy, dropPartialTail, remove, rename, touch } from './writes.js';
import { commitStaged, discard, openStaging } from './staging.js';
import { expireTrash, listTrash, restoreFromTrash, type TrashEntry } from './trash.js';

const { O_RDONLY } = constants;

export type { FsStoreStats };
export { TEMP_PREFIX } from './store-helpers.js';
export { trashStampTime, type TrashEntry } from './trash.js';

export interface FsFolderStoreOptions {
  /** The synced folder (must exist). */
  root: string;
  /** Where the index, meta journal and trash live (created if missing; skipped by scans if inside root). */
  stateDir: string;
  /** Defaults to `nodeHasher`. */
  hasher?: Hasher;
  /** Log checkpoint spacing in bytes (default 1 MiB). */
  checkpointInterval?: number;
  /** Paths (files or directories, relative to root) that scans skip. */
  ignore?: (name: string) => boolean;
  /** Clock for deletion times and trash folder names. */
  now?: () => number;
  /**
   * The first full scan after `open` takes the files `open`'s walk found (one walk at a start,
   * not two) if nothing has written through the store in between. Only for a caller whose
   * watcher watched the folder before `open`: a file created after that walk is reported by it.
   */
  reuseOpenWalk?: boolean;
  /** Fault injection for tests: runs after an append's data is durable, before its state is taken. */
  afterAppendWrite?: (name: string) => Promise<void>;
  /** Fault injection for tests: runs when part of an append's batch is on disk (synced), before the rest. */
  midAppendWrite?: (name: string) => Promise<void>;
}


export class FsFolderStore implements FolderStore {
  private readonly ctx: StoreCtx;
  /** Serializes every operation that writes or scans. */
  private queue: Promise<unknown> = Promise.resolve();
  /** The files `open` found, for the full scan that follows it (null once used or stale). */
  private walked: WalkedFile[] | null = null;
  private readonly reuseOpenWalk: boolean;

  private constructor(
    root: string,
    stateDir: string,
    opts: FsFolderStoreOptions,
    private readonly index: ItemIndex,
    readonly meta: JournalMetaStore,
    readonly stats: FsStoreStats,
  ) {
    const hasher = opts.hasher ?? nodeHasher;
    this.reuseOpenWalk = opts.reuseOpenWalk === true;
    this.ctx = {
      root,
      stateDir,
      hasher,
      interval: opts.checkpointInterval ?? DEFAULT_CHECKPOINT_INTERVAL,
      ignore: opts.ignore ?? (() => false),
      now: opts.now ?? Date.now,
      stats,
      index,
      reader: new ChunkReader(hasher, stats),
      staging: new Set(),
      afterAppendWrite: opts.afterAppendWrite,
      midAppendWrite: opts.midAppendWrite,
    };
  }

  static async create(opts: FsFolderStoreOptions): Promise<FsFolderStore> {
    try {
      const root = await fsp.realpath(opts.root);
      await fsp.mkdir(opts.stateDir, { recursive: true });
      const stateDir = await fsp.realpath(opts.stateDir);
      const stats: FsStoreStats = { bytesRead: 0, tailBytesRead: 0, bytesHashed: 0, fsyncs: 0 };
      const meta = await JournalMetaStore.open(path.join(stateDir, 'meta.jsonl'), stats);
      const index = await ItemIndex.open(path.join(stateDir, 'index.jsonl'), stats).catch((cause: unknown) => {
        if (cause instanceof RoamError) throw cause;
        throw new RoamError(ErrorCodes.STORE_CORRUPT, `unreadable store index in ${stateDir}`, { stateDir }, { cause });
      });
      const store = new FsFolderStore(root, stateDir, opts, index, meta, stats);
      // The replication state may record new logs: their records are journaled before it.
      meta.beforePut = () => store.serial(() => index.persist([]), true);
      return store;
    } catch (e) {
      throw asRoamError(e);
    }
  }

  open(): Promise<DiskState[]> {
    return this.serial(async () => {
      for (const intent of [...this.index.intents.values()]) {
        const after = await rollBack(this.ctx, intent);
        const known = this.index.entries.get(intent.name);
        // The log is back to its known content: record its new stat so it matches again.
        const refresh: IndexRecord[] = after && known ? [{ t: 'add', name: intent.name, e: encodeEntry({ ...known, disk: fingerprint(after) }, []) }] : [];
        await this.index.persist([{ t: 'abort', name: intent.name }, ...refresh]);
      }
      const found = await walk(this.ctx);
      for (const f of found) if (f.temp) await fsp.rm(f.abs, { force: true });
      // Kept for the full scan that follows an open (one walk at a start, not two), unless
      // anything that writes runs in between (see `serial`).
      if (this.reuseOpenWalk) this.walked = found.filter((f) => !f.temp);
      return [...this.index.entries.values()].map((e) => e.state);
    }, true);
  }

  scan(names?: readonly string[], opts: ScanOptions = {}): Promise<LocalChange[]> {
    if (names) return this.serial(() => scan(this.ctx, names, opts));
    return this.serial(() => {
      const walked = this.walked;
      this.walked = null;
      return scan(this.ctx, undefined, opts, walked ?? undefined);
    }, true);
  }

  stat(name: string): DiskState | null {
    return this.index.entries.get(name)?.state ?? null;
  }

  positionAt(name: string, offset: number): Promise<LogPos | null> {
    return this.guard(async () => {
      validateName(name);
      const known = this.index.entries.get(name);
      if (!known || known.state.kind !== 'log' || !Number.isSafeInteger(offset) || offset < 0 || offset > known.state.size) return null;
      if (offset === known.state.size) return endOf(known.state);
      const base = lastAtOrBefore(known.checkpoints, offset) ?? GENESIS;
      if (base.offset === offset) return base;
      const chain = new LineChain(this.ctx.hasher, base, Number.MAX_SAFE_INTEGER);
      const fh = await openItem(this.ctx.root, name, O_RDONLY, this.stats);
      try {
        await this.ctx.reader.readRange(fh, base.offset, offset, (c) => chain.push(c));
      } finally {
        await fh.close();
      }
      return chain.pos.offset === offset ? chain.pos : null;
    });
  }

  checkpoints(name: string): Promise<LogPos[]> {
    return this.guard(async () => [...(this.index.entries.get(validateName(name))?.checkpoints ?? [])]);
  }

  read(name: string, offset: number, length: number): Promise<Uint8Array> {
    return this.guard(async () => {
      validateName(name);
      const size = this.index.entries.get(name)?.state.size ?? 0;
      const want = Math.min(length, size - offset);
      if (!(want > 0 && offset >= 0)) return new Uint8Array(0);
      const buf = new Uint8Array(want);
      const fh = await openItem(this.ctx.root, name, O_RDONLY, this.stats);
      let got = 0;
      try {
        for (let n = -1; got < want && n !== 0; got += n) n = (await fh.read(buf, got, want - got, offset + got)).bytesRead;
      } finally {
        await fh.close();
      }
      this.stats.bytesRead += got;
      return buf.subarray(0, got);
    });
  }

  appendLog(name: string, start: LogPos, data: readonly Uint8Array[], end: LogPos, mtimeMs: number, mode?: number): Promise<DiskState> {
    return this.serial(() => appendLog(this.ctx, name, start, data, end, mtimeMs, mode));
  }

  stage(name: string): Promise<StagedWrite> {
    return this.guard(async () => {
      const s = await openStaging(this.ctx, name);
      return {
        write: (offset, data) => this.guard(() => s.write(offset, data)),
        commit: (target, expected) => this.serial(() => commitStaged(this.ctx, s, target, expected)),
        abort: () => this.guard(() => discard(this.ctx, s)),
      };
    });
  }

  remove(name: string, expected: DiskState): Promise<void> {
    return this.serial(() => remove(this.ctx, name, expected));
  }

  rename(from: string, to: string, expected: DiskState): Promise<DiskState> {
    return this.serial(() => rename(this.ctx, from, to, expected));
  }

  close(): Promise<void> {
    return this.serial(async () => {
      try {
        for (const s of [...this.ctx.staging]) await discard(this.ctx, s);
        await this.index.persist([]); // pending records of new logs
        await this.index.journal.compact(this.index.liveRecords());
        await this.meta.compact();
      } finally {
        await this.index.journal.close();
        await this.meta.close();
      }
    });
  }

  partialTail(name: string): Promise<PartialTail | null> {
    return this.guard(async () => {
      const known = this.index.entries.get(validateName(name));
      return known ? partialTailOf(known.state, await lstatItem(this.ctx.root, name), known.disk) : null;
    });
  }

  dropPartialTail(name: string, expected: DiskState, tail: PartialTail): Promise<DiskState> {
    return this.serial(() => dropPartialTail(this.ctx, name, expected, tail));
  }

  touch(name: string, mtimeMs: number, expected: DiskState): Promise<DiskState> {
    return this.serial(() => touch(this.ctx, name, mtimeMs, expected));
  }

  copy(from: string, to: string, expected: DiskState): Promise<DiskState> {
    return this.serial(() => copy(this.ctx, from, to, expected));
  }

  // ---- trash (roam restore) ----

  /**
   * What the trash holds: every file roam removed or replaced in this folder, newest first.
   * `entry` (`<stamp>/<name>`) names it for `restoreFromTrash`; `deletedAt` comes from the stamp.
   */
  listTrash(): Promise<TrashEntry[]> {
    return this.guard(() => listTrash(this.ctx));
  }

  /**
   * Puts a trash entry back at its name (or at `as`), as a new file the next scan reports as a
   * local change: the engine gives it a new version, so it reaches the other devices. Never
   * replaces anything: a name that exists is ROAM_STORE_CONFLICT. The file is hard-linked into
   * place (or copied beside it and then linked, across file systems), so it appears whole.
   */
  restoreFromTrash(entry: string, as?: string): Promise<string> {
    return this.serial(() => restoreFromTrash(this.ctx, entry, as));
  }

  /** Deletes trash entries removed more than `maxAgeMs` ago (by their stamp; never a younger one). Returns how many. */
  expireTrash(maxAgeMs: number): Promise<number> {
    return this.serial(() => expireTrash(this.ctx, maxAgeMs));
  }

  /**
   * Runs `fn` after every earlier operation. Any operation but the open, the full scan and the
   * journal flush before a state write drops the open's walk (it may change what is on disk).
   */
  private serial<T>(fn: () => Promise<T>, keepsWalk = false): Promise<T> {
    const run = this.queue.then(() => {
      if (!keepsWalk) this.walked = null;
      return this.guard(fn);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw asRoamError(e);
    }
  }
}
