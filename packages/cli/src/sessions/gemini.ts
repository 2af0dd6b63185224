/**
 * Gemini CLI's session adapter (docs/GEMINI.md; measured with @google/gemini-cli 0.61.0).
 *
 * Root: `$GEMINI_CLI_HOME/.gemini`, else `~/.gemini` (GEMINI_CLI_HOME stands for the home
 * directory, not for `.gemini`). A session is `tmp/<project slug>/chats/session-<UTC
 * YYYY-MM-DDTHH-MM>-<id8>.jsonl` (a session imported with `--session-file`:
 * `session-<epoch ms>-<id8>.jsonl`; old versions: one whole-file `.json`, rewritten on every change).
 * Sub-agents' sessions are in `chats/<parent id>/` and are not listed, as the CLI does not list them.
 *
 * A `.jsonl` holds records, one per line, read as the CLI's loadConversationRecord reads them:
 *   {sessionId, projectHash, startTime, lastUpdated, kind, …}  metadata (merged; a resume appends another)
 *   {id, timestamp, type: user|gemini|info|error|warning, content, toolCalls?, thoughts?, model?}
 *                                       a message; the same id again replaces it in place
 *   {"$set": {…}}                       metadata update; `$set.messages` replaces the whole list
 *   {"$rewindTo": id}                   drops that message and every later one (all if it is unknown)
 * A file whose last state has no resumable message (a user prompt that is not a slash command or
 * the CLI's `<session_context>`, or a model turn) is not a session, as in `gemini --list-sessions`;
 * when two files hold one id, the later `lastUpdated` wins (the CLI's rule, which matters because a
 * resume in a later minute leaves a stub file with the same id: docs/GEMINI.md).
 *
 * The project slug comes from `<root>/projects.json` (absolute path → slug, per machine and not
 * synced; older versions used `sha256(path)` as the directory name). A session's projectKey is its
 * slug, its cwd the first workspace directory of its `<session_context>` (the writer's path).
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import type { ProjectPlaces } from '../machine/project-identity.js';
import { roamPaths } from '../machine/paths.js';
import { MetaCache } from './cache.js';
import { oneLine } from './claude-meta.js';
import { newestFirst } from './claude.js';
import { isoOr, ofProject, withCwd } from './paths.js';
import { Needle, pool, snippet } from './scan.js';
import type { ListOptions, SearchHit, SearchOptions, SessionAdapter, SessionInfo, ToolCommand, ToolResult, ToolUse, TranscriptEntry } from './types.js';

/** `session-2026-11-21T12-47-944f3c7b.jsonl`, `session-1763729000000-944f3c7b.jsonl`, legacy `.json`. */
export const GEMINI_SESSION_NAME = /^session-.+\.jsonl?$/;
const TITLE_MAX = 200;

export interface GeminiAdapterOptions {
  /** HOME / GEMINI_CLI_HOME / ROAM_HOME come from here (default: process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** The metadata cache file; null for none (default: `<roam state>/sessions-cache-gemini.json`). */
  readonly cacheFile?: string | null;
}

type Obj = Record<string, unknown>;

export interface GeminiToolCall {
  readonly id: string | null;
  readonly name: string;
  readonly args: unknown;
  readonly result: unknown;
  readonly status: string | null;
}

export interface GeminiMessage {
  readonly id: string;
  readonly type: string;
  readonly timestamp: string | null;
  readonly content: unknown;
  readonly toolCalls: readonly GeminiToolCall[];
  readonly model: string | null;
  /** Whether the record has thoughts (the model's reasoning summaries). */
  readonly thoughts: number;
  /** 1-based line of the record that last set it. */
  readonly line: number;
}

export interface GeminiSession {
  readonly sessionId: string;
  readonly projectHash: string;
  readonly startTime: string | null;
  readonly lastUpdated: string | null;
  readonly summary: string | null;
  readonly kind: string | null;
  readonly directories: readonly string[];
  /** The messages in the order the CLI replays them. */
  readonly messages: GeminiMessage[];
}

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function toolCallsOf(v: unknown): GeminiToolCall[] {
  if (!Array.isArray(v)) return [];
  const out: GeminiToolCall[] = [];
  for (const c of v) {
    if (!isObj(c)) continue;
    out.push({ id: str(c.id), name: str(c.name) ?? '?', args: c.args ?? null, result: c.result ?? null, status: str(c.status) });
  }
  return out;
}

