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
import { randomBytes } from 'node:crypto';
import { constants, promises as fsp, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { bytesEqual, fromHex, toHex } from '../bytes.js';
import { ErrorCodes, RoamError, isRoamError } from '../errors.js';
import type { DiskState, ItemKind, LocalChange } from '../items.js';
import { DEFAULT_CHECKPOINT_INTERVAL, LineChain } from '../log/chain.js';
import { sha256Of, type Hasher, type Sha256State } from '../log/hash.js';
import { GENESIS, ZERO_HASH, endOf, samePos, type LogPos } from '../log/position.js';
import { isLogName, validateName } from '../names.js';
import type { FolderStore, PartialTail, ScanOptions, StagedTarget, StagedWrite } from '../store.js';
import { nodeHasher } from './hash.js';
import { appendBatch, asRoamError, checkRoom, errnoCode, syncDir, writeAll } from './io.js';
import { Journal, JournalMetaStore } from './journal.js';
import { cutPartialTail, partialTailOf, partialTrashName } from './partial-tail.js';
import type { FsStoreStats } from './stats.js';

export type { FsStoreStats };
import { checkParents, ensureParents, itemPath, lstatItem, openItem, openPinned, peerMode, setMode } from './safe-path.js';

/** Prefix of the store's hidden temp files; scans skip them and `open` deletes them. */
export const TEMP_PREFIX = '.roam-tmp-';
/** A grown log counts as appended only if these bytes before its known end are unchanged. */
const TAIL_BYTES = 4096;
const CHUNK = 1 << 20;
/** lstat calls a full scan has in flight at once. */
const SCAN_BATCH = 64;
const { O_RDONLY, O_RDWR, O_APPEND, O_CREAT, O_EXCL } = constants;

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
  /** Fault injection for tests: runs after an append's data is durable, before its state is taken. */
  afterAppendWrite?: (name: string) => Promise<void>;
  /** Fault injection for tests: runs when part of an append's batch is on disk (synced), before the rest. */
  midAppendWrite?: (name: string) => Promise<void>;
}


/** What a stat of the file said when the store last looked; equal means unchanged. */
interface Fingerprint {
  readonly ino: number;
  readonly dev: number;
  readonly size: number;
  readonly mtimeMs: number;
}

interface Entry {
  readonly state: DiskState;
  readonly disk: Fingerprint;
  /** log: hex SHA-256 of the up-to-4096 bytes before `state.size`; file: ''. */
  readonly tail: string;
  /** log: checkpoints (see LineChain), sorted by offset; file: []. */
  checkpoints: LogPos[];
}

interface EntryJson {
  kind: ItemKind;
  size: number;
  lines: number;
  hash: string;
  mtimeMs: number;
  mode: number;
  disk: Fingerprint;
  tail: string;
  cps: [offset: number, line: number, hash: string][];
}

/** An append in progress: `ino` null when it creates the log. */
interface IntentRecord {
  t: 'intent';
  name: string;
  from: number;
  to: number;
  ino: number | null;
  dev: number | null;
}

type IndexRecord =
  | { t: 'set'; name: string; e: EntryJson } // the whole entry
  | { t: 'add'; name: string; e: EntryJson } // the whole entry, but `e.cps` extend the known checkpoints
  | { t: 'del'; name: string }
  | IntentRecord
  | { t: 'abort'; name: string }; // closes an intent whose write was undone

export class FsFolderStore implements FolderStore {
  private readonly entries = new Map<string, Entry>();
  private readonly intents = new Map<string, IntentRecord>();
  private readonly staging = new Set<Staging>();
  /** readRange's buffer when no read holds it. */
  private readBuf: Uint8Array | null = null;
  private readonly hasher: Hasher;
  private readonly interval: number;
  private readonly ignore: (name: string) => boolean;
  private readonly now: () => number;
  private readonly afterAppendWrite: ((name: string) => Promise<void>) | undefined;
  private readonly midAppendWrite: ((name: string) => Promise<void>) | undefined;
  /** Serializes every operation that writes or scans. */
  private queue: Promise<unknown> = Promise.resolve();
  /**
   * Records of new logs renamed into place (see `createLog`), applied in memory but not yet
   * journaled, and the directories whose fsync must precede them. The next journal write (any
   * record, or `meta.put`, which the replication state always goes through) carries them first.
   */
  private pendingRecords: IndexRecord[] = [];
  private readonly pendingDirs = new Set<string>();

  private constructor(
    private readonly root: string,
    private readonly stateDir: string,
    opts: FsFolderStoreOptions,
    private readonly journal: Journal,
    readonly meta: JournalMetaStore,
    readonly stats: FsStoreStats,
  ) {
    this.hasher = opts.hasher ?? nodeHasher;
    this.interval = opts.checkpointInterval ?? DEFAULT_CHECKPOINT_INTERVAL;
    this.ignore = opts.ignore ?? (() => false);
    this.afterAppendWrite = opts.afterAppendWrite;
    this.midAppendWrite = opts.midAppendWrite;
    this.now = opts.now ?? Date.now;
  }

  static async create(opts: FsFolderStoreOptions): Promise<FsFolderStore> {
    try {
      const root = await fsp.realpath(opts.root);
      await fsp.mkdir(opts.stateDir, { recursive: true });
      const stateDir = await fsp.realpath(opts.stateDir);
      const stats: FsStoreStats = { bytesRead: 0, tailBytesRead: 0, bytesHashed: 0, fsyncs: 0 };
      const meta = await JournalMetaStore.open(path.join(stateDir, 'meta.jsonl'), stats);
      const { journal, records } = await Journal.open(path.join(stateDir, 'index.jsonl'), stats);
      const store = new FsFolderStore(root, stateDir, opts, journal, meta, stats);
      // The replication state may record new logs: their records are journaled before it.
      meta.beforePut = () => store.serial(() => store.persist([]));
      try {
        for (const r of records) store.apply(r as IndexRecord);
      } catch (cause) {
        throw new RoamError(ErrorCodes.STORE_CORRUPT, `unreadable store index in ${stateDir}`, { stateDir }, { cause });
      }
      return store;
    } catch (e) {
      throw asRoamError(e);
    }
  }

