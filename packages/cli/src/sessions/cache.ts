/**
 * The session metadata cache, `<state>/sessions-cache.json` (`$ROAM_HOME/state` or XDG's state
 * directory, see roamPaths): one entry per transcript, valid while the file's size and mtime are
 * the ones it was read at. A warm `roam list` then costs a stat per file.
 * The cache is an optimisation only: unreadable, corrupt or unwritable, it is ignored.
 *
 * The file is an index and the sessions' JSON: a first line of JSON, `{"v":3,"d":[[dir, listed, name,
 * entry, name, entry, …], …]}` (arrays: JSON.parse gives objects keyed by 10,000 distinct file names a
 * hidden class each, three times slower), then the sessions as one UTF-8 JSON array, newest first,
 * exactly as `roam list --json --all` prints it (JSON.stringify(infos, null, 2)). An entry is
 * [size, mtimeMs] for a file that is not a session, else [size, mtimeMs, offset, length, lastActivity]:
 * where the session's element of that array lies after the first line, and what `list` sorts by. So
 * `list --json` copies the bytes of the sessions it prints without parsing or serialising them (none
 * at all while nothing changed, see jsonOf and jsonArray), and the sessions are parsed only for the
 * commands that use their fields.
 *
 * `listed`: the directory's mtime when its names were read, or -1. When it is not -1, the directory's
 * names (the transcripts' names, see listing) are those of its entries, in the order readdir gave
 * them, and a directory whose mtime is still that one is not read again: adding, removing or renaming
 * a file in it changes its mtime. A listing is trusted only when the directory's mtime was over 2 s
 * old when it was read (a change in the same clock tick as the read would leave the mtime as it was).
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';
import { roamPaths } from '../machine/paths.js';
import type { ListedJson, SessionInfo } from './types.js';

/** Bump when what is cached, or how it is computed, changes. */
const VERSION = 3;

/** get() parses all the sessions' JSON at once when it is asked for this many. */
const BULK = 64;

/** Entry indices below this fit beside a byte offset in one double. */
const ROWS = 2 ** 20;

/** A directory listing is trusted when its mtime was older than this when it was read (ms). */
const RACY_MS = 2000;

const OPEN = Buffer.from('[\n');
const SEP = Buffer.from(',\n');
const CLOSE = Buffer.from('\n]');

/** The entry of a name listed in a directory that is not a transcript file (a directory, say). */
const NOT_A_FILE: Entry = [-1, -1];

/**
 * [size, mtimeMs]: not a session. [size, mtimeMs, offset, length, lastActivity]: a session whose JSON
 * is bytes [offset, offset + length) of the data after the index; offset -1: a session set since
 * the file was read, its JSON (as listJson writes it) last. [-1, -1] (NOT_A_FILE): a name listed in
 * the directory that is no transcript file.
 */
type Entry = [number, number] | [number, number, number, number, string] | [number, number, -1, 0, string, string];

export class MetaCache {
  private dirty = false;
  /** How many cached sessions get() gave, and past BULK, all of them parsed at once. */
  private gets = 0;
  private parsed: Map<Entry, SessionInfo> | null = null;
  /** How many files have an entry. */
  size = 0;

  private constructor(
    private readonly file: string | null,
    /** directory → file name → entry */
    private readonly dirs: Map<string, Map<string, Entry>>,
    /** directory → its mtime when its names were read (absent: not trusted) */
    private readonly listed: Map<string, number>,
    /** The sessions' JSON of the file read (what the entries' offsets point into). */
    private readonly data: Buffer,
    /** How many of the entries are NOT_A_FILE. */
    notFiles = 0,
    /** The sessions' entries as read, which the data holds in the order of their offsets. */
    private readonly loaded: Array<[number, number, number, number, string]> = [],
  ) {
    for (const files of dirs.values()) this.size += files.size;
    this.size -= notFiles;
  }

