/**
 * GitHub Copilot CLI's session adapter (docs/COPILOT.md, measured on `@github/copilot` 1.0.102).
 *
 * Root: `$COPILOT_HOME` (the directory itself, the CLI's `.copilot`), else `~/.copilot`. A session
 * is a directory `session-state/<uuid>/` holding `events.jsonl` (an event log, appended to by
 * prompts, resumes, tool calls and compactions, but replaced by a shorter, re-serialised file on
 * `/rewind`: every line `{type, data, id, timestamp, parentId}`, each event's parentId the id of
 * the one before) and
 * `workspace.yaml` (rewritten by the CLI: id, cwd, name, user_named, summary_count, created_at,
 * updated_at, …), beside `checkpoints/`, `files/`, `research/`, `rewind-file-snapshots/` and
 * sometimes a `session.db`. The transcript roam reads (`SessionInfo.file`) is `events.jsonl`.
 *
 * Events that make the conversation: `user.message` {content, transformedContent}, `assistant.message`
 * {content, toolRequests[{toolCallId, name, arguments}]}, `tool.execution_complete` {toolCallId,
 * success, result.content | error.message}, `session.compaction_complete` {summaryContent}. Events
 * of sub-agents carry `agentId` (or `data.parentToolCallId`) and are not the main conversation.
 * `session.snapshot_rewind` {upToEventId, eventIds?} removes events from the conversation.
 * Titles: a name the user gave (`workspace.yaml` name with user_named: true, or a
 * `session.title_changed` event), else the CLI's own name for it, else the first prompt.
 *
 * Copilot has no project key: it files sessions by id and records the working directory, so, as
 * for Codex, `projectKey(path)` is the path, a session's projectKey the directory it started in,
 * its cwd the last one recorded, and `list({project})` matches either.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import { roamPaths } from '../machine/paths.js';
import { MetaCache } from './cache.js';
import { oneLine } from './claude-meta.js';
import { newestFirst } from './claude.js';
import { isoOr, ofProject, withCwd } from './paths.js';
import { Needle, pool, scanBuffer, scanFile, snippet, type ScanBuffer } from './scan.js';
import type { ListOptions, SearchHit, SearchOptions, SessionAdapter, SessionInfo, ToolCommand, TranscriptEntry } from './types.js';

const TITLE_MAX = 200;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface CopilotAdapterOptions {
  /** HOME / COPILOT_HOME / ROAM_HOME come from here (default: process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** The metadata cache file; null for none (default: `<roam state>/sessions-cache-copilot.json`). */
  readonly cacheFile?: string | null;
}

/** A session directory's event log, not read yet. */
export interface CopilotFile {
  /** `<root>/session-state/<id>/events.jsonl`. */
  readonly file: string;
  /** The session's directory. */
  readonly dir: string;
  /** The directory's name (the session id). */
  readonly dirId: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** One line of events.jsonl. */
export interface CopilotEvent {
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly id: string | null;
  readonly timestamp: string | null;
  readonly parentId: string | null;
  readonly agentId: string | null;
}

/** A parsed line, or null for a blank, malformed or non-event line. */
export function parseEvent(line: string): CopilotEvent | null {
  if (!line.trim()) return null;
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return null;
  }
  if (!o || typeof o !== 'object' || Array.isArray(o)) return null;
  const e = o as Record<string, unknown>;
  if (typeof e.type !== 'string') return null;
  const data = e.data && typeof e.data === 'object' && !Array.isArray(e.data) ? (e.data as Record<string, unknown>) : {};
  const s = (v: unknown) => (typeof v === 'string' ? v : null);
  return { type: e.type, data, id: s(e.id), timestamp: s(e.timestamp), parentId: s(e.parentId), agentId: s(e.agentId) };
}

