/**
 * The skeleton every tool's session adapter shares: the metadata cache (sessions/cache.ts), list
 * (files → cached infos → the project's → newest first), find by id (the files whose names say
 * they may hold it first, then all), search (files newest first, scanned `concurrency` at a time
 * through sessions/scan.ts, stopping at `limit` hits) and show. A tool's adapter says where its
 * files are, how to read one file's SessionInfo, which lines a search looks at and how to print
 * a conversation; it overrides a step only where the tool works otherwise.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import { roamPaths } from '../../machine/paths.js';
import { MetaCache } from '../../sessions/cache.js';
import { isoOr, newestFirst, ofProject } from '../../sessions/paths.js';
import { Needle, pool, scanBuffer, scanFile, snippet, type LineMatch, type ScanBuffer } from '../../sessions/scan.js';
import type { ListOptions, SearchHit, SearchOptions, SessionAdapter, SessionInfo, ToolCommand, ToolName, TranscriptEntry } from '../../sessions/types.js';
import type { AdapterOptions } from '../types.js';

/** A session's file found on disk, before it is read. */
export interface FoundFile {
  readonly file: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** What a search keeps of a matching line. */
export interface LineHit {
  readonly role: SearchHit['role'];
  readonly snippet: string;
}

/** What a tool reads of one file for its SessionInfo (sessionInfo below adds the file's own). */
export interface ReadMeta {
  readonly id: string;
  readonly projectKey: string;
  readonly cwd: string | null;
  readonly title: string | null;
  readonly firstPrompt: string | null;
  /** The last timestamp in the file (null: none, its mtime stands for it). */
  readonly lastTimestamp: string | null;
  readonly messages: number;
  readonly messagesExact: boolean;
  readonly gitBranch: string | null;
}

/** A search's test of one parsed line (null: no match). */
export type LineCheck = (o: Record<string, unknown>) => LineHit | null;

/** Options of another tool than Claude Code: its cache beside Claude Code's (`<file>.<tool>`). */
export function besideCache(opts: AdapterOptions, tool: string): AdapterOptions {
  const env = opts.env ? { env: opts.env } : {};
  return opts.cacheFile === undefined ? env : { ...env, cacheFile: opts.cacheFile === null ? null : `${opts.cacheFile}.${tool}` };
}

/** `env[variable]`, else `~/<dir>`: where most tools keep their files (as given; root() resolves it). */
export function toolHome(env: NodeJS.ProcessEnv, variable: string, dir: string): string {
  return env[variable] || join(env.HOME || homedir(), dir);
}

/** What the base needs to know of a tool. */
export interface About {
  /** The tool's name in messages ("no Codex session …"). */
  readonly label: string;
  /** The cache file's name in roam's state directory (absent: MetaCache's default, Claude Code's). */
  readonly cacheName?: string;
  /** The tool's home under `env`, as given (the root, resolved). */
  home(env: NodeJS.ProcessEnv): string;
}

export abstract class BaseAdapter<F extends FoundFile> implements SessionAdapter {
  abstract readonly tool: ToolName;
  protected abstract readonly about: About;
  /** Whether files(project) holds only that project's sessions (Claude Code: its key directory); else list filters their infos. */
  protected readonly filesOfProject: boolean = false;
  protected readonly env: NodeJS.ProcessEnv;

  constructor(protected readonly options: AdapterOptions = {}) {
    this.env = options.env ?? process.env;
  }

  /** The tool's home (Claude Code: `$CLAUDE_CONFIG_DIR` or `~/.claude`), resolved. */
  root(env: NodeJS.ProcessEnv = this.env): string {
    return resolve(this.about.home(env));
  }