  /** The cache of this environment's state directory (`file: null` for none at all). */
  static open(env: NodeJS.ProcessEnv = process.env, file: string | null = join(roamPaths(env).state, 'sessions-cache.json')): MetaCache {
    const dirs = new Map<string, Map<string, Entry>>();
    const listed = new Map<string, number>();
    let data = Buffer.alloc(0);
    let notFiles = 0;
    const loaded: Array<[number, number, number, number, string]> = [];
    if (file) {
      try {
        const raw = readFileSync(file);
        const nl = raw.indexOf(0x0a);
        const index = JSON.parse(raw.toString('utf8', 0, nl < 0 ? raw.length : nl)) as { v?: unknown; d?: unknown };
        if (index.v === VERSION && Array.isArray(index.d) && nl >= 0) {
          for (const d of index.d as unknown[]) {
            if (!Array.isArray(d) || typeof d[0] !== 'string') throw new Error('not a directory');
            const files = new Map<string, Entry>();
            for (let i = 2; i + 1 < d.length; i += 2) {
              const e = d[i + 1];
              if (typeof d[i] !== 'string' || !isEntry(e)) throw new Error('not an entry');
              if (e[0] === -1) notFiles++;
              else if (e.length === 5) loaded.push(e);
              files.set(d[i] as string, e[0] === -1 ? NOT_A_FILE : e);
            }
            dirs.set(d[0] as string, files);
            if (typeof d[1] === 'number' && d[1] >= 0) listed.set(d[0] as string, d[1]);
          }
          data = raw.subarray(nl + 1);
        }
      } catch {
        // missing or unreadable: start empty
        dirs.clear();
        listed.clear();
        notFiles = 0;
        loaded.length = 0;
      }
    }
    return new MetaCache(file, dirs, listed, data, notFiles, loaded);
  }

  /**
   * The names `dir` held when its mtime was `mtimeMs` (as setListing was given them), or undefined
   * when its names were not read at that mtime (or not trusted).
   */
  listing(dir: string, mtimeMs: number): string[] | undefined {
    if (this.listed.get(dir) !== mtimeMs) return undefined;
    return [...(this.dirs.get(dir)?.keys() ?? [])];
  }

  /**
   * The names of `dir` as just read (after a stat that gave its mtime `mtimeMs`): entries of other
   * names are dropped, and the entries are kept in this order.
   */
  setListing(dir: string, mtimeMs: number, names: readonly string[], now = Date.now()): void {
    const trusted = now - mtimeMs > RACY_MS ? mtimeMs : -1;
    const old = this.dirs.get(dir) ?? new Map<string, Entry>();
    let same = old.size === names.length;
    if (same) {
      let i = 0;
      for (const k of old.keys()) if (k !== names[i++]) same = false;
    }
    if (!same) {
      const files = new Map<string, Entry>();
      for (const name of names) files.set(name, old.get(name) ?? NOT_A_FILE);
      for (const [name, e] of old) if (e !== NOT_A_FILE && !files.has(name)) this.size--;
      if (files.size) this.dirs.set(dir, files);
      else this.dirs.delete(dir);
      this.dirty = true;
    }
    if ((this.listed.get(dir) ?? -1) !== trusted) {
      if (trusted < 0) this.listed.delete(dir);
      else this.listed.set(dir, trusted);
      this.dirty = true;
    }
  }

  /** The entry of `name` in `dir` when it is fresh (the file has this size and mtime). */
  private fresh(dir: string, name: string, size: number, mtimeMs: number): Entry | undefined {
    const e = this.dirs.get(dir)?.get(name);
    if (!e || e[0] !== size || e[1] !== mtimeMs) return undefined;
    if (e.length === 5 && e[2] + e[3] > this.data.length) return undefined; // a cut file
    return e;
  }

  /** The cached info (null: not a session), or undefined when unknown or stale. */
  get(path: string, size: number, mtimeMs: number): SessionInfo | null | undefined {
    const e = this.fresh(dirname(path), basename(path), size, mtimeMs);
    if (!e) return undefined;
    if (e.length === 2) return null;
    if (e.length === 5 && ++this.gets === BULK) this.parseAll();
    const parsed = e.length === 5 ? this.parsed?.get(e) : undefined;
    if (parsed) return { ...parsed };
    try {
      return JSON.parse(e.length === 6 ? e[5] : this.data.toString('utf8', e[2], e[2] + e[3])) as SessionInfo;
    } catch {
      return undefined;
    }
  }