/** The events of a log's text, in file order, with those a `session.snapshot_rewind` removed left out. */
export function copilotEvents(text: string): CopilotEvent[] {
  let events: CopilotEvent[] = [];
  for (const line of text.split('\n')) {
    const e = parseEvent(line);
    if (!e) continue;
    if (e.type === 'session.snapshot_rewind') {
      const ids = Array.isArray(e.data.eventIds) ? new Set(e.data.eventIds.filter((x): x is string => typeof x === 'string')) : null;
      const upTo = typeof e.data.upToEventId === 'string' ? e.data.upToEventId : null;
      if (ids && ids.size) events = events.filter((x) => x.id === null || !ids.has(x.id));
      else if (upTo) {
        const at = events.findIndex((x) => x.id === upTo);
        if (at >= 0) events = events.slice(0, at);
      }
    }
    events.push(e);
  }
  return events;
}

/** Whether an event belongs to a sub-agent (not the main conversation). */
export function isSubagent(e: CopilotEvent): boolean {
  return e.agentId !== null || typeof e.data.parentToolCallId === 'string';
}

/** A user message's text as typed (`content`; `transformedContent` is what the model got, with the CLI's additions). */
export function userText(e: CopilotEvent): string {
  return typeof e.data.content === 'string' ? e.data.content : '';
}

/** A tool result's text: result.content, else error.message. */
export function resultText(data: Record<string, unknown>): string {
  const r = data.result as { content?: unknown } | undefined;
  if (r && typeof r === 'object' && typeof r.content === 'string') return r.content;
  const err = data.error as { message?: unknown } | string | undefined;
  if (typeof err === 'string') return err;
  if (err && typeof err === 'object' && typeof err.message === 'string') return err.message;
  return '';
}

/** The conversation of a log's text, in file order (sub-agents' events left out). */
export function copilotTranscript(text: string): TranscriptEntry[] {
  const out: TranscriptEntry[] = [];
  for (const e of copilotEvents(text)) {
    if (isSubagent(e)) continue;
    const base = { uuid: e.id, timestamp: e.timestamp };
    switch (e.type) {
      case 'user.message':
        out.push({ ...base, role: 'user', text: userText(e), toolUses: [], toolResults: [] });
        break;
      case 'assistant.message': {
        const reqs = Array.isArray(e.data.toolRequests) ? (e.data.toolRequests as Array<Record<string, unknown>>) : [];
        const toolUses = reqs
          .filter((r) => r && typeof r === 'object')
          .map((r) => ({ id: typeof r.toolCallId === 'string' ? r.toolCallId : null, name: typeof r.name === 'string' ? r.name : '?', input: r.arguments ?? null }));
        const text = typeof e.data.content === 'string' ? e.data.content : '';
        if (text || toolUses.length) out.push({ ...base, role: 'assistant', text, toolUses, toolResults: [] });
        break;
      }
      case 'tool.execution_complete':
        out.push({ ...base, role: 'user', text: '', toolUses: [], toolResults: [{ toolUseId: typeof e.data.toolCallId === 'string' ? e.data.toolCallId : null, text: resultText(e.data), isError: e.data.success === false }] });
        break;
      case 'session.compaction_complete':
        if (typeof e.data.summaryContent === 'string' && e.data.summaryContent.trim()) {
          out.push({ ...base, role: 'user', text: `[compacted] ${e.data.summaryContent}`, toolUses: [], toolResults: [], meta: true });
        }
        break;
      default:
        break;
    }
  }
  return out;
}

/** What list needs from a log. */
export interface CopilotMeta {
  readonly id: string | null;
  readonly startCwd: string | null;
  readonly cwd: string | null;
  readonly firstPrompt: string | null;
  /** The last `session.title_changed` title. */
  readonly title: string | null;
  readonly lastTimestamp: string | null;
  readonly messages: number;
  readonly gitBranch: string | null;
  readonly model: string | null;
}