  abstract projectKey(path: string): string;
  /** The session files (not read): of one project where `filesOfProject`, else all. `cache`: where directory listings may be kept. */
  abstract files(project?: string, cache?: MetaCache): F[];
  /** Where the files are: cache entries under it for files no longer there are forgotten. */
  protected abstract filesRoot(): string;
  /** One file's session, read (null: not a session, or unreadable). */
  protected abstract readInfo(f: F): SessionInfo | null;
  /** Whether the file's name says it may hold session `id` (find reads those first). */
  protected abstract mayHold(f: F, id: string): boolean;
  /**
   * The search's test of one parsed line, for `needle` (lower case). The default matches nothing:
   * for a tool whose sessions are searched parsed whole (`searchParsed`), not line by line.
   */
  protected lineCheck(_needle: string): LineCheck {
    return () => null;
  }
  /** The conversation of a session found by `find`. */
  protected abstract transcript(info: SessionInfo): TranscriptEntry[] | Promise<TranscriptEntry[]>;
  abstract resumeCommand(id: string, opts?: { cwd?: string }): ToolCommand;
  abstract forkCommand(id: string, opts?: { cwd?: string }): ToolCommand;
  abstract newCommand(name: string, opts?: { cwd?: string }): ToolCommand;

  /** The SessionInfo of file `f` from what was read of it (its keys in `roam list --json`'s order). */
  protected sessionInfo(f: F, m: ReadMeta): SessionInfo {
    return {
      tool: this.tool, id: m.id, file: f.file, projectKey: m.projectKey, cwd: m.cwd, title: m.title, firstPrompt: m.firstPrompt,
      lastActivity: isoOr(m.lastTimestamp, f.mtimeMs), messages: m.messages, messagesExact: m.messagesExact, gitBranch: m.gitBranch, bytes: f.size, mtimeMs: f.mtimeMs,
    };
  }

  protected cache(): MetaCache {
    const { cacheFile } = this.options;
    const name = this.about.cacheName;
    return MetaCache.open(this.env, cacheFile !== undefined || name === undefined ? cacheFile : join(roamPaths(this.env).state, name));
  }

  /** What each cached info becomes, made once per infos() call (Codex: its thread name as the title). */
  protected decorator(): (info: SessionInfo, f: F) => SessionInfo {
    return (info) => info;
  }

  /** The infos of a batch of files, as infos() returns them (Gemini CLI: one per id). */
  protected finish(infos: SessionInfo[]): SessionInfo[] {
    return infos;
  }

  /** One file's metadata: from the cache when fresh, else read (and cached). */
  private cached(f: F, cache: MetaCache): SessionInfo | null {
    let info = cache.get(f.file, f.size, f.mtimeMs);
    if (info === undefined) {
      info = this.readInfo(f);
      cache.set(f.file, f.size, f.mtimeMs, info);
    }
    return info;
  }

  /** Metadata of these files: from the cache when fresh, else read (and cached). */
  infos(files: readonly F[], cache: MetaCache): SessionInfo[] {
    const decorate = this.decorator();
    const out: SessionInfo[] = [];
    for (const f of files) {
      const info = this.cached(f, cache);
      if (info) out.push(decorate(info, f));
    }
    return this.finish(out);
  }

  /** The sessions of the project in `dir` among `infos` (the one project identity, sessions/paths.ts). */
  protected ofProject(infos: SessionInfo[], dir: string): SessionInfo[] {
    return ofProject(infos, dir, this.env);
  }

  async list(opts: ListOptions = {}): Promise<SessionInfo[]> {
    const cache = this.cache();
    const files = this.files(opts.project, cache);
    let infos = this.infos(files, cache);
    // Forget deleted files (only needed when the cache holds more entries than there are files).
    if ((opts.project === undefined || !this.filesOfProject) && cache.size > files.length) cache.prune(this.filesRoot(), new Set(files.map((f) => f.file)));
    cache.save();
    if (opts.project !== undefined && !this.filesOfProject) infos = this.ofProject(infos, opts.project);
    infos = newestFirst(infos);
    return opts.limit !== undefined ? infos.slice(0, opts.limit) : infos;
  }

  async find(id: string): Promise<SessionInfo | null> {
    return this.findNow(id);
  }

  /** find, synchronously. */
  protected findNow(id: string): SessionInfo | null {
    if (!id) return null;
    const cache = this.cache();
    const files = this.files(undefined, cache);
    const likely = this.infos(files.filter((f) => this.mayHold(f, id)), cache).filter((s) => s.id === id);
    const found = likely.length ? likely : this.infos(files, cache).filter((s) => s.id === id);
    cache.save();
    return newestFirst(found)[0] ?? null;
  }