  /**
   * Parses all the sessions' JSON at once (the data is one JSON array, see save): one JSON.parse of
   * 7 MB costs a third of 10,000 small ones, for the commands that want every session's fields
   * (`roam list` as a table, a session found by id prefix).
   */
  private parseAll(): void {
    this.parsed = new Map();
    const n = this.loaded.length;
    if (!n || n >= ROWS) return;
    const at = new Float64Array(n);
    for (let k = 0; k < n; k++) at[k] = this.loaded[k]![2] * ROWS + k;
    at.sort();
    let all: unknown;
    try {
      all = JSON.parse(this.data.toString('utf8'));
    } catch {
      return;
    }
    if (!Array.isArray(all) || all.length !== n) return;
    const parsed = new Map<Entry, SessionInfo>();
    for (let k = 0; k < n; k++) {
      const e = this.loaded[at[k]! % ROWS]!;
      const info = all[k] as SessionInfo;
      if (info?.bytes !== e[0] || info.mtimeMs !== e[1]) return; // not the file save() wrote: parse one by one
      parsed.set(e, info);
    }
    this.parsed = parsed;
  }

  /**
   * What `roam list --json` prints for `name` in `dir` (null: not a session), or undefined when
   * unknown or stale. The JSON is the cached bytes themselves: nothing is parsed.
   */
  jsonOf(dir: string, name: string, size: number, mtimeMs: number): ListedJson | null | undefined {
    const e = this.fresh(dir, name, size, mtimeMs);
    if (!e) return undefined;
    if (e.length === 2) return null;
    return e.length === 6 ? { lastActivity: e[4], mtimeMs, json: e[5] } : { lastActivity: e[4], mtimeMs, json: this.data, start: e[2], end: e[2] + e[3] };
  }

  set(path: string, size: number, mtimeMs: number, info: SessionInfo | null): void {
    const dir = dirname(path);
    const name = basename(path);
    let d = this.dirs.get(dir);
    if (!d) this.dirs.set(dir, (d = new Map()));
    const was = d.get(name);
    if (was === undefined || was === NOT_A_FILE) this.size++;
    if (was === undefined) this.listed.delete(dir); // a name its listing does not hold: read it again
    d.set(name, info === null ? [size, mtimeMs] : [size, mtimeMs, -1, 0, info.lastActivity, listJson(cached(info, path, size, mtimeMs))]);
    this.dirty = true;
  }

  /** Drops the entries under `root` (a directory) whose files `seen` does not hold. */
  prune(root: string, seen: ReadonlySet<string>): void {
    const under = root.endsWith(sep) ? root : root + sep;
    for (const [dir, files] of this.dirs) {
      if (dir !== root && !dir.startsWith(under)) continue;
      for (const [name, e] of [...files]) {
        if (e !== NOT_A_FILE && !seen.has(join(dir, name))) {
          files.delete(name);
          this.size--;
          this.dirty = true;
          this.listed.delete(dir);
        }
      }
      if (!files.size) {
        this.dirs.delete(dir);
        this.listed.delete(dir);
      }
    }
  }

  /** Writes the cache if it changed (atomically: a temporary file, then rename). Never throws. */
  save(): void {
    if (!this.dirty || !this.file) return;
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      // The sessions' JSON newest first, as `roam list --json --all` prints them (so that, while
      // nothing changes, it prints these bytes as they are: see jsonArray).
      const sessions: Array<{ dir: string; name: string; e: Exclude<Entry, [number, number]> }> = [];
      for (const [dir, files] of this.dirs) for (const [name, e] of files) if (e.length !== 2) sessions.push({ dir, name, e });
      sessions.sort((a, b) => (a.e[4] < b.e[4] ? 1 : a.e[4] > b.e[4] ? -1 : b.e[1] - a.e[1]));
      const parts: Uint8Array[] = [];
      const at = new Map<Entry, number>();
      let pos = 2; // after '[\n'
      for (const { e } of sessions) {
        const bytes = e.length === 6 ? Buffer.from(e[5]) : this.data.subarray(e[2], e[2] + e[3]);
        parts.push(parts.length ? SEP : OPEN, bytes);
        at.set(e, pos);
        pos += bytes.length + 2;
      }
      if (parts.length) parts.push(CLOSE);
      const index: unknown[][] = [];
      for (const [dir, files] of this.dirs) {
        const out: unknown[] = [dir, this.listed.get(dir) ?? -1];
        index.push(out);
        for (const [name, e] of files) {
          if (e.length === 2) out.push(name, e);
          else out.push(name, [e[0], e[1], at.get(e)!, e.length === 6 ? Buffer.byteLength(e[5]) : e[3], e[4]]);
        }
      }
      mkdirSync(dirname(this.file), { recursive: true });
      writeFileSync(tmp, Buffer.concat([Buffer.from(`${JSON.stringify({ v: VERSION, d: index })}\n`), ...parts]));
      renameSync(tmp, this.file);
      this.dirty = false;
    } catch {
      try {
        rmSync(tmp, { force: true });
      } catch {
        // nothing more to do: the cache is optional
      }
    }
  }
}

