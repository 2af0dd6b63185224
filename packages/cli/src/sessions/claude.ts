/**
 * Claude Code's session adapter.
 *
 * Root: `$CLAUDE_CONFIG_DIR`, else `~/.claude`. A session is `projects/<key>/<name>.jsonl`: any
 * `.jsonl` file directly in a key directory whose lines are a session (so conflict copies and forks
 * count too); its id is the `sessionId` of its lines (the file's stem when the lines carry it, or
 * none). Sub-agent transcripts (`<uuid>/subagents/agent-*.jsonl`) and tool results live in
 * subdirectories and are not sessions of their own. Hidden files (temporary files) are skipped.
 *
 * Metadata comes from claude-meta.ts, cached by path, size and mtime (cache.ts); search from
 * scan.ts; the conversation from transcript.ts.
 */
import { readdirSync, statSync, type Dirent } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import { MetaCache } from './cache.js';
import { readClaudeMeta, type MetaReadOptions } from './claude-meta.js';
import type { ReadFn } from './lines.js';
import { Needle, pool, scanBuffer, scanFile, snippet, type ScanBuffer } from './scan.js';
import { readTranscript } from './transcript.js';
import type { ListedJson, ListOptions, SearchHit, SearchOptions, SessionAdapter, SessionInfo, ToolCommand, TranscriptEntry } from './types.js';

// ------------------------------------------------------------------ project keys

/** Keys longer than this are cut and get a hash suffix. */
export const KEY_MAX = 200;

/**
 * Claude Code's project key of a directory: its real path with every UTF-16 code unit outside
 * [A-Za-z0-9] replaced by '-' (no collapsing; an astral character gives two). Over 200 characters:
 * the first 200, '-', and `longKeySuffix(path)`. The path is taken as given: pass a realpath (no
 * trailing separator), as Claude Code does with its working directory.
 */
export function projectKey(path: string): string {
  const key = path.replace(/[^a-zA-Z0-9]/g, '-');
  return key.length <= KEY_MAX ? key : `${key.slice(0, KEY_MAX)}-${longKeySuffix(path)}`;
}

/**
 * The hash suffix of a long key: Java's String.hashCode over the path's UTF-16 code units, absolute
 * value, base 36 — the real CLI's own (measured with 2.1.329, docs/CLAUDE-CODE.md §5). Lookups still
 * go through `keyMatches`, which compares long keys on their first 200 characters, as the CLI does.
 */
export function longKeySuffix(path: string): string {
  return Math.abs(javaStringHash(path)).toString(36);
}

export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** Whether the key directory `dirName` is the project of `path` (long keys: on their 200-char prefix). */
export function keyMatches(dirName: string, path: string): boolean {
  const key = path.replace(/[^a-zA-Z0-9]/g, '-');
  if (key.length <= KEY_MAX && dirName.length <= KEY_MAX) return dirName === key;
  return key.length > KEY_MAX && dirName.length > KEY_MAX && dirName.slice(0, KEY_MAX) === key.slice(0, KEY_MAX);
}

// ------------------------------------------------------------------ the adapter

export interface ClaudeAdapterOptions {
  /** HOME / CLAUDE_CONFIG_DIR / ROAM_HOME come from here (default: process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** The metadata cache file; null for none (default: `<roam state>/sessions-cache.json`). */
  readonly cacheFile?: string | null;
  /** Reads of metadata go through this (tests count bytes). */
  readonly read?: ReadFn;
  /** Limits of the metadata reader (tests). */
  readonly meta?: Omit<MetaReadOptions, 'read'>;
}

/** A transcript file found on disk, before it is read. */
export interface SessionFile {
  readonly file: string;
  /** The file's directory and name (`file` is dir + sep + name). */
  readonly dir: string;
  readonly name: string;
  readonly projectKey: string;
  readonly size: number;
  readonly mtimeMs: number;
}

export class ClaudeAdapter implements SessionAdapter {
  readonly tool = 'claude' as const;
  private readonly env: NodeJS.ProcessEnv;

  constructor(private readonly opts: ClaudeAdapterOptions = {}) {
    this.env = opts.env ?? process.env;
  }

  root(env: NodeJS.ProcessEnv = this.env): string {
    return resolve(env.CLAUDE_CONFIG_DIR || join(env.HOME || homedir(), '.claude'));
  }

  /** Where the transcripts are: `<root>/projects`. */
  projectsDir(): string {
    return join(this.root(), 'projects');
  }

  projectKey(path: string): string {
    return projectKey(path);
  }