function messageOf(o: Obj, line: number): GeminiMessage | null {
  const id = str(o.id);
  if (id === null) return null;
  return {
    id,
    type: str(o.type) ?? '?',
    timestamp: str(o.timestamp),
    content: o.content ?? null,
    toolCalls: toolCallsOf(o.toolCalls),
    model: str(o.model),
    thoughts: Array.isArray(o.thoughts) ? o.thoughts.length : 0,
    line,
  };
}

/**
 * A session file's text as the CLI reads it (loadConversationRecord, then its legacy whole-file
 * fallback), or null when it is neither.
 */
export function parseGeminiSession(text: string): GeminiSession | null {
  let meta: Obj = {};
  const messages = new Map<string, GeminiMessage>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.trim()) continue;
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      continue;
    }
    if (!isObj(o)) continue;
    if (typeof o.$rewindTo === 'string') {
      if (!messages.has(o.$rewindTo)) messages.clear();
      else {
        let found = false;
        for (const id of [...messages.keys()]) {
          if (id === o.$rewindTo) found = true;
          if (found) messages.delete(id);
        }
      }
    } else if (typeof o.id === 'string') {
      const m = messageOf(o, i + 1);
      if (m) messages.set(m.id, m); // a known id keeps its place (Map order), as in the CLI
    } else if (isObj(o.$set)) {
      const set = o.$set;
      if (Array.isArray(set.messages)) {
        messages.clear();
        for (const x of set.messages) {
          const m = isObj(x) ? messageOf(x, i + 1) : null;
          if (m) messages.set(m.id, m);
        }
      }
      meta = { ...meta, ...set };
    } else if (typeof o.sessionId === 'string' && typeof o.projectHash === 'string') {
      meta = { ...meta, ...o };
      if (Array.isArray(o.messages)) {
        for (const x of o.messages) {
          const m = isObj(x) ? messageOf(x, i + 1) : null;
          if (m) messages.set(m.id, m);
        }
      }
    }
  }
  if (typeof meta.sessionId !== 'string' || typeof meta.projectHash !== 'string') {
    // Legacy: the whole file is one JSON object.
    let o: unknown;
    try {
      o = JSON.parse(text);
    } catch {
      return null;
    }
    if (!isObj(o) || typeof o.sessionId !== 'string') return null;
    meta = o;
    messages.clear();
    for (const x of Array.isArray(o.messages) ? o.messages : []) {
      const m = isObj(x) ? messageOf(x, 1) : null;
      if (m) messages.set(m.id, m);
    }
  }
  return {
    sessionId: meta.sessionId as string,
    projectHash: str(meta.projectHash) ?? '',
    startTime: str(meta.startTime),
    lastUpdated: str(meta.lastUpdated),
    summary: str(meta.summary),
    kind: str(meta.kind),
    directories: Array.isArray(meta.directories) ? meta.directories.filter((d): d is string => typeof d === 'string') : [],
    messages: [...messages.values()],
  };
}

/** The text of a content (a string, a part, or parts): its text parts, thoughts left out. */
export function partsText(content: unknown): string {
  if (typeof content === 'string') return content;
  const parts = Array.isArray(content) ? content : isObj(content) ? [content] : [];
  let out = '';
  for (const p of parts) {
    if (typeof p === 'string') out += p;
    else if (isObj(p) && typeof p.text === 'string' && p.thought !== true) out += p.text;
  }
  return out;
}

/** A user text the CLI does not send back on resume: empty, a slash command, `?`, its own context. */
export function isIgnoredUserText(text: string): boolean {
  const t = text.trim();
  return t.length === 0 || t.startsWith('/') || t.startsWith('?') || t.startsWith('<session_context>') || t.startsWith('<hook_context>');
}

/** The CLI's own context blocks (sent to the model, never typed). */
function isContextText(text: string): boolean {
  const t = text.trimStart();
  return t.startsWith('<session_context>') || t.startsWith('<hook_context>');
}