export function readCopilotMeta(text: string): CopilotMeta {
  let id: string | null = null;
  let startCwd: string | null = null;
  let cwd: string | null = null;
  let firstPrompt: string | null = null;
  let title: string | null = null;
  let last: string | null = null;
  let messages = 0;
  let branch: string | null = null;
  let model: string | null = null;
  for (const e of copilotEvents(text)) {
    if (e.timestamp) last = e.timestamp;
    // session.start / session.resume carry `data.context`; session.context_changed is the context itself (its schema).
    const ctx = (e.type === 'session.context_changed' ? e.data : e.data.context) as { cwd?: unknown; branch?: unknown } | undefined;
    if ((e.type === 'session.start' || e.type === 'session.resume' || e.type === 'session.context_changed') && ctx && typeof ctx === 'object') {
      if (typeof ctx.cwd === 'string') {
        cwd = ctx.cwd;
        if (e.type === 'session.start') startCwd = ctx.cwd;
      }
      if (typeof ctx.branch === 'string') branch = ctx.branch;
    }
    if (e.type === 'session.start') {
      if (typeof e.data.sessionId === 'string') id = e.data.sessionId;
      if (typeof e.data.selectedModel === 'string') model = e.data.selectedModel;
    }
    if (e.type === 'session.title_changed' && typeof e.data.title === 'string') title = e.data.title;
    if (isSubagent(e)) continue;
    if (e.type === 'user.message') {
      messages++;
      if (firstPrompt === null && userText(e).trim()) firstPrompt = userText(e);
    } else if (e.type === 'assistant.message' && typeof e.data.content === 'string' && e.data.content.trim()) messages++;
  }
  return { id, startCwd: startCwd ?? cwd, cwd, firstPrompt, title, lastTimestamp: last, messages, gitBranch: branch, model };
}

/**
 * The top-level `key: value` pairs of a workspace.yaml (what the CLI writes: plain, single- or
 * double-quoted scalars, and `|`/`>` block scalars). Nested maps and lists are skipped.
 */
export function parseWorkspaceYaml(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const m = /^([A-Za-z_][\w-]*):(?:\s+(.*))?$/.exec(lines[i]!);
    if (!m) continue;
    const key = m[1]!;
    let v = (m[2] ?? '').trim();
    if (/^[|>][+-]?$/.test(v)) {
      const block: string[] = [];
      while (i + 1 < lines.length && (/^\s+/.test(lines[i + 1]!) || lines[i + 1] === '')) block.push(lines[++i]!.replace(/^\s{2}/, ''));
      while (block.length && block[block.length - 1] === '') block.pop();
      out[key] = v.startsWith('>') ? block.join(' ') : block.join('\n');
      continue;
    }
    if (v.startsWith('"')) {
      try {
        v = JSON.parse(v) as string;
      } catch {
        v = v.slice(1, v.endsWith('"') ? -1 : undefined);
      }
    } else if (v.startsWith("'")) {
      v = v.slice(1, v.endsWith("'") && v.length > 1 ? -1 : undefined).replace(/''/g, "'");
    } else {
      v = v.replace(/\s+#.*$/, '');
      if (v === '' || v === '~' || v === 'null') continue;
    }
    out[key] = v;
  }
  return out;
}

/** `s` as a YAML scalar the CLI reads back (double-quoted JSON when plain would be ambiguous). */
export function yamlScalar(s: string): string {
  return /^[A-Za-z0-9_./@+-][A-Za-z0-9 _./@+,()-]*$/.test(s) && !/\s$/.test(s) && !/^(true|false|null|yes|no|on|off|~|[-+]?[0-9.]+)$/i.test(s) ? s : JSON.stringify(s);
}

export class CopilotAdapter implements SessionAdapter {
  readonly tool = 'copilot' as const;
  private readonly env: NodeJS.ProcessEnv;

  constructor(private readonly opts: CopilotAdapterOptions = {}) {
    this.env = opts.env ?? process.env;
  }

  /** `$COPILOT_HOME` (the CLI's `.copilot` itself), else `~/.copilot`. */
  root(env: NodeJS.ProcessEnv = this.env): string {
    return resolve(env.COPILOT_HOME || join(env.HOME || homedir(), '.copilot'));
  }

  /** `<root>/session-state`. */
  stateDir(): string {
    return join(this.root(), 'session-state');
  }