  /** The transcript files (not read), of one project directory or of all; `cache`: where directory listings are kept. */
  files(project?: string, cache?: MetaCache): SessionFile[] {
    const out: SessionFile[] = [];
    this.walk(project, cache, (file, dir, name, projectKey, size, mtimeMs) => out.push({ file, dir, name, projectKey, size, mtimeMs }));
    return out;
  }

  /**
   * Calls `f` for each transcript file (not read), of one project directory or of all, in the order
   * of files(). A project directory whose mtime is the one `cache` listed it at is not read again
   * (see MetaCache.listing): a warm `roam list` stats its 10,000 files, and reads no directory but the root.
   */
  private walk(project: string | undefined, cache: MetaCache | undefined, f: (file: string, dir: string, name: string, projectKey: string, size: number, mtimeMs: number) => void): void {
    const root = this.projectsDir();
    for (const d of entries(root)) {
      if (d.name.startsWith('.') || (project !== undefined && !keyMatches(d.name, project))) continue;
      if (!d.isDirectory() && !d.isSymbolicLink()) continue;
      const dir = join(root, d.name);
      const dst = statSync(dir, { throwIfNoEntry: false });
      if (!dst?.isDirectory()) continue;
      let listing = cache?.listing(dir, dst.mtimeMs);
      if (!listing) {
        listing = names(dir).filter((name) => name.endsWith('.jsonl') && !name.startsWith('.'));
        cache?.setListing(dir, dst.mtimeMs, listing);
      }
      const prefix = dir + sep; // path.join per file was a tenth of a warm `roam list`
      for (const name of listing) {
        const file = prefix + name;
        const st = statSync(file, { throwIfNoEntry: false });
        if (st?.isFile()) f(file, dir, name, d.name, st.size, st.mtimeMs);
      }
    }
  }

  /** Metadata of these files: from the cache when fresh, else read (and cached). */
  infos(files: readonly SessionFile[], cache: MetaCache): SessionInfo[] {
    const out: SessionInfo[] = [];
    for (const f of files) {
      let info = cache.get(f.file, f.size, f.mtimeMs);
      if (info === undefined) {
        info = this.read(f);
        cache.set(f.file, f.size, f.mtimeMs, info);
      }
      if (info) out.push(info);
    }
    return out;
  }

  private read(f: SessionFile): SessionInfo | null {
    let meta;
    try {
      meta = readClaudeMeta(f.file, f.size, { ...this.opts.meta, ...(this.opts.read ? { read: this.opts.read } : {}) });
    } catch {
      return null; // vanished or unreadable since the stat
    }
    if (!meta) return null;
    return {
      tool: 'claude',
      id: meta.id,
      file: f.file,
      projectKey: f.projectKey,
      cwd: meta.cwd,
      title: meta.title,
      firstPrompt: meta.firstPrompt,
      lastActivity: isoOr(meta.lastTimestamp, f.mtimeMs),
      messages: meta.messages,
      messagesExact: meta.messagesExact,
      gitBranch: meta.gitBranch,
      bytes: f.size,
      mtimeMs: f.mtimeMs,
    };
  }

  private cache(): MetaCache {
    return MetaCache.open(this.env, this.opts.cacheFile);
  }

  async list(opts: ListOptions = {}): Promise<SessionInfo[]> {
    const cache = this.cache();
    const files = this.files(opts.project, cache);
    const infos = newestFirst(this.infos(files, cache));
    // Forget deleted files (only needed when the cache holds more entries than there are files).
    if (opts.project === undefined && cache.size > files.length) cache.prune(this.projectsDir(), new Set(files.map((f) => f.file)));
    cache.save();
    return opts.limit !== undefined ? infos.slice(0, opts.limit) : infos;
  }

  /**
   * The sessions as `roam list --json` prints them, in the order of `files()` (not sorted): the
   * cached JSON as it is, read and cached for files new or changed since.
   */
  async listJson(opts: ListOptions = {}): Promise<ListedJson[]> {
    const cache = this.cache();
    const out: ListedJson[] = [];
    let count = 0;
    this.walk(opts.project, cache, (file, dir, name, projectKey, size, mtimeMs) => {
      count++;
      let listed = cache.jsonOf(dir, name, size, mtimeMs);
      if (listed === undefined) {
        const info = this.read({ file, dir, name, projectKey, size, mtimeMs });
        cache.set(file, size, mtimeMs, info);
        listed = info && cache.jsonOf(dir, name, size, mtimeMs);
      }
      if (listed) out.push(listed);
    });
    if (opts.project === undefined && cache.size > count) cache.prune(this.projectsDir(), new Set(this.files().map((f) => f.file)));
    cache.save();
    return out;
  }