  open(): Promise<DiskState[]> {
    return this.serial(async () => {
      for (const intent of [...this.intents.values()]) {
        const after = await this.rollBack(intent);
        const known = this.entries.get(intent.name);
        // The log is back to its known content: record its new stat so it matches again.
        const refresh: IndexRecord[] = after && known ? [{ t: 'add', name: intent.name, e: encodeEntry({ ...known, disk: fingerprint(after) }, []) }] : [];
        await this.persist([{ t: 'abort', name: intent.name }, ...refresh]);
      }
      for (const f of await this.walk()) if (f.temp) await fsp.rm(f.abs, { force: true });
      return [...this.entries.values()].map((e) => e.state);
    });
  }

  scan(names?: readonly string[], opts: ScanOptions = {}): Promise<LocalChange[]> {
    return this.serial(async () => {
      const found = new Map<string, Stats | null>();
      // An ignored item is left as it is: not examined, and never reported deleted (an ignore
      // rule or a selective-sync change must not delete anything on other devices).
      if (names) {
        for (const name of names) if (!this.ignore(name)) found.set(name, await this.lstatForScan(name));
      } else {
        const files = (await this.walk()).filter((f) => !f.temp && isValidName(f.name));
        // lstat in batches, not one at a time: with a cold cache each waits on the disk (W4).
        for (let i = 0; i < files.length; i += SCAN_BATCH) {
          const batch = files.slice(i, i + SCAN_BATCH);
          const stats = await Promise.all(batch.map((f) => fsp.lstat(f.abs).catch(nullIfMissing)));
          batch.forEach((f, j) => found.set(f.name, stats[j]?.isFile() ? stats[j]! : null));
        }
        for (const name of this.entries.keys()) if (!found.has(name) && !this.ignore(name)) found.set(name, null);
      }
      const changes: LocalChange[] = [];
      for (const [name, st] of found) {
        const change = await this.examine(name, st, opts.deep === true);
        if (change) changes.push(change);
      }
      return changes;
    });
  }

  stat(name: string): DiskState | null {
    return this.entries.get(name)?.state ?? null;
  }

  positionAt(name: string, offset: number): Promise<LogPos | null> {
    return this.guard(async () => {
      validateName(name);
      const known = this.entries.get(name);
      if (!known || known.state.kind !== 'log' || !Number.isSafeInteger(offset) || offset < 0 || offset > known.state.size) return null;
      if (offset === known.state.size) return endOf(known.state);
      const base = lastAtOrBefore(known.checkpoints, offset) ?? GENESIS;
      if (base.offset === offset) return base;
      const chain = new LineChain(this.hasher, base, Number.MAX_SAFE_INTEGER);
      const fh = await openItem(this.root, name, O_RDONLY, this.stats);
      try {
        await this.readRange(fh, base.offset, offset, (c) => chain.push(c));
      } finally {
        await fh.close();
      }
      return chain.pos.offset === offset ? chain.pos : null;
    });
  }

  checkpoints(name: string): Promise<LogPos[]> {
    return this.guard(async () => [...(this.entries.get(validateName(name))?.checkpoints ?? [])]);
  }

