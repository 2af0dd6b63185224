/**
 * A `FolderStore` in memory, with the same contract as the file store, plus a "tool" side that
 * edits files the way an AI coding tool does (append, partial writes, rewrite, delete), so tests
 * can drive engines without a disk.
 */
import { bytesEqual, concatBytes } from '../bytes.js';
import { ErrorCodes, RoamError } from '../errors.js';
import type { DiskState, LocalChange } from '../items.js';
import { LineChain, DEFAULT_CHECKPOINT_INTERVAL } from '../log/chain.js';
import { nobleHasher, sha256Of, type Hasher } from '../log/hash.js';
import { GENESIS, ZERO_HASH, endOf, samePos, type LogPos } from '../log/position.js';
import { isLogName, validateName } from '../names.js';
import type { FolderStore, MetaStore, PartialTail, StagedTarget, StagedWrite } from '../store.js';

interface DiskFile {
  data: Uint8Array;
  mtimeMs: number;
  mode: number;
  /** Changes on create and on replace-by-rename, like an inode number. */
  ino: number;
}

interface Known {
  state: DiskState;
  ino: number;
  checkpoints: LogPos[];
}

export class MemoryMetaStore implements MetaStore {
  readonly map = new Map<string, unknown>();
  async load(): Promise<Map<string, unknown>> {
    return new Map(this.map);
  }
  async put(entries: ReadonlyArray<readonly [string, unknown]>): Promise<void> {
    for (const [k, v] of entries) {
      if (v === null) this.map.delete(k);
      else this.map.set(k, structuredClone(v));
    }
  }
}

export class MemoryStore implements FolderStore {
  /** What is "on disk". Tests read it; the tool methods below change it. */
  readonly disk = new Map<string, DiskFile>();
  readonly meta: MetaStore;
  readonly trash: Array<{ name: string; data: Uint8Array }> = [];
  private readonly known = new Map<string, Known>();
  private readonly hasher: Hasher;
  private readonly interval: number;
  private nextIno = 1;
  private clockMs = 1_700_000_000_000;

  constructor(opts: { hasher?: Hasher; checkpointInterval?: number; meta?: MetaStore } = {}) {
    this.hasher = opts.hasher ?? nobleHasher;
    this.interval = opts.checkpointInterval ?? DEFAULT_CHECKPOINT_INTERVAL;
    this.meta = opts.meta ?? new MemoryMetaStore();
  }

  // ---------------------------------------------------------------- the tool's side

  /** Appends bytes as a tool would (creating the file if needed). */
  toolAppend(name: string, bytes: Uint8Array, mtimeMs = this.tick()): void {
    const f = this.disk.get(name);
    if (f) {
      f.data = concatBytes([f.data, bytes]);
      f.mtimeMs = mtimeMs;
    } else {
      this.disk.set(name, { data: bytes.slice(), mtimeMs, mode: 0o644, ino: this.nextIno++ });
    }
  }

  /** Rewrites a file in place (same inode) or by atomic replace (new inode). */
  toolWrite(name: string, bytes: Uint8Array, opts: { replace?: boolean; mtimeMs?: number } = {}): void {
    const f = this.disk.get(name);
    const mtimeMs = opts.mtimeMs ?? this.tick();
    if (f && !opts.replace) {
      f.data = bytes.slice();
      f.mtimeMs = mtimeMs;
    } else {
      this.disk.set(name, { data: bytes.slice(), mtimeMs, mode: f?.mode ?? 0o644, ino: this.nextIno++ });
    }
  }

  toolDelete(name: string): void {
    this.disk.delete(name);
  }