  async search(text: string, opts: SearchOptions = {}): Promise<SearchHit[]> {
    if (!text) throw new RoamError(ErrorCodes.USAGE, 'nothing to search for');
    const needle = text.toLowerCase();
    const limit = opts.limit ?? Infinity;
    const files = this.files(opts.project).sort((a, b) => b.mtimeMs - a.mtimeMs);
    let found = 0;
    const check = (o: Record<string, unknown>): { role: SearchHit['role']; snippet: string } | null => {
      const t = searchable(o);
      if (!t || !t.text.toLowerCase().includes(needle)) return null;
      return { role: t.role, snippet: snippet(t.text, needle) };
    };
    const re = new Needle(text);
    const buffers: ScanBuffer[] = [];
    const perFile = await pool(files, opts.concurrency ?? 8, async (f) => {
      const b = buffers.pop() ?? scanBuffer();
      try {
        // One Needle for all: its RegExp's lastIndex is only used within one chunk, between awaits.
        const m = await scanFile(f.file, f.size, re, check, limit, b);
        found += m.length;
        return m;
      } catch {
        return []; // vanished or unreadable since the listing
      } finally {
        buffers.push(b);
      }
    }, () => found >= limit);
    const cache = this.cache();
    const hits: SearchHit[] = [];
    files.forEach((f, i) => {
      const m = perFile[i];
      if (!m?.length) return;
      const [session] = this.infos([f], cache);
      if (session) for (const h of m) hits.push({ session, line: h.line, role: h.value.role, snippet: h.value.snippet });
    });
    cache.save();
    return hits.slice(0, limit);
  }

  async find(id: string): Promise<SessionInfo | null> {
    if (!id) return null;
    const cache = this.cache();
    const files = this.files(undefined, cache);
    // Nearly always the file's stem is the id: read those first.
    const byStem = this.infos(files.filter((f) => stem(f.file) === id), cache).filter((s) => s.id === id);
    const found = byStem.length ? byStem : this.infos(files, cache).filter((s) => s.id === id);
    cache.save();
    return newestFirst(found)[0] ?? null;
  }

  async show(id: string): Promise<TranscriptEntry[]> {
    const info = await this.find(id);
    if (!info) throw new RoamError(ErrorCodes.SESSION_NOT_FOUND, `no Claude Code session ${id}`, { id });
    return readTranscript(info.file);
  }

  resumeCommand(id: string, opts: { cwd?: string } = {}): ToolCommand {
    return withCwd(['claude', '--resume', id], opts.cwd);
  }

  forkCommand(id: string, opts: { cwd?: string } = {}): ToolCommand {
    return withCwd(['claude', '--resume', id, '--fork-session'], opts.cwd);
  }

  newCommand(name: string, opts: { cwd?: string } = {}): ToolCommand {
    return withCwd(['claude', '--name', name], opts.cwd);
  }
}

/** The text a search looks at in one line: user and assistant text, and titles. */
function searchable(o: Record<string, unknown>): { role: SearchHit['role']; text: string } | null {
  switch (o.type) {
    case 'user':
    case 'assistant': {
      if (o.isSidechain === true || o.isMeta === true) return null;
      const c = (o.message as { content?: unknown } | undefined)?.content;
      const text = typeof c === 'string'
        ? c
        : Array.isArray(c)
          ? c.filter((b) => b && b.type === 'text' && typeof b.text === 'string').map((b) => b.text as string).join('\n')
          : '';
      return text ? { role: o.type, text } : null;
    }
    case 'custom-title':
      return typeof o.customTitle === 'string' ? { role: 'title', text: o.customTitle } : null;
    case 'ai-title':
      return typeof o.aiTitle === 'string' ? { role: 'title', text: o.aiTitle } : null;
    case 'summary':
      return typeof o.summary === 'string' ? { role: 'title', text: o.summary } : null;
    default:
      return null;
  }
}

function withCwd(argv: string[], cwd: string | undefined): ToolCommand {
  return cwd === undefined ? { argv } : { argv, cwd };
}

function entries(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

function names(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function stem(file: string): string {
  const base = file.slice(file.lastIndexOf(sep) + 1);
  return base.endsWith('.jsonl') ? base.slice(0, -6) : base;
}

function isoOr(ts: string | null, mtimeMs: number): string {
  if (ts !== null) {
    const t = Date.parse(ts);
    if (Number.isFinite(t)) return new Date(t).toISOString();
  }
  return new Date(mtimeMs).toISOString();
}

/** Newest first by last activity (ISO strings in UTC compare as times), then by mtime. */
export function newestFirst(xs: SessionInfo[]): SessionInfo[] {
  return xs.sort((a, b) => (a.lastActivity < b.lastActivity ? 1 : a.lastActivity > b.lastActivity ? -1 : b.mtimeMs - a.mtimeMs));
}