  read(name: string, offset: number, length: number): Promise<Uint8Array> {
    return this.guard(async () => {
      validateName(name);
      const size = this.entries.get(name)?.state.size ?? 0;
      const want = Math.min(length, size - offset);
      if (!(want > 0 && offset >= 0)) return new Uint8Array(0);
      const buf = new Uint8Array(want);
      const fh = await openItem(this.root, name, O_RDONLY, this.stats);
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
    return this.serial(async () => {
      validateName(name);
      if (!isLogName(name)) throw conflict(name, 'not a line log');
      const known = this.entries.get(name);
      if (!samePos(known ? endOf(known.state) : GENESIS, start)) throw conflict(name, 'the log does not end at the start position');
      // Fold first: nothing is written unless the data is complete lines leading exactly to `end`.
      const chain = new LineChain(this.hasher, start, this.interval);
      let total = 0;
      for (const d of data) {
        chain.push(d);
        total += d.length;
      }
      this.stats.bytesHashed += total;
      if (chain.partialBytes !== 0 || !samePos(chain.pos, end)) {
        throw new RoamError(ErrorCodes.STORE_HASH_MISMATCH, `append to ${name} does not fold to the announced end`, { name });
      }
      // The disk must still be what the index says, with no partial line a local writer left.
      const st = await lstatItem(this.root, name);
      if (known ? !(st?.isFile() && sameDisk(fingerprint(st), known.disk) && st.size === start.offset) : st !== null) {
        throw conflict(name, 'changed on disk');
      }
      // Refuse a batch the disk cannot hold before writing any of it: a write that runs out of
      // space midway shows a partial line (or a new, half-written file) until it is undone.
      await checkRoom(this.root, total);
      if (!known) return await this.createLog(name, data, total, end, mtimeMs, mode, chain);
      const intent: IntentRecord = { t: 'intent', name, from: start.offset, to: end.offset, ino: known?.disk.ino ?? null, dev: known?.disk.dev ?? null };
      await this.persist([intent]);
      let fh: FileHandle | undefined;
      let undo: (() => Promise<unknown>) | undefined;
      try {
        fh = await openItem(this.root, name, O_RDWR | O_APPEND | O_CREAT | (known ? 0 : O_EXCL), this.stats);
        const file = fh;
        if (!known) undo = () => fsp.unlink(itemPath(this.root, name)); // O_EXCL: we created it
        else if (sameDisk(fingerprint(await file.stat()), known.disk)) undo = () => file.truncate(start.offset);
        else throw conflict(name, 'changed on disk');
        await appendBatch(file, data, total, this.midAppendWrite && (() => this.midAppendWrite!(name))); // undone below if it fails
        await file.sync();
        this.stats.fsyncs++;
        await this.afterAppendWrite?.(name);
        if (mode !== undefined && ((await file.stat()).mode & 0o777) !== peerMode(mode)) await setMode(file, peerMode(mode));
        // A tool may append right behind us. Then its mtime is kept, and the fingerprint records
        // our end (not the size seen), so the next scan reads its lines as a local append instead
        // of taking the grown file for the state just written.
        const raced = (await file.stat()).size !== end.offset;
        if (!raced) await file.utimes(mtimeMs / 1000, mtimeMs / 1000);
        const after = await file.stat();
        if (!known) await syncDir(path.dirname(itemPath(this.root, name)), this.stats);
        const state: DiskState = { name, kind: 'log', deleted: false, size: end.offset, lines: end.line, hash: end.hash, mtimeMs, mode: after.mode & 0o777 };
        const disk = raced || after.size !== end.offset ? { ...fingerprint(after), size: end.offset, mtimeMs: -1 } : fingerprint(after);
        const entry: Entry = { state, disk, tail: await this.tailOf(file, end.offset), checkpoints: [] };
        await this.persist([{ t: known ? 'add' : 'set', name, e: encodeEntry(entry, chain.takeCheckpoints()) }]);
        return state;
      } catch (e) {
        // Undo the write and close the intent; if that fails too, the next open() does it.
        await (undo?.() ?? Promise.resolve())
          .then(() => this.persist([{ t: 'abort', name }]))
          .catch(() => undefined);
        throw e;
      } finally {
        await fh?.close();
      }
    });
  }

  /**
   * A brand-new log: written whole under a temp name, fsynced, then renamed into place (so the
   * name only ever holds the whole batch) before its record is journaled. No intent record is
   * needed: a crash before the rename leaves a temp file (`open` deletes it); a crash between
   * the rename and the record leaves the whole log unknown to the index, which the next scan
   * reports as a new item (the replicator takes it for the same content it pulled, no conflict).
   * Saves one journal fsync per received file.
   */
  private async createLog(name: string, data: readonly Uint8Array[], total: number, end: LogPos, mtimeMs: number, mode: number | undefined, chain: LineChain): Promise<DiskState> {
    await ensureParents(this.root, name, this.stats);
    const slash = name.lastIndexOf('/') + 1;
    const tmpName = name.slice(0, slash) + tempName(name.slice(slash));
    const tmp = itemPath(this.root, tmpName);
    const dst = itemPath(this.root, name);
    const file = await openPinned(this.root, tmpName, O_RDWR | O_CREAT | O_EXCL, mode === undefined ? 0o600 : peerMode(mode));
    let renamed = false;
    try {
      await appendBatch(file, data, total);
      if (mode !== undefined && ((await file.stat()).mode & 0o777) !== peerMode(mode)) await setMode(file, peerMode(mode));
      await file.utimes(mtimeMs / 1000, mtimeMs / 1000);
      await file.sync();
      this.stats.fsyncs++;
      // A local tool may have created the item meanwhile: never rename over it. (The parents
      // were checked just above; a symlink at the item is taken as present too.)
      if ((await fsp.lstat(dst).catch(nullIfMissing)) !== null) throw conflict(name, 'changed on disk');
      await fsp.rename(tmp, dst);
      renamed = true;
      await this.afterAppendWrite?.(name);
      const after = await file.stat();
      // A tool may append right behind us (see appendLog): its lines are read by the next scan.
      const raced = after.size !== end.offset;
      const state: DiskState = { name, kind: 'log', deleted: false, size: end.offset, lines: end.line, hash: end.hash, mtimeMs, mode: after.mode & 0o777 };
      const disk = raced ? { ...fingerprint(after), size: end.offset, mtimeMs: -1 } : fingerprint(after);
      // The tail fingerprint from the data in hand: the file begins with exactly these bytes.
      const entry: Entry = { state, disk, tail: this.tailOfData(data, total), checkpoints: [] };
      // Group commit: the directory fsync and the record wait for the next journal write.
      const record: IndexRecord = { t: 'set', name, e: encodeEntry(entry, chain.takeCheckpoints()) };
      this.pendingDirs.add(path.dirname(dst));
      this.pendingRecords.push(record);
      this.apply(record);
      return state;
    } catch (e) {
      // Before the rename only the temp file exists; after it the log is whole, and a scan
      // reports it if its record is missing.
      if (!renamed) await fsp.rm(tmp, { force: true }).catch(() => undefined);
      else {
        // Undo our own creation, unless a tool wrote to it meanwhile (then a scan takes it).
        const st = await fsp.lstat(dst).catch(() => null);
        const own = await file.stat().catch(() => null);
        if (st && own && st.ino === own.ino && st.dev === own.dev && st.size === end.offset) {
          await fsp.unlink(dst).then(() => syncDir(path.dirname(dst), this.stats)).catch(() => undefined);
        }
      }
      throw e;
    } finally {
      await file.close();
    }
  }

  stage(name: string): Promise<StagedWrite> {
    return this.guard(async () => {
      await ensureParents(this.root, name, this.stats);
      await lstatItem(this.root, name); // refuses a symlink at the item
      const tmpName = name.slice(0, name.lastIndexOf('/') + 1) + tempName(name.slice(name.lastIndexOf('/') + 1));
      const fh = await openPinned(this.root, tmpName, O_RDWR | O_CREAT | O_EXCL, 0o600);
      const s = new Staging(name, tmpName, fh, isLogName(name) ? new LineChain(this.hasher, GENESIS, this.interval) : this.hasher.createSha256(), this.stats);
      this.staging.add(s);
      return {
        write: (offset, data) => this.guard(() => s.write(offset, data)),
        commit: (target, expected) => this.commitStaged(s, target, expected),
        abort: () => this.guard(() => this.discard(s)),
      };
    });
  }

  remove(name: string, expected: DiskState): Promise<void> {
    return this.serial(async () => {
      if (!(await this.checkExpected(name, expected))) return; // expected absent, and it is
      const from = itemPath(this.root, name);
      const to = await this.trashPath(name);
      await fsp.mkdir(path.dirname(to), { recursive: true, mode: 0o700 });
      await fsp.rename(from, to).catch(async (e: unknown) => {
        if (errnoCode(e) !== 'EXDEV') throw e;
        await fsp.copyFile(from, to, constants.COPYFILE_EXCL);
        await fsp.unlink(from);
      });
      await syncDir(path.dirname(from), this.stats);
      await this.persist([{ t: 'del', name }]);
      await this.pruneEmptyParents(name);
    });
  }

  /**
   * Removes the directories above a removed item that it left empty, up to the folder root: a
   * peer that deleted a directory (rm -rf, a renamed project) leaves none behind here either.
   */
  private async pruneEmptyParents(name: string): Promise<void> {
    for (let dir = path.posix.dirname(name); dir !== '.'; dir = path.posix.dirname(dir)) {
      const abs = itemPath(this.root, dir);
      const st = await fsp.lstat(abs).catch(nullIfMissing);
      if (!st?.isDirectory()) return;
      try {
        await fsp.rmdir(abs);
      } catch {
        return; // not empty (or not ours to remove): stop here
      }
    }
  }

  rename(from: string, to: string, expected: DiskState): Promise<DiskState> {
    return this.serial(async () => {
      validateName(to);
      if (isLogName(from) !== isLogName(to)) {
        throw new RoamError(ErrorCodes.PATH_INVALID, `renaming ${from} to ${to} would change its kind`, { from, to });
      }
      const known = await this.checkExpected(from, expected);
      if (!known) throw conflict(from, 'absent');
      if ((await lstatItem(this.root, to)) !== null) throw conflict(to, 'already exists');
      await ensureParents(this.root, to, this.stats);
      const src = itemPath(this.root, from);
      const dst = itemPath(this.root, to);
      await fsp.rename(src, dst);
      await syncDir(path.dirname(dst), this.stats);
      if (path.dirname(src) !== path.dirname(dst)) await syncDir(path.dirname(src), this.stats);
      const entry: Entry = { ...known, state: { ...known.state, name: to } };
      await this.persist([
        { t: 'del', name: from },
        { t: 'set', name: to, e: encodeEntry(entry) },
      ]);
      return entry.state;
    });
  }

  close(): Promise<void> {
    return this.serial(async () => {
      try {
        for (const s of [...this.staging]) await this.discard(s);
        await this.persist([]); // pending records of new logs
        await this.journal.compact(this.liveRecords());
        await this.meta.compact();
      } finally {
        await this.journal.close();
        await this.meta.close();
      }
    });
  }

  // ---- scanning ----

  /** Compares one item's disk stat (null: absent) with the index; records and returns the change. */
  private async examine(name: string, st: Stats | null, deep: boolean): Promise<LocalChange | null> {
    const known = this.entries.get(name);
    if (!deep && st && known && sameDisk(fingerprint(st), known.disk)) return null;
    const fh = st ? await this.openForScan(name) : null;
    if (!fh) {
      if (!known) return null;
      await this.persist([{ t: 'del', name }]);
      return { change: 'delete', state: { ...known.state, deleted: true, size: 0, lines: 0, hash: ZERO_HASH, mtimeMs: this.now() } };
    }
    try {
      const fst = await fh.stat();
      const disk = fingerprint(fst);
      // An append: same file, grown since last seen (a change that keeps the size is an edit),
      // and the bytes just before the known end unchanged.
      if (
        !deep &&
        known?.state.kind === 'log' &&
        disk.ino === known.disk.ino &&
        disk.dev === known.disk.dev &&
        disk.size > known.disk.size &&
        disk.size >= known.state.size &&
        (await this.tailOf(fh, known.state.size)) === known.tail
      ) {
        return await this.readAppended(name, fh, known, fst);
      }
      return await this.rehash(name, fh, known, fst);
    } finally {
      await fh.close();
    }
  }

  /** A log that only grew: folds the bytes past its known end (a partial last line is held back). */
  private async readAppended(name: string, fh: FileHandle, known: Entry, fst: Stats): Promise<LocalChange | null> {
    const chain = new LineChain(this.hasher, endOf(known.state), this.interval);
    await this.readRange(fh, known.state.size, fst.size, (c) => chain.push(c));
    const grew = chain.pos.offset > known.state.size;
    const entry: Entry = grew
      ? {
          state: { ...known.state, size: chain.pos.offset, lines: chain.pos.line, hash: chain.pos.hash, mtimeMs: fst.mtimeMs, mode: fst.mode & 0o777 },
          disk: fingerprint(fst),
          tail: await this.tailOf(fh, chain.pos.offset),
          checkpoints: [],
        }
      : { ...known, disk: fingerprint(fst) };
    await this.persist([{ t: 'add', name, e: encodeEntry(entry, chain.takeCheckpoints()) }]);
    return grew ? { change: 'append', state: entry.state } : null;
  }

  /** Hashes an item from scratch: `replace` unless the content is what the index already had. */
  private async rehash(name: string, fh: FileHandle, known: Entry | undefined, fst: Stats): Promise<LocalChange | null> {
    let pos: LogPos;
    let checkpoints: LogPos[] = [];
    let tail = '';
    let appended = false;
    if (isLogName(name)) {
      const chain = new LineChain(this.hasher, GENESIS, this.interval);
      // A log that still holds its known content and only grew past it was appended to, not
      // rewritten, even when a deep scan reads it whole: a new epoch would make this device's
      // version dominate a peer's concurrent lines, which would then be replaced, not forked.
      const prefix = known?.state.kind === 'log' ? Math.min(known.state.size, fst.size) : 0;
      await this.readRange(fh, 0, prefix, (c) => chain.push(c));
      if (known?.state.kind === 'log' && samePos(chain.pos, endOf(known.state))) appended = true;
      await this.readRange(fh, prefix, fst.size, (c) => chain.push(c));
      pos = chain.pos;
      checkpoints = chain.takeCheckpoints();
      tail = await this.tailOf(fh, pos.offset);
    } else {
      const sha = this.hasher.createSha256();
      const size = await this.readRange(fh, 0, fst.size, (c) => sha.update(c));
      pos = { offset: size, line: 0, hash: sha.digest() };
    }
    const state: DiskState = { name, kind: isLogName(name) ? 'log' : 'file', deleted: false, size: pos.offset, lines: pos.line, hash: pos.hash, mtimeMs: fst.mtimeMs, mode: fst.mode & 0o777 };
    // A whole file whose mtime alone moved is a change, as in Syncthing: peers take the mtime
    // (a tool that writes and then sets the time would otherwise leave them with the first one).
    // A log's mtime follows its appends and is not a version of its own.
    const same = known !== undefined && sameDiskState(known.state, state) && (state.kind === 'log' || known.state.mtimeMs === state.mtimeMs);
    const entry: Entry = { state: same ? known.state : state, disk: fingerprint(fst), tail, checkpoints };
    await this.persist([{ t: 'set', name, e: encodeEntry(entry) }]);
    return same ? null : { change: appended && pos.offset > known!.state.size ? 'append' : 'replace', state };
  }

  /** lstat for a named scan: a symlink or non-file counts as absent (an invalid name is still refused). */
  private async lstatForScan(name: string): Promise<Stats | null> {
    const st = await lstatItem(this.root, validateName(name)).catch((e: unknown) => {
      if (isRoamError(e, ErrorCodes.PATH_ESCAPE) || isRoamError(e, ErrorCodes.NAME_CLASH)) return null;
      throw e;
    });
    return st?.isFile() ? st : null;
  }

  /** Opens an item for reading, or null if it vanished or turned into a symlink or non-file meanwhile. */
  private async openForScan(name: string): Promise<FileHandle | null> {
    return openItem(this.root, name, O_RDONLY, this.stats).catch((e: unknown) => {
      if (errnoCode(e) === 'ENOENT' || isRoamError(e, ErrorCodes.PATH_ESCAPE) || isRoamError(e, ErrorCodes.STORE_CONFLICT)) return null;
      throw e;
    });
  }

  /** Regular files under the root, without following symlinks, skipping ignored paths and the state dir. */
  private async walk(): Promise<{ name: string; abs: string; temp: boolean }[]> {
    type Found = { name: string; abs: string; temp: boolean };
    // Sub-directories are read side by side (a cold cache waits on each readdir; libuv's pool
    // bounds the I/O in flight), and the result keeps the order of a depth-first walk.
    const visit = async (dir: string, prefix: string): Promise<Found[]> => {
      const dirents = await fsp.readdir(dir, { withFileTypes: true }).catch((e: unknown) => {
        if (errnoCode(e) === 'ENOENT') return []; // removed meanwhile
        throw e;
      });
      const parts: Array<Found | Promise<Found[]>> = [];
      for (const d of dirents) {
        const name = prefix + d.name;
        const abs = path.join(dir, d.name);
        if (d.isFile() && d.name.startsWith(TEMP_PREFIX)) parts.push({ name, abs, temp: true });
        else if (abs === this.stateDir || this.ignore(name)) continue;
        else if (d.isDirectory()) parts.push(visit(abs, name + '/'));
        else if (d.isFile()) parts.push({ name, abs, temp: false });
      }
      const out: Found[] = [];
      for (const p of await Promise.all(parts)) {
        if (Array.isArray(p)) for (const f of p) out.push(f);
        else out.push(p);
      }
      return out;
    };
    return visit(this.root, '');
  }

  /** Reads [from, to) in chunks into `sink` (stops early if the file is shorter). Returns the offset reached. */
  private async readRange(fh: FileHandle, from: number, to: number, sink: (chunk: Uint8Array) => void): Promise<number> {
    // One buffer (up to CHUNK bytes), reused while no other read holds it: a buffer per call was up to
    // 1 MB of garbage per item scanned, held off-heap until V8 collected its wrapper (W5: ~40 MB of
    // arrayBuffers at the peak of indexing 10,000 files). `sink` must not keep the chunk.
    const want = Math.max(0, Math.min(CHUNK, to - from));
    const buf = this.readBuf && this.readBuf.length >= want ? this.readBuf : new Uint8Array(want);
    this.readBuf = null;
    let at = from;
    try {
      while (at < to) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, to - at), at);
        if (bytesRead === 0) break;
        this.stats.bytesRead += bytesRead;
        this.stats.bytesHashed += bytesRead;
        sink(buf.subarray(0, bytesRead));
        at += bytesRead;
      }
    } finally {
      const kept = this.readBuf as Uint8Array | null; // another read may have put one back meanwhile
      if (!kept || kept.length < buf.length) this.readBuf = buf;
    }
    return at;
  }

  /** `tailOf` of a log that holds exactly `data` (`total` bytes). */
  private tailOfData(data: readonly Uint8Array[], total: number): string {
    const parts: Uint8Array[] = [];
    let want = Math.min(total, TAIL_BYTES);
    for (let i = data.length - 1; i >= 0 && want > 0; i--) {
      const d = data[i]!;
      const take = Math.min(want, d.length);
      parts.unshift(d.subarray(d.length - take));
      want -= take;
    }
    return toHex(sha256Of(this.hasher, parts));
  }

  /** Hex SHA-256 of the up-to-4096 bytes before `end`. */
  private async tailOf(fh: FileHandle, end: number): Promise<string> {
    const buf = new Uint8Array(Math.min(end, TAIL_BYTES));
    const n = buf.length === 0 ? 0 : (await fh.read(buf, 0, buf.length, end - buf.length)).bytesRead;
    this.stats.tailBytesRead += n;
    return toHex(sha256Of(this.hasher, [buf.subarray(0, n)]));
  }

  // ---- writing ----

  /**
   * Checks that item `name` is still `expected` (null or deleted: absent) in the index and on
   * disk; ROAM_STORE_CONFLICT otherwise. Returns the index entry (undefined when absent).
   */
  private async checkExpected(name: string, expected: DiskState | null): Promise<Entry | undefined> {
    const st = await lstatItem(this.root, name);
    if (expected === null || expected.deleted) {
      if (st !== null) throw conflict(name, 'exists');
      return undefined;
    }
    const known = this.entries.get(name);
    if (!known || !sameDiskState(known.state, expected)) throw conflict(name, 'the index differs from the expected state');
    if (!st?.isFile() || !sameDisk(fingerprint(st), known.disk)) throw conflict(name, 'changed on disk');
    return known;
  }

  private commitStaged(s: Staging, target: StagedTarget, expected: DiskState | null): Promise<DiskState> {
    return this.serial(async () => {
      if (s.finished) throw new RoamError(ErrorCodes.STORE_IO, `staged write of ${s.name} is already finished`, { name: s.name });
      s.finished = true; // one attempt: any failure below discards the temp file
      try {
        await s.flushed();
        await s.fh.sync();
        this.stats.fsyncs++;
        const got = s.result();
        const ok =
          target.kind === (isLogName(s.name) ? 'log' : 'file') &&
          target.size === s.written &&
          got.size === s.written &&
          target.lines === got.lines &&
          bytesEqual(target.hash, got.hash);
        if (!ok) throw new RoamError(ErrorCodes.STORE_HASH_MISMATCH, `staged content of ${s.name} does not match its target`, { name: s.name });
        await this.checkExpected(s.name, expected);
        await setMode(s.fh, peerMode(target.mode));
        await s.fh.utimes(target.mtimeMs / 1000, target.mtimeMs / 1000);
        const st = await s.fh.stat();
        const tail = target.kind === 'log' ? await this.tailOf(s.fh, target.size) : '';
        await s.close();
        const dst = itemPath(this.root, s.name);
        // What this replaces goes to the trash (a hard link: the name never goes missing).
        if (expected) await this.keepInTrash(s.name);
        await fsp.rename(itemPath(this.root, s.tmpName), dst);
        await syncDir(path.dirname(dst), this.stats);
        const state: DiskState = { name: s.name, kind: target.kind, deleted: false, size: target.size, lines: target.lines, hash: target.hash, mtimeMs: target.mtimeMs, mode: target.mode & 0o777 };
        await this.persist([{ t: 'set', name: s.name, e: encodeEntry({ state, disk: fingerprint(st), tail, checkpoints: got.checkpoints }) }]);
        this.staging.delete(s);
        return state;
      } catch (e) {
        await this.discard(s);
        throw e;
      }
    });
  }

  /** Closes and deletes a staged temp file (idempotent; never through a symlinked parent). */
  private async discard(s: Staging): Promise<void> {
    s.finished = true;
    this.staging.delete(s);
    await s.close();
    if (await checkParents(this.root, s.tmpName).catch(() => false)) await fsp.rm(itemPath(this.root, s.tmpName), { force: true });
  }

  /** Undoes an interrupted append (see `appendLog`). Returns the log's stat if it was truncated. */
  private async rollBack(intent: IntentRecord): Promise<Stats | null> {
    const st = await this.lstatForScan(intent.name);
    // Only touch our own write: the same file, not grown past the batch by another writer.
    if (!st || st.size > intent.to) return null;
    if (intent.ino === null) {
      await fsp.unlink(itemPath(this.root, intent.name));
      await syncDir(path.dirname(itemPath(this.root, intent.name)), this.stats);
      return null;
    }
    if (st.ino !== intent.ino || st.dev !== intent.dev || st.size <= intent.from) return null;
    const fh = await openItem(this.root, intent.name, O_RDWR, this.stats);
    try {
      await fh.truncate(intent.from);
      await fh.sync();
      this.stats.fsyncs++;
      return await fh.stat();
    } finally {
      await fh.close();
    }
  }

  partialTail(name: string): Promise<PartialTail | null> {
    return this.guard(async () => {
      const known = this.entries.get(validateName(name));
      return known ? partialTailOf(known.state, await lstatItem(this.root, name), known.disk) : null;
    });
  }

  dropPartialTail(name: string, expected: DiskState, tail: PartialTail): Promise<DiskState> {
    return this.serial(async () => {
      const known = this.entries.get(validateName(name));
      if (!known || !sameDiskState(known.state, expected)) throw conflict(name, 'the index differs from the expected state');
      const after = await cutPartialTail(this.root, name, known.state, known.disk, tail, await this.trashPath(partialTrashName(name)), this.stats);
      await this.persist([{ t: 'add', name, e: encodeEntry({ ...known, disk: fingerprint(after) }, []) }]);
      return known.state;
    });
  }

  touch(name: string, mtimeMs: number, expected: DiskState): Promise<DiskState> {
    return this.serial(async () => {
      const known = await this.checkExpected(name, expected);
      if (!known) throw conflict(name, 'absent');
      const abs = itemPath(this.root, name);
      await fsp.utimes(abs, mtimeMs / 1000, mtimeMs / 1000);
      const entry: Entry = { ...known, state: { ...known.state, mtimeMs }, disk: fingerprint(await fsp.lstat(abs)) };
      await this.persist([{ t: 'set', name, e: encodeEntry(entry) }]);
      return entry.state;
    });
  }

  /** Puts the current content of an item in the trash, leaving the item in place. */
  private async keepInTrash(name: string): Promise<void> {
    const from = itemPath(this.root, name);
    const to = await this.trashPath(name);
    await fsp.mkdir(path.dirname(to), { recursive: true, mode: 0o700 });
    await fsp.link(from, to).catch(async (e: unknown) => {
      if (errnoCode(e) !== 'EXDEV' && errnoCode(e) !== 'EPERM') throw e;
      await fsp.copyFile(from, to, constants.COPYFILE_EXCL);
    });
  }

  copy(from: string, to: string, expected: DiskState): Promise<DiskState> {
    return this.serial(async () => {
      validateName(to);
      if (isLogName(from) !== isLogName(to)) {
        throw new RoamError(ErrorCodes.PATH_INVALID, `copying ${from} to ${to} would change its kind`, { from, to });
      }
      const known = await this.checkExpected(from, expected);
      if (!known) throw conflict(from, 'absent');
      if ((await lstatItem(this.root, to)) !== null) throw conflict(to, 'already exists');
      await ensureParents(this.root, to, this.stats);
      const tmpName = path.posix.join(path.posix.dirname(to), `${TEMP_PREFIX}${randomBytes(6).toString('hex')}-${path.posix.basename(to)}`.replace(/^\.\//, ''));
      const tmp = itemPath(this.root, tmpName);
      try {
        await fsp.copyFile(itemPath(this.root, from), tmp, constants.COPYFILE_EXCL);
        const fh = await fsp.open(tmp, 'r+');
        try {
          await fh.sync();
          this.stats.fsyncs++;
          await setMode(fh, known.state.mode);
          await fh.utimes(known.state.mtimeMs / 1000, known.state.mtimeMs / 1000);
        } finally {
          await fh.close();
        }
        const st = await fsp.lstat(tmp);
        // The copy must be what the index says `from` holds (a writer may have appended since).
        if (st.size !== known.disk.size) throw conflict(from, 'changed on disk');
        await fsp.rename(tmp, itemPath(this.root, to));
        await syncDir(path.dirname(itemPath(this.root, to)), this.stats);
        const entry: Entry = { ...known, state: { ...known.state, name: to }, disk: fingerprint(await fsp.lstat(itemPath(this.root, to))) };
        await this.persist([{ t: 'set', name: to, e: encodeEntry(entry) }]);
        return entry.state;
      } catch (e) {
        await fsp.rm(tmp, { force: true });
        throw e;
      }
    });
  }

  /** `<stateDir>/trash/<YYYYMMDDTHHMMSS-ms>[.n]/<name>`, not yet taken. */
  private async trashPath(name: string): Promise<string> {
    const stamp = new Date(this.now()).toISOString().replace(/[-:]/g, '').replace('.', '-').slice(0, 19);
    for (let n = 0; ; n++) {
      const p = path.join(this.stateDir, 'trash', n === 0 ? stamp : `${stamp}.${n}`, ...name.split('/'));
      if ((await fsp.lstat(p).catch(nullIfMissing)) === null) return p;
    }
  }

  // ---- trash (roam restore) ----

  /**
   * What the trash holds: every file roam removed or replaced in this folder, newest first.
   * `entry` (`<stamp>/<name>`) names it for `restoreFromTrash`; `deletedAt` comes from the stamp.
   */
  listTrash(): Promise<TrashEntry[]> {
    return this.guard(async () => {
      const root = path.join(this.stateDir, 'trash');
      const out: TrashEntry[] = [];
      for (const stamp of await fsp.readdir(root).catch(emptyIfMissing)) {
        const deletedAt = trashStampTime(stamp);
        if (deletedAt === null) continue;
        const walk = async (rel: string): Promise<void> => {
          const dir = path.join(root, stamp, ...rel.split('/').filter(Boolean));
          for (const d of await fsp.readdir(dir, { withFileTypes: true }).catch(emptyIfMissing)) {
            const name = rel ? `${rel}/${d.name}` : d.name;
            if (d.isDirectory()) await walk(name);
            else if (d.isFile() && isValidName(name)) {
              const st = await fsp.lstat(path.join(dir, d.name));
              out.push({ entry: `${stamp}/${name}`, name, deletedAt, size: st.size, mtimeMs: st.mtimeMs });
            }
          }
        };
        await walk('');
      }
      return out.sort((a, b) => b.deletedAt - a.deletedAt || (a.entry < b.entry ? -1 : a.entry > b.entry ? 1 : 0));
    });
  }

  /**
   * Puts a trash entry back at its name (or at `as`), as a new file the next scan reports as a
   * local change: the engine gives it a new version, so it reaches the other devices. Never
   * replaces anything: a name that exists is ROAM_STORE_CONFLICT. The file is hard-linked into
   * place (or copied beside it and then linked, across file systems), so it appears whole.
   */
  restoreFromTrash(entry: string, as?: string): Promise<string> {
    return this.serial(async () => {
      const cut = entry.indexOf('/');
      const stamp = cut > 0 ? entry.slice(0, cut) : '';
      const name = validateName(entry.slice(cut + 1));
      if (trashStampTime(stamp) === null) throw new RoamError(ErrorCodes.USAGE, `not a trash entry: ${entry}`);
      const to = validateName(as ?? name);
      if (isLogName(to) !== isLogName(name)) throw new RoamError(ErrorCodes.PATH_INVALID, `restoring ${name} as ${to} would change its kind`, { name, to });
      const src = path.join(this.stateDir, 'trash', stamp, ...name.split('/'));
      const st = await fsp.lstat(src).catch(nullIfMissing);
      if (!st?.isFile()) throw new RoamError(ErrorCodes.SESSION_NOT_FOUND, `no trash entry ${entry}`, { entry });
      if ((await lstatItem(this.root, to)) !== null) throw conflict(to, 'already exists; roam never restores over a file (move it away first)');
      await ensureParents(this.root, to, this.stats);
      const dst = itemPath(this.root, to);
      try {
        await fsp.link(src, dst);
      } catch (e) {
        if (errnoCode(e) === 'EEXIST') throw conflict(to, 'already exists; roam never restores over a file (move it away first)');
        if (errnoCode(e) !== 'EXDEV' && errnoCode(e) !== 'EPERM') throw e;
        const tmp = path.join(path.dirname(dst), tempName(path.basename(dst)));
        try {
          await fsp.copyFile(src, tmp, constants.COPYFILE_EXCL);
          await fsp.utimes(tmp, st.atime, st.mtime);
          await fsp.link(tmp, dst).catch((e2: unknown) => {
            throw errnoCode(e2) === 'EEXIST' ? conflict(to, 'already exists; roam never restores over a file (move it away first)') : e2;
          });
        } finally {
          await fsp.rm(tmp, { force: true });
        }
      }
      await syncDir(path.dirname(dst), this.stats);
      await fsp.unlink(src);
      await this.pruneEmptyTrash(path.dirname(src));
      return to;
    });
  }

  /** Deletes trash entries removed more than `maxAgeMs` ago (by their stamp; never a younger one). Returns how many. */
  expireTrash(maxAgeMs: number): Promise<number> {
    return this.serial(async () => {
      const root = path.join(this.stateDir, 'trash');
      const cutoff = this.now() - maxAgeMs;
      let n = 0;
      for (const stamp of await fsp.readdir(root).catch(emptyIfMissing)) {
        const t = trashStampTime(stamp);
        if (t === null || t >= cutoff) continue;
        await fsp.rm(path.join(root, stamp), { recursive: true, force: true });
        n++;
      }
      return n;
    });
  }

  /** Removes the empty directories a restore left in the trash, up to the trash itself. */
  private async pruneEmptyTrash(dir: string): Promise<void> {
    const root = path.join(this.stateDir, 'trash');
    for (let d = dir; d.startsWith(`${root}${path.sep}`); d = path.dirname(d)) {
      try {
        await fsp.rmdir(d);
      } catch {
        return;
      }
    }
  }

  // ---- index ----

  /**
   * Journals the records, then applies them to the in-memory index. Pending records of new logs
   * go first, in the same batch, after their directories are fsynced (so a record never becomes
   * durable before the rename it records).
   */
  private async persist(records: IndexRecord[]): Promise<void> {
    const pending = this.pendingRecords.slice();
    if (pending.length) {
      await Promise.all([...this.pendingDirs].map((d) => syncDir(d, this.stats)));
      this.pendingDirs.clear();
    }
    if (!pending.length && !records.length) return;
    await this.journal.append(pending.length ? [...pending, ...records] : records);
    if (pending.length) this.pendingRecords = this.pendingRecords.slice(pending.length);
    for (const r of records) this.apply(r);
    // Opportunistic: a failed compaction leaves the journal intact (and must not fail a write
    // that is already committed); the next due check retries.
    if (this.journal.due) await this.journal.compact(this.liveRecords()).catch(() => undefined);
  }

  private apply(r: IndexRecord): void {
    switch (r.t) {
      case 'set':
      case 'add': {
        const entry = decodeEntry(r.name, r.e);
        const before = this.entries.get(r.name);
        if (r.t === 'add' && before) entry.checkpoints = before.checkpoints.concat(entry.checkpoints);
        this.entries.set(r.name, entry);
        this.intents.delete(r.name);
        break;
      }
      case 'del':
        this.entries.delete(r.name);
        this.intents.delete(r.name);
        break;
      case 'intent':
        this.intents.set(r.name, r);
        break;
      case 'abort':
        this.intents.delete(r.name);
        break;
      default:
        throw new Error(`unknown index record ${JSON.stringify(r)}`);
    }
  }

  private liveRecords(): IndexRecord[] {
    const sets: IndexRecord[] = [...this.entries].map(([name, e]) => ({ t: 'set', name, e: encodeEntry(e) }));
    return [...sets, ...this.intents.values()];
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => this.guard(fn));
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

/** A staged whole-content write: a hidden temp file beside the item, hashed as it is written. */
class Staging {
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

function conflict(name: string, why: string): RoamError {
  return new RoamError(ErrorCodes.STORE_CONFLICT, `${name}: ${why}`, { name });
}

function fingerprint(st: Stats): Fingerprint {
  return { ino: st.ino, dev: st.dev, size: st.size, mtimeMs: st.mtimeMs };
}

function sameDisk(a: Fingerprint, b: Fingerprint): boolean {
  return a.ino === b.ino && a.dev === b.dev && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

/** The same recorded state: kind, size, line count and hash (mtime and mode aside). */
function sameDiskState(a: DiskState, b: DiskState): boolean {
  return a.kind === b.kind && a.size === b.size && a.lines === b.lines && bytesEqual(a.hash, b.hash);
}

/** The last position with offset <= `offset` in a sorted list, or undefined. */
function lastAtOrBefore(list: readonly LogPos[], offset: number): LogPos | undefined {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.offset <= offset) lo = mid + 1;
    else hi = mid;
  }
  return list[lo - 1];
}

function isValidName(name: string): boolean {
  try {
    validateName(name);
    return true;
  } catch {
    return false;
  }
}

function nullIfMissing(e: unknown): null {
  if (errnoCode(e) === 'ENOENT') return null;
  throw e;
}

/** `.roam-tmp-<random>-<basename>`, kept within the 255-byte file name limit. */
function tempName(base: string): string {
  let b = base;
  while (Buffer.byteLength(b) > 200) b = b.slice(0, -1);
  return `${TEMP_PREFIX}${randomBytes(6).toString('hex')}-${b}`;
}

function encodeEntry(e: Entry, cps: readonly LogPos[] = e.checkpoints): EntryJson {
  const { kind, size, lines, hash, mtimeMs, mode } = e.state;
  return { kind, size, lines, hash: toHex(hash), mtimeMs, mode, disk: e.disk, tail: e.tail, cps: cps.map((p) => [p.offset, p.line, toHex(p.hash)]) };
}

function decodeEntry(name: string, j: EntryJson): Entry {
  return {
    state: { name, kind: j.kind, deleted: false, size: j.size, lines: j.lines, hash: fromHex(j.hash), mtimeMs: j.mtimeMs, mode: j.mode },
    disk: j.disk,
    tail: j.tail,
    checkpoints: j.cps.map(([offset, line, hash]) => ({ offset, line, hash: fromHex(hash) })),
  };
}

/** One file in a folder's trash (see `FsFolderStore.listTrash`). */
export interface TrashEntry {
  /** `<stamp>/<name>`: what `restoreFromTrash` takes. */
  readonly entry: string;
  /** The item's name in the folder when it was removed. */
  readonly name: string;
  /** When roam removed or replaced it (ms since the epoch, from the stamp). */
  readonly deletedAt: number;
  readonly size: number;
  /** The file's own mtime (kept from when it was live). */
  readonly mtimeMs: number;
}

/** The time of a trash directory `<YYYYMMDDTHHMMSS-mmm>[.n]` (UTC), or null for any other name. */
export function trashStampTime(stamp: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})-(\d{3})(?:\.\d{1,6})?$/.exec(stamp);
  if (!m) return null;
  const [y, mo, d, h, mi, s, ms] = m.slice(1).map(Number) as [number, number, number, number, number, number, number];
  const t = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  return Number.isFinite(t) ? t : null;
}

function emptyIfMissing(e: unknown): never[] {
  if (errnoCode(e) === 'ENOENT') return [];
  throw e;
}