  /** name → content, sorted by name. */
  files(): Map<string, Uint8Array> {
    return new Map([...this.disk.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, f]) => [n, f.data]));
  }

  private tick(): number {
    return (this.clockMs += 1000);
  }

  // ---------------------------------------------------------------- FolderStore

  async open(): Promise<DiskState[]> {
    return [...this.known.values()].map((k) => k.state);
  }

  /** Always compares whole contents, so `deep` changes nothing here. */
  async scan(names?: readonly string[]): Promise<LocalChange[]> {
    const all = names ?? [...new Set([...this.disk.keys(), ...this.known.keys()])].sort();
    const out: LocalChange[] = [];
    for (const name of all) {
      const f = this.disk.get(name);
      const k = this.known.get(name);
      if (!f) {
        if (k) {
          this.known.delete(name);
          out.push({ change: 'delete', state: { ...k.state, deleted: true, size: 0, lines: 0, hash: ZERO_HASH } });
        }
        continue;
      }
      if (isLogName(name)) {
        if (k && k.ino === f.ino && f.data.length >= k.state.size) {
          const head = this.fold(GENESIS, f.data.subarray(0, k.state.size));
          if (samePos(head.end, endOf(k.state))) {
            const tail = this.fold(endOf(k.state), f.data.subarray(k.state.size), k.checkpoints);
            if (tail.end.offset > k.state.size) {
              const state = this.logState(name, tail.end, f);
              this.known.set(name, { state, ino: f.ino, checkpoints: tail.checkpoints });
              out.push({ change: 'append', state });
            }
            continue;
          }
        }
        const full = this.fold(GENESIS, f.data);
        if (k && k.ino === f.ino && samePos(full.end, endOf(k.state))) continue;
        const state = this.logState(name, full.end, f);
        this.known.set(name, { state, ino: f.ino, checkpoints: full.checkpoints });
        out.push({ change: 'replace', state });
      } else {
        const hash = sha256Of(this.hasher, [f.data]);
        // A whole file whose mtime alone moved is a change, as in the file store.
        if (k && bytesEqual(k.state.hash, hash) && k.state.size === f.data.length && k.state.mtimeMs === f.mtimeMs) {
          this.known.set(name, { ...k, ino: f.ino });
          continue;
        }
        const state: DiskState = { name, kind: 'file', deleted: false, size: f.data.length, lines: 0, hash, mtimeMs: f.mtimeMs, mode: f.mode };
        this.known.set(name, { state, ino: f.ino, checkpoints: [] });
        out.push({ change: 'replace', state });
      }
    }
    return out;
  }

  stat(name: string): DiskState | null {
    return this.known.get(name)?.state ?? null;
  }

  async positionAt(name: string, offset: number): Promise<LogPos | null> {
    const k = this.known.get(name);
    const f = this.disk.get(name);
    if (!k || !f || offset > k.state.size) return null;
    if (offset === k.state.size) return endOf(k.state);
    const cp = [...k.checkpoints].reverse().find((c) => c.offset <= offset) ?? GENESIS;
    const r = this.fold(cp, f.data.subarray(cp.offset, offset));
    return r.end.offset === offset ? r.end : null;
  }

  async checkpoints(name: string): Promise<LogPos[]> {
    return [...(this.known.get(name)?.checkpoints ?? [])];
  }

  async read(name: string, offset: number, length: number): Promise<Uint8Array> {
    const k = this.known.get(name);
    const f = this.disk.get(name);
    if (!k || !f) throw new RoamError(ErrorCodes.STORE_CONFLICT, `${name} is not in the store`);
    return f.data.slice(offset, Math.min(offset + length, k.state.size));
  }

  async appendLog(name: string, start: LogPos, data: readonly Uint8Array[], end: LogPos, mtimeMs: number, mode?: number): Promise<DiskState> {
    validateName(name);
    const k = this.known.get(name);
    const f = this.disk.get(name);
    const fresh = !k && !f && samePos(start, GENESIS);
    if (!fresh && !(k && f && samePos(endOf(k.state), start) && k.ino === f.ino && f.data.length === start.offset)) {
      throw new RoamError(ErrorCodes.STORE_CONFLICT, `${name} is not at ${start.offset} as expected`);
    }
    const r = this.fold(start, concatBytes(data), k?.checkpoints ?? []);
    if (!samePos(r.end, end) || r.partial !== 0) throw new RoamError(ErrorCodes.STORE_HASH_MISMATCH, `${name}: data does not fold to the announced end`);
    const file = f ?? { data: new Uint8Array(0), mtimeMs, mode: 0o644, ino: this.nextIno++ };
    file.data = concatBytes([file.data, ...data]);
    file.mtimeMs = mtimeMs;
    if (mode !== undefined) file.mode = mode;
    this.disk.set(name, file);
    const state = this.logState(name, end, file);
    this.known.set(name, { state, ino: file.ino, checkpoints: r.checkpoints });
    return state;
  }

  async partialTail(name: string): Promise<PartialTail | null> {
    const k = this.known.get(name);
    const f = this.disk.get(name);
    if (!k || !f || k.state.kind !== 'log' || k.ino !== f.ino || f.data.length <= k.state.size) return null;
    // The known lines still lead the file, and no line ends past them.
    if (!samePos(this.fold(GENESIS, f.data.subarray(0, k.state.size)).end, endOf(k.state)) || f.data.indexOf(0x0a, k.state.size) !== -1) return null;
    return { bytes: f.data.length - k.state.size, mtimeMs: f.mtimeMs };
  }

  async dropPartialTail(name: string, expected: DiskState, tail: PartialTail): Promise<DiskState> {
    const k = this.known.get(name);
    const now = await this.partialTail(name);
    if (!k || !now || !bytesEqual(k.state.hash, expected.hash) || k.state.size !== expected.size || now.bytes !== tail.bytes || now.mtimeMs !== tail.mtimeMs) {
      throw new RoamError(ErrorCodes.STORE_CONFLICT, `${name} changed on disk`);
    }
    const f = this.disk.get(name)!;
    this.trash.push({ name: `${name}.partial`, data: f.data.slice(k.state.size) });
    f.data = f.data.slice(0, k.state.size);
    f.mtimeMs = k.state.mtimeMs;
    return k.state;
  }

  async stage(name: string): Promise<StagedWrite> {
    validateName(name);
    const parts: Uint8Array[] = [];
    let size = 0;
    return {
      write: async (offset, data) => {
        if (offset !== size) throw new RoamError(ErrorCodes.STORE_IO, `staged write at ${offset}, expected ${size}`);
        parts.push(data.slice());
        size += data.length;
      },
      commit: async (target: StagedTarget, expected: DiskState | null) => {
        const data = concatBytes(parts);
        let checkpoints: LogPos[] = [];
        if (target.kind === 'log') {
          const r = this.fold(GENESIS, data);
          if (r.partial !== 0 || !samePos(r.end, { offset: target.size, line: target.lines, hash: target.hash })) {
            throw new RoamError(ErrorCodes.STORE_HASH_MISMATCH, `${name}: staged content does not match`);
          }
          checkpoints = r.checkpoints;
        } else if (data.length !== target.size || !bytesEqual(sha256Of(this.hasher, [data]), target.hash)) {
          throw new RoamError(ErrorCodes.STORE_HASH_MISMATCH, `${name}: staged content does not match`);
        }
        this.checkExpected(name, expected);
        if (expected) this.trash.push({ name, data: this.disk.get(name)!.data });
        const file: DiskFile = { data, mtimeMs: target.mtimeMs, mode: target.mode, ino: this.nextIno++ };
        this.disk.set(name, file);
        const state: DiskState = { name, kind: target.kind, deleted: false, size: target.size, lines: target.lines, hash: target.hash, mtimeMs: target.mtimeMs, mode: target.mode };
        this.known.set(name, { state, ino: file.ino, checkpoints });
        return state;
      },
      abort: async () => {
        parts.length = 0;
      },
    };
  }

  async remove(name: string, expected: DiskState): Promise<void> {
    this.checkExpected(name, expected);
    this.trash.push({ name, data: this.disk.get(name)!.data });
    this.disk.delete(name);
    this.known.delete(name);
  }

  async touch(name: string, mtimeMs: number, expected: DiskState): Promise<DiskState> {
    this.checkExpected(name, expected);
    this.disk.get(name)!.mtimeMs = mtimeMs;
    const k = this.known.get(name)!;
    const state = { ...k.state, mtimeMs };
    this.known.set(name, { ...k, state });
    return state;
  }

  async copy(from: string, to: string, expected: DiskState): Promise<DiskState> {
    validateName(to);
    this.checkExpected(from, expected);
    if (this.disk.has(to)) throw new RoamError(ErrorCodes.STORE_CONFLICT, `${to} already exists`);
    const f = this.disk.get(from)!;
    const k = this.known.get(from)!;
    const copy: DiskFile = { data: f.data.slice(), mtimeMs: f.mtimeMs, mode: f.mode, ino: this.nextIno++ };
    this.disk.set(to, copy);
    const state = { ...k.state, name: to };
    this.known.set(to, { ...k, state, ino: copy.ino });
    return state;
  }

  async rename(from: string, to: string, expected: DiskState): Promise<DiskState> {
    validateName(to);
    this.checkExpected(from, expected);
    if (this.disk.has(to)) throw new RoamError(ErrorCodes.STORE_CONFLICT, `${to} already exists`);
    const f = this.disk.get(from)!;
    const k = this.known.get(from)!;
    this.disk.delete(from);
    this.known.delete(from);
    this.disk.set(to, f);
    const state = { ...k.state, name: to };
    this.known.set(to, { ...k, state });
    return state;
  }

  async close(): Promise<void> {}

  // ---------------------------------------------------------------- helpers

  /** The disk must hold exactly the known state `expected` (null: nothing). */
  private checkExpected(name: string, expected: DiskState | null): void {
    const f = this.disk.get(name);
    const k = this.known.get(name);
    const ok = expected === null
      ? !f
      : !!f && !!k && k.ino === f.ino && k.state.size === expected.size && bytesEqual(k.state.hash, expected.hash) &&
        (expected.kind === 'log' ? f.data.length === expected.size : bytesEqual(sha256Of(this.hasher, [f.data]), expected.hash));
    if (!ok) throw new RoamError(ErrorCodes.STORE_CONFLICT, `${name} changed on disk`);
  }

  private fold(start: LogPos, data: Uint8Array, prior: readonly LogPos[] = []) {
    const c = new LineChain(this.hasher, start, this.interval);
    c.push(data);
    return { end: c.pos, partial: c.partialBytes, checkpoints: [...prior.filter((p) => p.offset <= start.offset), ...c.takeCheckpoints()] };
  }

  private logState(name: string, end: LogPos, f: DiskFile): DiskState {
    return { name, kind: 'log', deleted: false, size: end.offset, lines: end.line, hash: end.hash, mtimeMs: f.mtimeMs, mode: f.mode };
  }
}
