/**
 * The store's index of items: each item's content state and the stat fingerprint it last saw,
 * kept in memory and journaled as records (set, add, del, and the intent/abort pair around an
 * append). New logs' records may wait for the next journal write (group commit, see appends.ts).
 */
import type { Stats } from 'node:fs';
import { bytesEqual, fromHex, toHex } from '../bytes.js';
import type { DiskState, ItemKind } from '../items.js';
import type { LogPos } from '../log/position.js';
import { syncDir } from './io.js';
import { Journal } from './journal.js';
import type { FsStoreStats } from './stats.js';

/** What a stat of the file said when the store last looked; equal means unchanged. */
export interface Fingerprint {
  readonly ino: number;
  readonly dev: number;
  readonly size: number;
  readonly mtimeMs: number;
}

export interface Entry {
  readonly state: DiskState;
  readonly disk: Fingerprint;
  /** log: hex SHA-256 of the up-to-4096 bytes before `state.size`; file: ''. */
  readonly tail: string;
  /** log: checkpoints (see LineChain), sorted by offset; file: []. */
  checkpoints: LogPos[];
}

export interface EntryJson {
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
export interface IntentRecord {
  t: 'intent';
  name: string;
  from: number;
  to: number;
  ino: number | null;
  dev: number | null;
}

export type IndexRecord =
  | { t: 'set'; name: string; e: EntryJson } // the whole entry
  | { t: 'add'; name: string; e: EntryJson } // the whole entry, but `e.cps` extend the known checkpoints
  | { t: 'del'; name: string }
  | IntentRecord
  | { t: 'abort'; name: string }; // closes an intent whose write was undone


/** The index in memory and its journal. */
export class ItemIndex {
  readonly entries = new Map<string, Entry>();
  readonly intents = new Map<string, IntentRecord>();
  /**
   * Records of new logs renamed into place (see `createLog` in appends.ts), applied in memory but not yet
   * journaled, and the directories whose fsync must precede them. The next journal write (any
   * record, or `meta.put`, which the replication state always goes through) carries them first.
   */
  pendingRecords: IndexRecord[] = [];
  readonly pendingDirs = new Set<string>();
  /** Calls of `persist` waiting for the next journal write, and the write loop while one runs. */
  private waiting: Array<{ records: IndexRecord[]; resolve: () => void; reject: (e: unknown) => void }> = [];
  private flushing: Promise<void> | null = null;

  constructor(
    readonly journal: Journal,
    private readonly stats: FsStoreStats,
  ) {}

  /** Opens the index's journal and applies its records as they are read (no array of them is kept). */
  static async open(file: string, stats: FsStoreStats): Promise<ItemIndex> {
    const entries = new Map<string, Entry>();
    const intents = new Map<string, IntentRecord>();
    const { journal } = await Journal.open(file, stats, (r) => applyRecord(entries, intents, r as IndexRecord));
    const index = new ItemIndex(journal, stats);
    for (const [k, v] of entries) index.entries.set(k, v);
    for (const [k, v] of intents) index.intents.set(k, v);
    return index;
  }

  // ---- index ----

  /**
   * Journals the records, then applies them to the in-memory index. Pending records of new logs
   * go first, in the same batch, after their directories are fsynced (so a record never becomes
   * durable before the rename it records). Calls made while a write is in flight are grouped into
   * the next one (one journal line, one fdatasync), in call order: a scan examines several items at
   * once.
   */
  persist(records: IndexRecord[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ records, resolve, reject });
      this.flushing ??= this.flushAll();
    });
  }

  private async flushAll(): Promise<void> {
    while (this.waiting.length) {
      const group = this.waiting.splice(0);
      try {
        await this.write(group.length === 1 ? group[0]!.records : group.flatMap((g) => g.records));
        for (const g of group) g.resolve();
      } catch (e) {
        for (const g of group) g.reject(e);
      }
    }
    this.flushing = null;
  }

  private async write(records: IndexRecord[]): Promise<void> {
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

  apply(r: IndexRecord): void {
    applyRecord(this.entries, this.intents, r);
  }

  /** The live records, encoded one at a time as they are taken (from a snapshot of the entries taken now). */
  liveRecords(): Iterable<IndexRecord> {
    const entries = [...this.entries];
    const intents = [...this.intents.values()];
    return (function* (): Generator<IndexRecord> {
      for (const [name, e] of entries) yield { t: 'set', name, e: encodeEntry(e) };
      yield* intents;
    })();
  }
}

function applyRecord(entries: Map<string, Entry>, intents: Map<string, IntentRecord>, r: IndexRecord): void {
  switch (r.t) {
    case 'set':
    case 'add': {
      const entry = decodeEntry(r.name, r.e);
      const before = entries.get(r.name);
      if (r.t === 'add' && before) entry.checkpoints = before.checkpoints.concat(entry.checkpoints);
      entries.set(r.name, entry);
      intents.delete(r.name);
      break;
    }
    case 'del':
      entries.delete(r.name);
      intents.delete(r.name);
      break;
    case 'intent':
      intents.set(r.name, r);
      break;
    case 'abort':
      intents.delete(r.name);
      break;
    default:
      throw new Error(`unknown index record ${JSON.stringify(r)}`);
  }
}

export function fingerprint(st: Stats): Fingerprint {
  return { ino: st.ino, dev: st.dev, size: st.size, mtimeMs: st.mtimeMs };
}

export function sameDisk(a: Fingerprint, b: Fingerprint): boolean {
  return a.ino === b.ino && a.dev === b.dev && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

/** The same recorded state: kind, size, line count and hash (mtime and mode aside). */
export function sameDiskState(a: DiskState, b: DiskState): boolean {
  return a.kind === b.kind && a.size === b.size && a.lines === b.lines && bytesEqual(a.hash, b.hash);
}

/** The last position with offset <= `offset` in a sorted list, or undefined. */
export function lastAtOrBefore(list: readonly LogPos[], offset: number): LogPos | undefined {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.offset <= offset) lo = mid + 1;
    else hi = mid;
  }
  return list[lo - 1];
}

export function encodeEntry(e: Entry, cps: readonly LogPos[] = e.checkpoints): EntryJson {
  const { kind, size, lines, hash, mtimeMs, mode } = e.state;
  return { kind, size, lines, hash: toHex(hash), mtimeMs, mode, disk: e.disk, tail: e.tail, cps: cps.map((p) => [p.offset, p.line, toHex(p.hash)]) };
}

export function decodeEntry(name: string, j: EntryJson): Entry {
  return {
    state: { name, kind: j.kind, deleted: false, size: j.size, lines: j.lines, hash: fromHex(j.hash), mtimeMs: j.mtimeMs, mode: j.mode },
    disk: j.disk,
    tail: j.tail,
    checkpoints: j.cps.map(([offset, line, hash]) => ({ offset, line, hash: fromHex(hash) })),
  };
}