/** A message the CLI would resume from (isResumableMessageRecord). */
export function isResumable(m: GeminiMessage): boolean {
  if (m.type === 'user') return !isIgnoredUserText(partsText(m.content));
  if (m.type === 'gemini') return partsText(m.content).trim().length > 0 || m.toolCalls.length > 0 || m.thoughts > 0 || hasFunctionCall(m.content);
  return false;
}

function hasFunctionCall(content: unknown): boolean {
  return Array.isArray(content) && content.some((p) => isObj(p) && isObj(p.functionCall));
}

/** The directory a session was written in: the first workspace directory of its `<session_context>`. */
export function sessionCwd(s: GeminiSession): string | null {
  for (const m of s.messages) {
    if (m.type !== 'user') continue;
    const t = partsText(m.content);
    if (!t.includes('<session_context>')) continue;
    const w = /\*\*Workspace Directories:\*\*\s*\n\s*-\s*(\S[^\n]*)/.exec(t) ?? /working in the directory:?\s*(\/[^\n]*)/i.exec(t);
    if (w) return w[1]!.trim();
  }
  return s.directories[0] ?? null;
}

/** The text of a tool's result as the CLI records it (a string, parts with functionResponse, or an object). */
export function toolResultText(result: unknown): string {
  if (typeof result === 'string') return result;
  const parts = Array.isArray(result) ? result : isObj(result) ? [result] : [];
  const out: string[] = [];
  for (const p of parts) {
    if (!isObj(p)) continue;
    if (isObj(p.functionResponse)) {
      const r = p.functionResponse.response;
      if (isObj(r)) {
        if (typeof r.output === 'string') out.push(r.output);
        else if (typeof r.error === 'string') out.push(r.error);
        else out.push(JSON.stringify(r));
      } else if (r !== undefined) out.push(typeof r === 'string' ? r : JSON.stringify(r));
    } else if (typeof p.text === 'string') out.push(p.text);
    else if (isObj(p.inlineData)) out.push('[binary data]');
  }
  return out.join('\n');
}

/** The conversation of a parsed session, as the CLI replays it (info/error/warning messages left out). */
export function geminiTranscript(s: GeminiSession): TranscriptEntry[] {
  const out: TranscriptEntry[] = [];
  for (const m of s.messages) {
    if (m.type === 'user') {
      const text = partsText(m.content);
      if (!text.trim()) continue;
      out.push({ role: 'user', uuid: m.id, timestamp: m.timestamp, text, toolUses: [], toolResults: [], ...(isContextText(text) ? { meta: true } : {}) });
      continue;
    }
    if (m.type !== 'gemini') continue;
    const uses: ToolUse[] = m.toolCalls.map((c) => ({ id: c.id, name: c.name, input: c.args }));
    if (!m.toolCalls.length && Array.isArray(m.content)) {
      for (const p of m.content) if (isObj(p) && isObj(p.functionCall)) uses.push({ id: str(p.functionCall.id), name: str(p.functionCall.name) ?? '?', input: p.functionCall.args ?? null });
    }
    const text = partsText(m.content);
    if (!text.trim() && !uses.length) continue;
    out.push({ role: 'assistant', uuid: m.id, timestamp: m.timestamp, text, toolUses: uses, toolResults: [] });
    const results: ToolResult[] = m.toolCalls.filter((c) => c.result !== null).map((c) => ({ toolUseId: c.id, text: toolResultText(c.result), isError: c.status === 'error' }));
    if (results.length) out.push({ role: 'user', uuid: `${m.id}_response`, timestamp: m.timestamp, text: '', toolUses: [], toolResults: results });
  }
  return out;
}

export interface GeminiFile {
  readonly file: string;
  readonly size: number;
  readonly mtimeMs: number;
  /** The directory under `tmp/` (the project's slug, or an old version's sha256 of its path). */
  readonly slug: string;
}

/** The CLI's slug of a directory name (ProjectRegistry.slugify). */
export function slugify(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '') || 'project';
}

/** An old version's project directory name: sha256 of the absolute path. */
export function projectHash(path: string): string {
  return createHash('sha256').update(path).digest('hex');
}