  /** Copilot files sessions by id, not by project: a directory is its own key (as for Codex). */
  projectKey(path: string): string {
    return path;
  }

  /** The sessions' event logs (not read). */
  files(): CopilotFile[] {
    const state = this.stateDir();
    let names: string[];
    try {
      names = readdirSync(state);
    } catch {
      return [];
    }
    const out: CopilotFile[] = [];
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const dir = join(state, name);
      const file = join(dir, 'events.jsonl');
      const st = statSync(file, { throwIfNoEntry: false });
      if (st?.isFile()) out.push({ file, dir, dirId: name, size: st.size, mtimeMs: st.mtimeMs });
    }
    return out;
  }

  /** workspace.yaml of a session directory, parsed ({} when missing or unreadable). */
  workspace(dir: string): Record<string, string> {
    try {
      return parseWorkspaceYaml(readFileSync(join(dir, 'workspace.yaml'), 'utf8'));
    } catch {
      return {};
    }
  }

  private readInfo(f: CopilotFile): SessionInfo | null {
    let meta: CopilotMeta;
    try {
      meta = readCopilotMeta(readFileSync(f.file, 'utf8'));
    } catch {
      return null; // vanished since the listing
    }
    return {
      tool: 'copilot',
      // The CLI resumes a session by its directory's name.
      id: f.dirId,
      file: f.file,
      projectKey: meta.startCwd ?? '-',
      cwd: meta.cwd,
      title: oneLine(meta.title, TITLE_MAX) ?? oneLine(meta.firstPrompt, TITLE_MAX),
      firstPrompt: oneLine(meta.firstPrompt, TITLE_MAX),
      lastActivity: isoOr(meta.lastTimestamp, f.mtimeMs),
      messages: meta.messages,
      messagesExact: true,
      gitBranch: meta.gitBranch,
      bytes: f.size,
      mtimeMs: f.mtimeMs,
    };
  }

  /** Metadata of these logs: from the cache when fresh, else read (and cached); title and directories from workspace.yaml. */
  infos(files: readonly CopilotFile[], cache: MetaCache): SessionInfo[] {
    const out: SessionInfo[] = [];
    for (const f of files) {
      let info = cache.get(f.file, f.size, f.mtimeMs);
      if (info === undefined) {
        info = this.readInfo(f);
        cache.set(f.file, f.size, f.mtimeMs, info);
      }
      if (!info) continue;
      out.push(withWorkspace(info, this.workspace(f.dir)));
    }
    return out;
  }

  private cache(): MetaCache {
    const file = this.opts.cacheFile === undefined ? join(roamPaths(this.env).state, 'sessions-cache-copilot.json') : this.opts.cacheFile;
    return MetaCache.open(this.env, file);
  }

  async list(opts: ListOptions = {}): Promise<SessionInfo[]> {
    const cache = this.cache();
    const files = this.files();
    let infos = this.infos(files, cache);
    if (cache.size > files.length) cache.prune(this.stateDir(), new Set(files.map((f) => f.file)));
    cache.save();
    if (opts.project !== undefined) {
      const project = opts.project;
      infos = ofProject(infos, project, this.env);
    }
    infos = newestFirst(infos);
    return opts.limit !== undefined ? infos.slice(0, opts.limit) : infos;
  }

  async find(id: string): Promise<SessionInfo | null> {
    if (!id || id.includes('/') || id.startsWith('.')) return null;
    const dir = join(this.stateDir(), id);
    const file = join(dir, 'events.jsonl');
    const st = statSync(file, { throwIfNoEntry: false });
    if (!st?.isFile()) return null;
    const cache = this.cache();
    const [info] = this.infos([{ file, dir, dirId: id, size: st.size, mtimeMs: st.mtimeMs }], cache);
    cache.save();
    return info ?? null;
  }

  async search(text: string, opts: SearchOptions = {}): Promise<SearchHit[]> {
    if (!text) throw new RoamError(ErrorCodes.USAGE, 'nothing to search for');
    const needle = text.toLowerCase();
    const limit = opts.limit ?? Infinity;
    const cache = this.cache();
    let files = this.files().sort((a, b) => b.mtimeMs - a.mtimeMs);
    if (opts.project !== undefined) {
      const project = opts.project;
      const keep = new Set(ofProject(this.infos(files, cache), project, this.env).map((s) => s.file));
      files = files.filter((f) => keep.has(f.file));
    }
    const check = (o: Record<string, unknown>): { role: SearchHit['role']; snippet: string } | null => {
      const data = o.data as Record<string, unknown> | undefined;
      if (!data || typeof data.content !== 'string' || typeof o.agentId === 'string' || typeof data.parentToolCallId === 'string') return null;
      const role = o.type === 'user.message' ? 'user' : o.type === 'assistant.message' ? 'assistant' : null;
      if (!role || !data.content.toLowerCase().includes(needle)) return null;
      return { role, snippet: snippet(data.content, needle) };
    };
    const re = new Needle(text);
    let found = 0;
    const buffers: ScanBuffer[] = [];
    const perFile = await pool(files, opts.concurrency ?? 8, async (f) => {
      const b = buffers.pop() ?? scanBuffer();
      try {
        const m = await scanFile(f.file, f.size, re, check, limit, b);
        found += m.length;
        return m;
      } catch {
        return [];
      } finally {
        buffers.push(b);
      }
    }, () => found >= limit);
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

  async show(id: string): Promise<TranscriptEntry[]> {
    const info = await this.find(id);
    if (!info) throw new RoamError(ErrorCodes.SESSION_NOT_FOUND, `no Copilot CLI session ${id}`, { id });
    return copilotTranscript(readFileSync(info.file, 'utf8'));
  }

  /** `copilot --resume <id> [-C <cwd>]`: the CLI keeps the recorded cwd where it exists here, unless -C names this one (docs/COPILOT.md). */
  resumeCommand(id: string, opts: { cwd?: string } = {}): ToolCommand {
    return withCwd(['copilot', '--resume', id, ...(opts.cwd ? ['-C', opts.cwd] : [])], opts.cwd);
  }

  /**
   * Copilot CLI 1.0.102 forks only inside a session (`/fork`, alias `/branch`); it has no option to
   * fork from the command line (`copilot --help`).
   */
  forkCommand(id: string, _opts: { cwd?: string } = {}): ToolCommand {
    throw new RoamError(ErrorCodes.USAGE, `copilot cannot fork a session from the command line: run \`copilot --resume ${id}\` and type /fork`, { tool: 'copilot', id });
  }

  /** `copilot --name <name>` ("Set a name for the new session"). */
  newCommand(name: string, opts: { cwd?: string } = {}): ToolCommand {
    return withCwd(['copilot', '--name', name], opts.cwd);
  }
}

/** A session's info with what workspace.yaml says: a user-given name (or the CLI's own) as the title, its cwd. */
function withWorkspace(info: SessionInfo, ws: Record<string, string>): SessionInfo {
  let title = info.title;
  const name = ws.name?.trim() ? ws.name : null;
  const summary = ws.summary?.trim() ? ws.summary : null;
  // A name the user gave wins over everything; a title from the events over the CLI's own name.
  if (name && ws.user_named === 'true') title = oneLine(name, TITLE_MAX);
  else if (title === info.firstPrompt) title = oneLine(name ?? summary, TITLE_MAX) ?? title;
  const projectKey = info.projectKey === '-' && ws.cwd ? ws.cwd : info.projectKey;
  const cwd = info.cwd ?? ws.cwd ?? null;
  return title === info.title && projectKey === info.projectKey && cwd === info.cwd ? info : { ...info, title, projectKey, cwd };
}

/** Whether a session is of the project in `dir` (a real path): it started there or was last run there. */

/** Whether `s` is shaped like the ids the CLI gives its sessions. */
export function isCopilotId(s: string): boolean {
  return UUID.test(s);
}