  /** Whether search reads this file (Codex: not a `.zst` this Node.js cannot decompress). */
  protected searchable(_f: F): boolean {
    return true;
  }

  /** The matching lines of one file (Codex: a `.zst` is decompressed first). */
  protected async scanOne(f: F, needle: Needle, check: LineCheck, limit: number, buffers: ScanBuffer[]): Promise<LineMatch<LineHit>[]> {
    const b = buffers.pop() ?? scanBuffer();
    try {
      // One Needle for all: its RegExp's lastIndex is only used within one chunk, between awaits.
      return await scanFile(f.file, f.size, needle, check, limit, b);
    } finally {
      buffers.push(b);
    }
  }

  async search(text: string, opts: SearchOptions = {}): Promise<SearchHit[]> {
    if (!text) throw new RoamError(ErrorCodes.USAGE, 'nothing to search for');
    const limit = opts.limit ?? Infinity;
    const cache = this.cache();
    let files = this.files(opts.project).filter((f) => this.searchable(f)).sort((a, b) => b.mtimeMs - a.mtimeMs);
    if (opts.project !== undefined && !this.filesOfProject) {
      const keep = new Set(this.ofProject(this.infos(files, cache), opts.project).map((s) => s.file));
      files = files.filter((f) => keep.has(f.file));
    }
    const check = this.lineCheck(text.toLowerCase());
    const needle = new Needle(text);
    let found = 0;
    const buffers: ScanBuffer[] = [];
    const perFile = await pool(files, opts.concurrency ?? 8, async (f) => {
      try {
        const m = await this.scanOne(f, needle, check, limit, buffers);
        found += m.length;
        return m;
      } catch {
        return []; // vanished or unreadable since the listing
      }
    }, () => found >= limit);
    const decorate = this.decorator();
    const hits: SearchHit[] = [];
    files.forEach((f, i) => {
      const m = perFile[i];
      if (!m?.length) return;
      const info = this.cached(f, cache);
      const session = info && decorate(info, f);
      if (session) for (const h of m) hits.push({ session, line: h.line, role: h.value.role, snippet: h.value.snippet });
    });
    cache.save();
    return hits.slice(0, limit);
  }

  /**
   * Search, for a tool whose session is one JSON document searched parsed: each listed session
   * whose bytes hold `text` is read whole and `hitsOf` picks its hits (`needle`: `text` in lower
   * case; at most `limit`).
   */
  protected async searchParsed(text: string, opts: SearchOptions, hitsOf: (raw: string, session: SessionInfo, needle: string, limit: number) => SearchHit[]): Promise<SearchHit[]> {
    if (!text) throw new RoamError(ErrorCodes.USAGE, 'nothing to search for');
    const needle = text.toLowerCase();
    const limit = opts.limit ?? Infinity;
    const sessions = await this.list(opts.project === undefined ? {} : { project: opts.project });
    const re = new Needle(text);
    let found = 0;
    const per = await pool(sessions, opts.concurrency ?? 8, async (session) => {
      let raw: Buffer;
      try {
        raw = readFileSync(session.file);
      } catch {
        return [];
      }
      if (!re.test(raw)) return [];
      const hits = hitsOf(raw.toString('utf8'), session, needle, limit);
      found += hits.length;
      return hits;
    }, () => found >= limit);
    return per.flatMap((h) => h ?? []).slice(0, limit);
  }

  async show(id: string): Promise<TranscriptEntry[]> {
    const info = await this.find(id);
    if (!info) throw new RoamError(ErrorCodes.SESSION_NOT_FOUND, `no ${this.about.label} session ${id}`, { id });
    return this.transcript(info);
  }
}

/** The messages (in order, numbered from 1) whose text holds `needle` (lower case), at most `limit`. */
export function messageHits(session: SessionInfo, messages: ReadonlyArray<{ readonly role: 'user' | 'assistant'; readonly text: string }>, needle: string, limit: number): SearchHit[] {
  const hits: SearchHit[] = [];
  messages.forEach((m, i) => {
    if (hits.length < limit && m.text.toLowerCase().includes(needle)) hits.push({ session, line: i + 1, role: m.role, snippet: snippet(m.text, needle) });
  });
  return hits;
}