function isEntry(e: unknown): e is Entry {
  if (!Array.isArray(e) || typeof e[0] !== 'number' || typeof e[1] !== 'number') return false;
  return e.length === 2 || (e.length === 5 && typeof e[2] === 'number' && typeof e[3] === 'number' && typeof e[4] === 'string');
}

/** The info as the cache gives it back: its fields in this order, file, size and mtime those it was cached under. */
function cached(info: SessionInfo, path: string, size: number, mtimeMs: number): SessionInfo {
  return {
    tool: info.tool,
    id: info.id,
    file: path,
    projectKey: info.projectKey,
    cwd: info.cwd ?? null,
    title: info.title ?? null,
    firstPrompt: info.firstPrompt ?? null,
    lastActivity: info.lastActivity,
    messages: info.messages,
    messagesExact: info.messagesExact,
    gitBranch: info.gitBranch ?? null,
    bytes: size,
    mtimeMs,
  };
}

/** `value` as JSON.stringify(array, null, 2) prints it as an element of `array`. */
export function listJson(value: unknown): string {
  return `  ${(JSON.stringify(value, null, 2) ?? 'null').replace(/\n/g, '\n  ')}`;
}

/**
 * JSON.stringify(array, null, 2) of the array whose elements print as `rows` (their `json`), as
 * UTF-8, without its final newline. Rows whose bytes follow each other in one buffer with ',\n'
 * between them (the cache keeps its sessions newest first, as list prints them) are copied as one
 * piece; when that is all of them, bracketed by '[\n' and '\n]' in the buffer, nothing is copied.
 */
export function jsonArray(rows: readonly ListedJson[]): Buffer {
  if (!rows.length) return Buffer.from('[]');
  const pieces: Array<string | { buf: Uint8Array; start: number; end: number }> = [];
  let run: { buf: Uint8Array; start: number; end: number } | null = null;
  for (const r of rows) {
    if (typeof r.json === 'string') {
      run = null;
      pieces.push(r.json);
      continue;
    }
    const start = r.start ?? 0;
    const end = r.end ?? r.json.length;
    if (run && run.buf === r.json && start === run.end + 2 && run.buf[run.end] === 0x2c && run.buf[run.end + 1] === 0x0a) {
      run.end = end;
      continue;
    }
    run = { buf: r.json, start, end };
    pieces.push(run);
  }
  const only = pieces.length === 1 ? pieces[0]! : null;
  if (only && typeof only !== 'string') {
    const { buf, start, end } = only;
    if (start >= 2 && buf[start - 2] === 0x5b && buf[start - 1] === 0x0a && buf[end] === 0x0a && buf[end + 1] === 0x5d) {
      return Buffer.from(buf.buffer, buf.byteOffset + start - 2, end - start + 4);
    }
  }
  let total = 4 + 2 * (pieces.length - 1); // '[\n', ',\n' between, '\n]'
  for (const p of pieces) total += typeof p === 'string' ? Buffer.byteLength(p) : p.end - p.start;
  const out = Buffer.allocUnsafe(total);
  out[0] = 0x5b; // [
  out[1] = 0x0a;
  let at = 2;
  pieces.forEach((p, i) => {
    if (i) {
      out[at++] = 0x2c; // ,
      out[at++] = 0x0a;
    }
    if (typeof p === 'string') {
      at += out.write(p, at);
    } else {
      out.set(new Uint8Array(p.buf.buffer, p.buf.byteOffset + p.start, p.end - p.start), at);
      at += p.end - p.start;
    }
  });
  out[at++] = 0x0a;
  out[at++] = 0x5d; // ]
  return out;
}