export class GeminiAdapter implements SessionAdapter {
  readonly tool = 'gemini' as const;
  private readonly env: NodeJS.ProcessEnv;

  constructor(private readonly opts: GeminiAdapterOptions = {}) {
    this.env = opts.env ?? process.env;
  }

  /** `$GEMINI_CLI_HOME/.gemini`, else `~/.gemini` (measured: the CLI's homedir() is GEMINI_CLI_HOME). */
  root(env: NodeJS.ProcessEnv = this.env): string {
    return resolve(env.GEMINI_CLI_HOME || env.HOME || homedir(), '.gemini');
  }

  /** `projects.json`'s map: absolute path → slug (empty when missing or unreadable). */
  projects(): Record<string, string> {
    try {
      const o = JSON.parse(readFileSync(join(this.root(), 'projects.json'), 'utf8')) as { projects?: unknown };
      if (!isObj(o.projects)) return {};
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(o.projects)) if (typeof v === 'string') out[k] = v;
      return out;
    } catch {
      return {};
    }
  }

  /**
   * The slug the CLI files `path` under here: its projects.json entry, else the one it would claim
   * first (the slugified directory name; the CLI adds `-1`, `-2` when that is taken).
   */
  projectKey(path: string): string {
    return this.projects()[resolve(path)] ?? slugify(basename(resolve(path)));
  }

  /**
   * Sessions of `dir` beside those its identity finds: under the slug projects.json gives it here
   * unless their recorded directory is another project's here and their metadata does not name
   * `dir` (`roam import` files a session for this directory: its projectHash); under the slug it
   * would get, or an old version's sha256 of its path, when they record none.
   */
  private bySlug(dir: string): (s: SessionInfo, places: ProjectPlaces) => boolean {
    const projects = this.projects();
    const mapped = projects[dir];
    const guess = slugify(basename(dir));
    const keys = new Set([projectHash(dir), mapped ?? (Object.values(projects).includes(guess) ? projectHash(dir) : guess)]);
    return (s, places) => (s.cwd === null ? keys.has(s.projectKey) : s.projectKey === mapped && (places.dirOf(s.cwd) === null || this.read(s.file)?.projectHash === projectHash(dir)));
  }

  /** Session files: `tmp/*\/chats/session-*.json(l)`. */
  files(): GeminiFile[] {
    const tmp = join(this.root(), 'tmp');
    const out: GeminiFile[] = [];
    let slugs: string[];
    try {
      slugs = readdirSync(tmp);
    } catch {
      return out;
    }
    for (const slug of slugs) {
      const chats = join(tmp, slug, 'chats');
      let names: string[];
      try {
        names = readdirSync(chats);
      } catch {
        continue;
      }
      for (const name of names) {
        if (!GEMINI_SESSION_NAME.test(name)) continue;
        const file = join(chats, name);
        const st = statSync(file, { throwIfNoEntry: false });
        if (st?.isFile()) out.push({ file, size: st.size, mtimeMs: st.mtimeMs, slug });
      }
    }
    return out;
  }

  /** A file parsed, or null (unreadable, not a session). */
  read(file: string): GeminiSession | null {
    try {
      return parseGeminiSession(readFileSync(file, 'utf8'));
    } catch {
      return null;
    }
  }

  private readInfo(f: GeminiFile): SessionInfo | null {
    const s = this.read(f.file);
    if (!s || s.kind === 'subagent' || !s.messages.some(isResumable)) return null;
    let first: string | null = null;
    let messages = 0;
    let lastTs: string | null = null;
    for (const m of s.messages) {
      if (m.timestamp) lastTs = m.timestamp;
      if (!isResumable(m)) continue;
      messages++;
      if (first === null && m.type === 'user') first = partsText(m.content);
    }
    const firstPrompt = oneLine(first, TITLE_MAX);
    return {
      tool: 'gemini',
      id: s.sessionId,
      file: f.file,
      projectKey: f.slug,
      cwd: sessionCwd(s),
      title: oneLine(s.summary, TITLE_MAX) ?? firstPrompt,
      firstPrompt,
      lastActivity: isoOr(s.lastUpdated ?? lastTs, f.mtimeMs),
      messages,
      messagesExact: true,
      gitBranch: null,
      bytes: f.size,
      mtimeMs: f.mtimeMs,
    };
  }

  private cache(): MetaCache {
    const file = this.opts.cacheFile === undefined ? join(roamPaths(this.env).state, 'sessions-cache-gemini.json') : this.opts.cacheFile;
    return MetaCache.open(this.env, file);
  }

  /** Sessions of these files, one per id (the latest lastUpdated, as the CLI picks). */
  private infos(files: readonly GeminiFile[], cache: MetaCache): SessionInfo[] {
    const byId = new Map<string, SessionInfo>();
    for (const f of files) {
      let info = cache.get(f.file, f.size, f.mtimeMs);
      if (info === undefined) {
        info = this.readInfo(f);
        cache.set(f.file, f.size, f.mtimeMs, info);
      }
      if (!info) continue;
      const seen = byId.get(`${info.projectKey}\n${info.id}`);
      if (!seen || info.lastActivity > seen.lastActivity) byId.set(`${info.projectKey}\n${info.id}`, info);
    }
    return [...byId.values()];
  }

  async list(opts: ListOptions = {}): Promise<SessionInfo[]> {
    const cache = this.cache();
    const files = this.files();
    let infos = this.infos(files, cache);
    if (cache.size > files.length) cache.prune(join(this.root(), 'tmp'), new Set(files.map((f) => f.file)));
    cache.save();
    if (opts.project !== undefined) {
      const dir = opts.project;
      infos = ofProject(infos, dir, this.env, this.bySlug(dir));
    }
    infos = newestFirst(infos);
    return opts.limit !== undefined ? infos.slice(0, opts.limit) : infos;
  }

  async find(id: string): Promise<SessionInfo | null> {
    if (!id) return null;
    const cache = this.cache();
    const files = this.files();
    const short = id.slice(0, 8).toLowerCase();
    // The file's name ends with the id's first 8 characters (legacy names may not).
    const named = files.filter((f) => basename(f.file).replace(/\.jsonl?$/, '').toLowerCase().endsWith(`-${short}`));
    let found = this.infos(named, cache).filter((s) => s.id === id);
    if (!found.length) found = this.infos(files, cache).filter((s) => s.id === id);
    cache.save();
    return newestFirst(found)[0] ?? null;
  }

  async search(text: string, opts: SearchOptions = {}): Promise<SearchHit[]> {
    if (!text) throw new RoamError(ErrorCodes.USAGE, 'nothing to search for');
    const needle = text.toLowerCase();
    const limit = opts.limit ?? Infinity;
    const cache = this.cache();
    let sessions = newestFirst(this.infos(this.files(), cache));
    cache.save();
    if (opts.project !== undefined) {
      const dir = opts.project;
      sessions = ofProject(sessions, dir, this.env, this.bySlug(dir));
    }
    const re = new Needle(text);
    let found = 0;
    const perFile = await pool(sessions, opts.concurrency ?? 8, async (session) => {
      let raw: Buffer;
      try {
        raw = readFileSync(session.file);
      } catch {
        return [];
      }
      if (!re.test(raw)) return [];
      const s = parseGeminiSession(raw.toString('utf8'));
      if (!s) return [];
      const hits: SearchHit[] = [];
      if (s.summary && s.summary.toLowerCase().includes(needle)) hits.push({ session, line: 1, role: 'title', snippet: snippet(s.summary, needle) });
      for (const m of s.messages) {
        if (hits.length >= limit) break;
        if (m.type !== 'user' && m.type !== 'gemini') continue;
        const t = partsText(m.content);
        if (m.type === 'user' && isContextText(t)) continue;
        if (t.toLowerCase().includes(needle)) hits.push({ session, line: m.line, role: m.type === 'user' ? 'user' : 'assistant', snippet: snippet(t, needle) });
      }
      found += hits.length;
      return hits;
    }, () => found >= limit);
    return perFile.flatMap((h) => h ?? []).slice(0, limit);
  }

  async show(id: string): Promise<TranscriptEntry[]> {
    const info = await this.find(id);
    if (!info) throw new RoamError(ErrorCodes.SESSION_NOT_FOUND, `no Gemini CLI session ${id}`, { id });
    const s = this.read(info.file);
    if (!s) throw new RoamError(ErrorCodes.SESSION_UNREADABLE, `${info.file} is not a Gemini CLI session`, { file: info.file });
    return geminiTranscript(s);
  }

  /** `gemini --resume <id>`: the CLI finds it among the sessions of the directory's project (its slug). */
  resumeCommand(id: string, opts: { cwd?: string } = {}): ToolCommand {
    return withCwd(['gemini', '--resume', id], opts.cwd);
  }

  /**
   * Gemini CLI 0.61 has no fork; `--session-file <file>` loads a session's messages into a new
   * session (new id, filed under the current directory's project) and leaves the file as it is,
   * which is a fork. But with the CLI's session cleanup on (`general.sessionRetention.enabled`, the
   * default) the next gemini run in that project deletes the new session (measured, docs/GEMINI.md),
   * so the command is given only when this machine's settings turn the cleanup off.
   */
  forkCommand(id: string, opts: { cwd?: string } = {}): ToolCommand {
    const file = this.fileOf(id);
    if (!file) throw new RoamError(ErrorCodes.SESSION_NOT_FOUND, `no Gemini CLI session ${id}`, { id });
    if (this.cleanupOn()) {
      throw new RoamError(ErrorCodes.USAGE, `Gemini CLI has no fork that lasts: \`gemini --session-file ${file}\` copies session ${id} into a new one, but Gemini CLI 0.61's session cleanup deletes that copy on its next run in the project; set "general": {"sessionRetention": {"enabled": false}} in ${join(this.root(), 'settings.json')} to keep it`, { id, tool: 'gemini' });
    }
    return withCwd(['gemini', '--session-file', file], opts.cwd);
  }

  /** Whether the CLI's session cleanup is on (user settings; default on). */
  cleanupOn(): boolean {
    try {
      const s = JSON.parse(readFileSync(join(this.root(), 'settings.json'), 'utf8')) as { general?: { sessionRetention?: { enabled?: unknown } } };
      return s.general?.sessionRetention?.enabled !== false;
    } catch {
      return true;
    }
  }

  /** Gemini CLI cannot name a session when it starts (0.61: the name is a summary it writes itself). */
  newCommand(name: string, _opts: { cwd?: string } = {}): ToolCommand {
    throw new RoamError(ErrorCodes.USAGE, `gemini cannot name a new session from the command line (0.61 titles a session with the first prompt or a summary it writes): run \`gemini\` and start with "${name}"`, { tool: 'gemini' });
  }

  /** The file of a session, synchronously (forkCommand): the newest file holding that id. */
  fileOf(id: string): string | null {
    const cache = this.cache();
    const files = this.files();
    const short = id.slice(0, 8).toLowerCase();
    const named = files.filter((f) => basename(f.file).replace(/\.jsonl?$/, '').toLowerCase().endsWith(`-${short}`));
    let found = this.infos(named, cache).filter((s) => s.id === id);
    if (!found.length) found = this.infos(files, cache).filter((s) => s.id === id);
    cache.save();
    return newestFirst(found)[0]?.file ?? null;
  }

  /**
   * The slug `dir` is filed under here: its projects.json entry, else the one the CLI would claim
   * (ProjectRegistry.claimNewSlug): the slugified directory name, then `-1`, `-2`, …, skipping slugs
   * projects.json gives another path and slugs whose ownership marker names another path.
   */
  slugFor(dir: string): string {
    const key = resolve(dir);
    const projects = this.projects();
    if (projects[key]) return projects[key]!;
    const taken = new Set(Object.values(projects));
    const root = this.root();
    const base = slugify(basename(key));
    for (let i = 0; ; i++) {
      const slug = i === 0 ? base : `${base}-${i}`;
      if (taken.has(slug)) continue;
      const owners = [join(root, 'tmp', slug, '.project_root'), join(root, 'history', slug, '.project_root')].map(readMarker);
      if (owners.every((o) => o === null || resolve(o) === key)) return slug;
    }
  }

  /**
   * Files `dir` under `slug` for the CLI: its projects.json entry and the slug's ownership markers,
   * where missing (a slug from slugFor, so no marker names another path). Returns what it did.
   */
  registerProject(dir: string, slug: string): string[] {
    const key = resolve(dir);
    const root = this.root();
    const projects = this.projects();
    const did: string[] = [];
    if (projects[key] !== slug) {
      if (projects[key] !== undefined) throw new RoamError(ErrorCodes.USAGE, `Gemini CLI files ${key} under its project "${projects[key]}" here, not "${slug}"`, { dir: key, slug });
      writeJsonAtomic(join(root, 'projects.json'), { projects: { ...projects, [key]: slug } });
      did.push(`registered ${key} as Gemini CLI project "${slug}" in ${join(root, 'projects.json')}`);
    }
    for (const m of [join(root, 'tmp', slug, '.project_root'), join(root, 'history', slug, '.project_root')]) {
      if (readMarker(m) !== null) continue;
      mkdirSync(dirname(m), { recursive: true });
      writeFileSync(m, key);
      did.push(`wrote ${m}`);
    }
    return did;
  }

  /**
   * Before `gemini --resume` in `dir`: make the CLI file `dir` under the slug the session is kept
   * under, so that it finds it (it looks only in its project's `chats/`). A session that came from
   * another device, where the project has another path, is under a slug this machine's
   * projects.json does not know, and whose ownership marker (`tmp/<slug>/.project_root`, which
   * the CLI checks against the directory; per machine, never synced: DEFAULT_IGNORES) is missing
   * here. Registers `dir` → slug in projects.json and writes the markers. Never takes a slug or a
   * directory that another existing project here has (ROAM_USAGE). Returns what it did, one line
   * each (empty: nothing was needed).
   */
  async prepareResume(session: SessionInfo, dir: string): Promise<string[]> {
    const slug = session.projectKey;
    const root = this.root();
    const projects = this.projects();
    const key = resolve(dir);
    const markers = [join(root, 'tmp', slug, '.project_root'), join(root, 'history', slug, '.project_root')];
    const owners = markers.map((m) => readMarker(m));
    const mine = (o: string | null) => o === null || resolve(o) === key;
    if (projects[key] === slug && owners.every((o) => o !== null && mine(o))) return [];
    if (projects[key] !== undefined && projects[key] !== slug) {
      throw new RoamError(ErrorCodes.USAGE, `Gemini CLI files ${key} under its project "${projects[key]}" here, but session ${session.id} is kept under "${slug}" (${session.file}), where gemini --resume run here would not look; resume it from the directory of "${slug}" (${join(root, 'projects.json')} says which)`, { id: session.id, slug, dir: key });
    }
    const exists = (p: string) => statSync(p, { throwIfNoEntry: false })?.isDirectory() === true;
    const other = Object.entries(projects).find(([p, s]) => s === slug && p !== key);
    const owner = [other?.[0], ...owners].find((o): o is string => typeof o === 'string' && resolve(o) !== key && exists(o));
    if (owner) {
      throw new RoamError(ErrorCodes.USAGE, `Gemini CLI's project "${slug}", which holds session ${session.id}, belongs to ${owner} on this machine (${join(root, 'projects.json')}), not to ${key}, the session's project here; resume it from ${owner}, or remove that registration`, { id: session.id, slug, dir: owner, here: key });
    }
    const did: string[] = [];
    if (projects[key] !== slug) {
      const next = { ...projects };
      if (other) delete next[other[0]]; // a directory that does not exist here
      next[key] = slug;
      writeJsonAtomic(join(root, 'projects.json'), { projects: next });
      did.push(`registered ${key} as Gemini CLI project "${slug}" in ${join(root, 'projects.json')}${other ? ` (in place of ${other[0]}, which does not exist here)` : ''}`);
    }
    markers.forEach((m, i) => {
      const was = owners[i]!;
      if (was !== null && mine(was)) return;
      mkdirSync(dirname(m), { recursive: true });
      writeFileSync(m, key);
      did.push(was === null ? `wrote ${m}` : `rewrote ${m}, which named ${was} (a directory that does not exist here)`);
    });
    return did;
  }
}

function readMarker(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

function writeJsonAtomic(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${randomUUID()}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2));
  renameSync(tmp, file);
}
