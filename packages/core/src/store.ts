/**
 * The store port: one synced folder on some medium. `node/fs-store.ts` implements it over a real
 * folder, `testing/memory-store.ts` in memory. The engine is the only caller.
 *
 * Rules every implementation keeps:
 * - every name passes `validateName` and never resolves outside the folder;
 * - a write whose `expected` state differs from what is on disk is refused with ROAM_STORE_CONFLICT
 *   (a local change raced it; the next scan reports that change), never applied over it;
 * - the store's own writes are never reported by `scan` as local changes;
 * - data is durable before the state that records it (append: write, fsync, then persist).
 */
import type { DiskState, ItemKind, LocalChange } from './items.js';
import type { LogPos } from './log/position.js';

export interface StagedTarget {
  readonly kind: ItemKind;
  readonly size: number;
  /** log: number of complete lines; file: 0. */
  readonly lines: number;
  /** log: chain hash of the whole content from genesis; file: SHA-256 of the content. */
  readonly hash: Uint8Array;
  readonly mtimeMs: number;
  readonly mode: number;
}

/** A whole-content write in progress: a hidden temp file in the item's own directory. */
export interface StagedWrite {
  /** Writes must be sequential: `offset` equals the bytes written so far. */
  write(offset: number, data: Uint8Array): Promise<void>;
  /**
   * Verifies size and hash against `target` (ROAM_STORE_HASH_MISMATCH otherwise), checks that the
   * item on disk is still `expected` (null: absent or deleted), keeps what it replaces in the
   * trash, then atomically renames the temp file over the item and persists its state.
   */
  commit(target: StagedTarget, expected: DiskState | null): Promise<DiskState>;
  /** Removes the temp file. Safe to call after a failed commit. */
  abort(): Promise<void>;
}

/** A line log's held-back partial last line, as the disk holds it now. */
export interface PartialTail {
  /** Bytes past the last complete line. */
  readonly bytes: number;
  /** The file's mtime: when a writer last touched it. */
  readonly mtimeMs: number;
}

export interface ScanOptions {
  /**
   * Re-read and re-hash the named items whole, trusting no fingerprint. Used before acting on a
   * divergence: an in-place edit that kept the tail of a log can escape the cheap checks.
   */
  readonly deep?: boolean;
}

export interface FolderStore {
  /** Recovers from interrupted writes (torn appends, temp files) and returns every live item. */
  open(): Promise<DiskState[]>;
  /**
   * Compares the disk with the known state of `names` (every item, and any new file, when omitted),
   * records what changed and returns it. Unchanged files are judged by stat alone; a grown log is
   * read only past its known end, if it grew and the bytes before that end are unchanged.
   */
  scan(names?: readonly string[], opts?: ScanOptions): Promise<LocalChange[]>;
  /** Known state of an item, or null when absent. */
  stat(name: string): DiskState | null;
  /** Position of a line log at byte `offset`, or null if `offset` is not a line end within the known size. */
  positionAt(name: string, offset: number): Promise<LogPos | null>;
  /** Checkpoints of a line log (see log/chain.ts), sorted by offset. */
  checkpoints(name: string): Promise<LogPos[]>;
  /** Up to `length` bytes of the item from `offset`, never past its known size. */
  read(name: string, offset: number, length: number): Promise<Uint8Array>;
  /**
   * Appends complete lines to a line log (creating it when `start` is genesis and it is absent).
   * Refused unless the known end equals `start` and the disk still matches it. The data must fold
   * from `start` to `end` (ROAM_STORE_HASH_MISMATCH otherwise). Written with O_APPEND, fsynced,
   * mtime set to `mtimeMs` and permission bits to `mode` (when given), then the state is persisted.
   */
  appendLog(name: string, start: LogPos, data: readonly Uint8Array[], end: LogPos, mtimeMs: number, mode?: number): Promise<DiskState>;
  /**
   * The partial last line a line log holds past its known end (bytes no `\n` has closed yet), or
   * null when it ends with a complete line (or is no live log of this store).
   */
  partialTail(name: string): Promise<PartialTail | null>;
  /**
   * Moves that partial line to the trash (as `<name>.partial`, its bytes kept) and cuts the log
   * back to its last complete line, if the index still holds `expected` and the disk exactly that
   * plus `tail` (ROAM_STORE_CONFLICT otherwise: a writer came back). The mtime is set back to
   * the last complete line's. See docs/PROTOCOL.md, "Partial last lines".
   */
  dropPartialTail(name: string, expected: DiskState, tail: PartialTail): Promise<DiskState>;
  /** Starts a whole-content write of `name`. */
  stage(name: string): Promise<StagedWrite>;
  /** Moves the item to the trash, if the disk still matches `expected`. */
  remove(name: string, expected: DiskState): Promise<void>;
  /**
   * Copies an item to a new name (conflict copies, forks: the original stays in place until the
   * winner replaces it), if the disk still matches `expected` and `to` is free; mtime and mode kept.
   */
  copy(from: string, to: string, expected: DiskState): Promise<DiskState>;
  /** Sets an item's mtime (identical content from a peer with a newer mtime), if the disk still matches. */
  touch(name: string, mtimeMs: number, expected: DiskState): Promise<DiskState>;
  /** Renames an item, if the disk still matches `expected` and `to` is free. */
  rename(from: string, to: string, expected: DiskState): Promise<DiskState>;
  /** Replication metadata (version vectors, sequences, peers' indexes), persisted beside the store. */
  readonly meta: MetaStore;
  close(): Promise<void>;
}

/** A durable key/value map for the replication layer's records. */
export interface MetaStore {
  load(): Promise<Map<string, unknown>>;
  /** Applies the entries (null deletes) durably and in order. */
  put(entries: ReadonlyArray<readonly [string, unknown]>): Promise<void>;
}
