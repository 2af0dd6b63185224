/**
 * Codex CLI's session adapter (docs/CODEX.md).
 *
 * Root: `$CODEX_HOME`, else `~/.codex`. A session is a rollout file,
 * `sessions/YYYY/MM/DD/rollout-<local time>-<uuid>.jsonl` (archived ones under `archived_sessions/`),
 * or the same compressed, `.jsonl.zst`: listed always, read only when this Node.js has zstd in zlib
 * (22.15+; Node 20 does not, and then the session is listed with a title that says so).
 *
 * Lines are `{timestamp, type, payload}`: `session_meta` first (id, cwd, git, cli_version, …), then
 * `turn_context`, `response_item` (message, reasoning, function_call, function_call_output,
 * custom_tool_call, …), `event_msg` (user_message, agent_message, token_count, …), `compacted`.
 * The conversation is the `response_item` messages and calls in file order (what a resume sends
 * back to the model); `event_msg` copies of the messages are used only for a rollout that has no
 * message items. Titles: the thread's name (`/rename`, kept in `session_index.jsonl`), else the
 * first prompt.
 *
 * Codex has no project key: it files sessions by date and filters its picker by the recorded cwd,
 * so this adapter's `projectKey(path)` is the path, a session's projectKey is the directory it
 * started in (session_meta's cwd), its cwd the last one recorded (turn_context), and
 * `list({project})` matches either.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import * as zlib from 'node:zlib';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import { roamPaths } from '../machine/paths.js';
import { MetaCache } from './cache.js';
import { oneLine } from './claude-meta.js';
import { newestFirst } from './claude.js';
import { isoOr, ofProject, withCwd } from './paths.js';
import { Needle, pool, scanBuffer, scanFile, snippet, type ScanBuffer } from './scan.js';
import type { ListOptions, SearchHit, SearchOptions, SessionAdapter, SessionInfo, ToolCommand, ToolResult, ToolUse, TranscriptEntry } from './types.js';

/** `rollout-2025-11-01T11-34-37-97b66f6c-a160-40e0-bd0f-1fdcbbb9498b.jsonl` (or `.jsonl.zst`). */
export const ROLLOUT_NAME = /^rollout-(.+)-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl(\.zst)?$/i;

/** Files up to this size are parsed whole (messages counted exactly); larger ones in a head and a tail window. */
export const CODEX_EXACT_LIMIT = 8 * 1024 * 1024;
const WINDOW = 256 * 1024;
const TITLE_MAX = 200;

type ZstdZlib = { zstdDecompressSync?: (b: Buffer) => Buffer };

/** Whether this Node.js can decompress zstd (zlib.zstdDecompressSync: Node 22.15+/23.8+). */
export function hasZstd(): boolean {
  return typeof (zlib as unknown as ZstdZlib).zstdDecompressSync === 'function';
}

export const ZSTD_TITLE = '(compressed with zstd: this Node.js cannot read it; Node 22.15 or newer can)';

export interface CodexAdapterOptions {
  /** HOME / CODEX_HOME / ROAM_HOME come from here (default: process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** The metadata cache file; null for none (default: `<roam state>/sessions-cache-codex.json`). */
  readonly cacheFile?: string | null;
  /** Pretend zstd is (un)available (tests). */
  readonly zstd?: boolean;
}

export interface RolloutFile {
  readonly file: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly compressed: boolean;
  /** The uuid in the file's name. */
  readonly nameId: string;
}

/** Text of a message item's content: its input_text / output_text / text parts. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const parts: string[] = [];
  for (const c of content as Array<{ type?: unknown; text?: unknown }>) {
    if (!c || typeof c !== 'object') continue;
    if (typeof c.text === 'string' && (c.type === 'input_text' || c.type === 'output_text' || c.type === 'text')) parts.push(c.text);
    else if (c.type === 'input_image') parts.push('[image]');
  }
  return parts.join('\n');
}

/** A user message Codex adds itself (environment, instructions, turn notices), not typed by the user. */
export function isContextMessage(text: string): boolean {
  const t = text.trimStart();
  return /^<(environment_context|user_instructions|permissions instructions|user_shell_command|turn_aborted|subagent_notification|collaboration_mode|skill|apps_instructions)\b/.test(t) || t.startsWith('# AGENTS.md instructions');
}

type Line = { timestamp?: unknown; type?: unknown; payload?: Record<string, unknown> };

function parse(line: string): Line | null {
  if (!line) return null;
  try {
    const o = JSON.parse(line) as unknown;
    return o && typeof o === 'object' && !Array.isArray(o) ? (o as Line) : null;
  } catch {
    return null;
  }
}

/** A message item as (role, text), or null. */
function messageOf(o: Line): { role: 'user' | 'assistant' | 'developer' | 'system'; text: string } | null {
  const p = o.payload;
  if (o.type !== 'response_item' || !p || p.type !== 'message') return null;
  const role = p.role;
  if (role !== 'user' && role !== 'assistant' && role !== 'developer' && role !== 'system') return null;
  return { role, text: contentText(p.content) };
}

export interface CodexMeta {
  readonly id: string;
  /** The last recorded working directory (session_meta, then each turn_context). */
  readonly cwd: string | null;
  /** The directory the session started in (its session_meta's cwd). */
  readonly startCwd: string | null;
  readonly firstPrompt: string | null;
  readonly lastTimestamp: string | null;
  readonly messages: number;
  readonly messagesExact: boolean;
  readonly gitBranch: string | null;
}

/** The metadata of one rollout's text (`complete`: the whole file; else its head and tail windows joined). */
export function readCodexMeta(text: string, nameId: string, complete: boolean, size = text.length): CodexMeta | null {
  let id: string | null = null;
  let cwd: string | null = null;
  let startCwd: string | null = null;
  let branch: string | null = null;
  let first: string | null = null;
  let firstEvent: string | null = null;
  let last: string | null = null;
  let messages = 0;
  let eventMessages = 0;
  let any = false;
  for (const line of text.split('\n')) {
    const o = parse(line);
    if (!o) continue;
    if (typeof o.timestamp === 'string') last = o.timestamp;
    const p = o.payload;
    if (o.type === 'session_meta' && p) {
      any = true;
      if (id === null && typeof p.id === 'string') id = p.id;
      if (typeof p.cwd === 'string') {
        cwd = p.cwd;
        startCwd ??= p.cwd;
      }
      const git = p.git as { branch?: unknown } | undefined;
      if (git && typeof git.branch === 'string') branch = git.branch;
      continue;
    }
    if (o.type === 'turn_context' && p && typeof p.cwd === 'string') cwd = p.cwd;
    const m = messageOf(o);
    if (m) {
      any = true;
      if (m.role === 'assistant' || (m.role === 'user' && !isContextMessage(m.text))) {
        messages++;
        if (m.role === 'user' && first === null && m.text.trim()) first = m.text;
      }
      continue;
    }
    if (o.type === 'event_msg' && p && (p.type === 'user_message' || p.type === 'agent_message')) {
      any = true;
      eventMessages++;
      if (p.type === 'user_message' && firstEvent === null && typeof p.message === 'string' && p.message.trim()) firstEvent = p.message;
    }
  }
  if (!any && id === null) return null;
  // Old or partial rollouts may hold only the event copies of the messages.
  const count = messages || eventMessages;
  return {
    id: id ?? nameId,
    cwd,
    startCwd,
    firstPrompt: oneLine(first ?? firstEvent, TITLE_MAX),
    lastTimestamp: last,
    messages: complete ? count : Math.round((count * size) / Math.max(1, text.length)),
    messagesExact: complete,
    gitBranch: branch,
  };
}

export class CodexAdapter implements SessionAdapter {
  readonly tool = 'codex' as const;
  private readonly env: NodeJS.ProcessEnv;

  constructor(private readonly opts: CodexAdapterOptions = {}) {
    this.env = opts.env ?? process.env;
  }

  root(env: NodeJS.ProcessEnv = this.env): string {
    return resolve(env.CODEX_HOME || join(env.HOME || homedir(), '.codex'));
  }

  /** Codex has no project key: a session belongs to the directory it recorded as its cwd. */
  projectKey(path: string): string {
    return path;
  }

  private zstd(): boolean {
    return this.opts.zstd ?? hasZstd();
  }

  /** The rollout files under `sessions/` and `archived_sessions/` (not read). */
  files(): RolloutFile[] {
    const out: RolloutFile[] = [];
    const root = this.root();
    for (const top of ['sessions', 'archived_sessions']) collect(join(root, top), 0, out);
    return out;
  }

  /** The bytes of a rollout, decompressed. Throws ROAM_SESSION_UNREADABLE for `.zst` without zstd. */
  readRollout(file: string): Buffer {
    const raw = readFileSync(file);
    if (!file.endsWith('.zst')) return raw;
    const z = (zlib as unknown as ZstdZlib).zstdDecompressSync;
    if (!this.zstd() || !z) {
      throw new RoamError(ErrorCodes.SESSION_UNREADABLE, `${file} is compressed with zstd, which this Node.js (${process.version}) cannot read; Node 22.15 or newer can (or: zstd -d it next to the original)`, { file });
    }
    return z(raw);
  }

  /**
   * For `roam share`: the transcript's bytes. A fork written by Codex 0.16x keeps its history in the
   * rollout it was forked from (`history_base`), which a bundle does not carry: refused.
   */
  readTranscript(session: SessionInfo): Buffer {
    const bytes = this.readRollout(session.file);
    const base = historyBase(bytes.toString('utf8', 0, Math.min(bytes.length, 1024 * 1024)));
    if (base) {
      throw new RoamError(ErrorCodes.USAGE, `Codex session ${session.id} is a fork of ${base.threadId} and keeps the history before the fork in that session's rollout, which a bundle does not carry; share ${base.threadId} instead`, { id: session.id, parent: base.threadId });
    }
    return bytes;
  }

  /** Thread names (`/rename`) by id: the last entry of each id in `session_index.jsonl`. */
  private names(): Map<string, string> {
    const names = new Map<string, string>();
    let text: string;
    try {
      text = readFileSync(join(this.root(), 'session_index.jsonl'), 'utf8');
    } catch {
      return names;
    }
    for (const line of text.split('\n')) {
      const o = parse(line) as { id?: unknown; thread_name?: unknown } | null;
      if (o && typeof o.id === 'string' && typeof o.thread_name === 'string') {
        if (o.thread_name.trim()) names.set(o.id, o.thread_name);
        else names.delete(o.id);
      }
    }
    return names;
  }

  private readInfo(f: RolloutFile): SessionInfo | null {
    let meta: CodexMeta | null;
    if (f.compressed && !this.zstd()) {
      meta = { id: f.nameId, cwd: null, startCwd: null, firstPrompt: null, lastTimestamp: null, messages: 0, messagesExact: false, gitBranch: null };
    } else {
      try {
        if (f.compressed || f.size <= CODEX_EXACT_LIMIT) meta = readCodexMeta(this.readRollout(f.file).toString('utf8'), f.nameId, true);
        else meta = readCodexMeta(windows(f.file, f.size), f.nameId, false, f.size);
      } catch {
        return null; // vanished or unreadable since the listing
      }
    }
    if (!meta) return null;
    return {
      tool: 'codex',
      id: meta.id,
      file: f.file,
      projectKey: meta.startCwd ?? meta.cwd ?? '-',
      cwd: meta.cwd,
      title: f.compressed && !this.zstd() ? ZSTD_TITLE : meta.firstPrompt,
      firstPrompt: meta.firstPrompt,
      lastActivity: isoOr(meta.lastTimestamp, f.mtimeMs),
      messages: meta.messages,
      messagesExact: meta.messagesExact,
      gitBranch: meta.gitBranch,
      bytes: f.size,
      mtimeMs: f.mtimeMs,
    };
  }

  /** Metadata of these files: from the cache when fresh, else read (and cached); titles from the thread names. */
  infos(files: readonly RolloutFile[], cache: MetaCache, names = this.names()): SessionInfo[] {
    const out: SessionInfo[] = [];
    for (const f of files) {
      let info = cache.get(f.file, f.size, f.mtimeMs);
      if (info === undefined) {
        info = this.readInfo(f);
        cache.set(f.file, f.size, f.mtimeMs, info);
      }
      if (!info) continue;
      const name = names.get(info.id);
      out.push(name ? { ...info, title: oneLine(name, TITLE_MAX) } : info);
    }
    return out;
  }

  private cache(): MetaCache {
    const file = this.opts.cacheFile === undefined ? join(roamPaths(this.env).state, 'sessions-cache-codex.json') : this.opts.cacheFile;
    return MetaCache.open(this.env, file);
  }

  async list(opts: ListOptions = {}): Promise<SessionInfo[]> {
    const cache = this.cache();
    const files = this.files();
    let infos = this.infos(files, cache);
    if (cache.size > files.length) cache.prune(this.root(), new Set(files.map((f) => f.file)));
    cache.save();
    if (opts.project !== undefined) {
      const project = opts.project;
      infos = ofProject(infos, project, this.env);
    }
    infos = newestFirst(infos);
    return opts.limit !== undefined ? infos.slice(0, opts.limit) : infos;
  }

  async find(id: string): Promise<SessionInfo | null> {
    if (!id) return null;
    const cache = this.cache();
    const files = this.files();
    const lower = id.toLowerCase();
    // The id is nearly always the uuid in the file's name.
    const byName = this.infos(files.filter((f) => f.nameId.toLowerCase() === lower), cache).filter((s) => s.id === id);
    const found = byName.length ? byName : this.infos(files, cache).filter((s) => s.id === id);
    cache.save();
    return newestFirst(found)[0] ?? null;
  }

  async search(text: string, opts: SearchOptions = {}): Promise<SearchHit[]> {
    if (!text) throw new RoamError(ErrorCodes.USAGE, 'nothing to search for');
    const needle = text.toLowerCase();
    const limit = opts.limit ?? Infinity;
    const cache = this.cache();
    let files = this.files().filter((f) => !f.compressed || this.zstd()).sort((a, b) => b.mtimeMs - a.mtimeMs);
    if (opts.project !== undefined) {
      const project = opts.project;
      const keep = new Set(ofProject(this.infos(files, cache), project, this.env).map((s) => s.file));
      files = files.filter((f) => keep.has(f.file));
    }
    const check = (o: Record<string, unknown>): { role: SearchHit['role']; snippet: string } | null => {
      const m = messageOf(o as Line);
      if (!m || (m.role !== 'user' && m.role !== 'assistant') || (m.role === 'user' && isContextMessage(m.text))) return null;
      if (!m.text.toLowerCase().includes(needle)) return null;
      return { role: m.role, snippet: snippet(m.text, needle) };
    };
    const re = new Needle(text);
    let found = 0;
    const buffers: ScanBuffer[] = [];
    const perFile = await pool(files, opts.concurrency ?? 8, async (f) => {
      try {
        let m;
        if (f.compressed) {
          m = scanText(this.readRollout(f.file).toString('utf8'), check, limit);
        } else {
          const b = buffers.pop() ?? scanBuffer();
          try {
            m = await scanFile(f.file, f.size, re, check, limit, b);
          } finally {
            buffers.push(b);
          }
        }
        found += m.length;
        return m;
      } catch {
        return [];
      }
    }, () => found >= limit);
    const hits: SearchHit[] = [];
    const names = this.names();
    files.forEach((f, i) => {
      const m = perFile[i];
      if (!m?.length) return;
      const [session] = this.infos([f], cache, names);
      if (session) for (const h of m) hits.push({ session, line: h.line, role: h.value.role, snippet: h.value.snippet });
    });
    cache.save();
    return hits.slice(0, limit);
  }

  async show(id: string): Promise<TranscriptEntry[]> {
    const info = await this.find(id);
    if (!info) throw new RoamError(ErrorCodes.SESSION_NOT_FOUND, `no Codex session ${id}`, { id });
    return this.withHistory(this.readRollout(info.file).toString('utf8'), 0);
  }

  /**
   * A rollout's conversation, preceded by the history it inherits: a fork made by Codex 0.16x
   * starts with `session_meta.history_base` = {thread_id, end_byte_offset}, the first bytes of the
   * rollout it was forked from (itself perhaps a fork), which Codex replays before the fork's own lines.
   */
  private async withHistory(text: string, depth: number): Promise<TranscriptEntry[]> {
    const own = codexTranscript(text);
    const base = historyBase(text);
    if (!base || depth >= 16) return own;
    const parent = await this.find(base.threadId);
    if (!parent) {
      return [{ role: 'user', uuid: null, timestamp: null, text: `[the history before this fork is in Codex session ${base.threadId}, which is not on this machine]`, toolUses: [], toolResults: [], meta: true }, ...own];
    }
    let bytes = this.readRollout(parent.file);
    if (base.endByteOffset !== null) bytes = bytes.subarray(0, base.endByteOffset);
    return [...(await this.withHistory(bytes.toString('utf8'), depth + 1)), ...own];
  }

  resumeCommand(id: string, opts: { cwd?: string } = {}): ToolCommand {
    return withCwd(['codex', 'resume', id], opts.cwd);
  }

  /** `codex fork <id>` (Codex CLI 0.169: "Fork a previous interactive session"). */
  forkCommand(id: string, opts: { cwd?: string } = {}): ToolCommand {
    return withCwd(['codex', 'fork', id], opts.cwd);
  }

  /**
   * Codex has no option to name a session when it starts (0.169: names are given inside, with
   * `/rename`), so a named new session cannot be started for it.
   */
  newCommand(name: string, _opts: { cwd?: string } = {}): ToolCommand {
    throw new RoamError(ErrorCodes.USAGE, `codex cannot name a new session from the command line: run \`codex\` and type /rename ${name}`, { tool: 'codex' });
  }
}

/** The session a fork's history comes from (`session_meta.history_base` of its first line), or null. */
export function historyBase(text: string): { threadId: string; endByteOffset: number | null } | null {
  const nl = text.indexOf('\n');
  const o = parse(nl < 0 ? text : text.slice(0, nl));
  const base = o?.type === 'session_meta' ? (o.payload?.history_base as { thread_id?: unknown; end_byte_offset?: unknown } | undefined) : undefined;
  if (!base || typeof base.thread_id !== 'string') return null;
  return { threadId: base.thread_id, endByteOffset: typeof base.end_byte_offset === 'number' ? base.end_byte_offset : null };
}

/** The conversation of a rollout's text, in file order (without the history a fork inherits). */
export function codexTranscript(text: string): TranscriptEntry[] {
  const entries: TranscriptEntry[] = [];
  const events: TranscriptEntry[] = [];
  let sawMessage = false;
  const ts = (o: Line) => (typeof o.timestamp === 'string' ? o.timestamp : null);
  for (const line of text.split('\n')) {
    const o = parse(line);
    if (!o) continue;
    const p = o.payload;
    const m = messageOf(o);
    if (m) {
      sawMessage = true;
      const meta = m.role === 'developer' || m.role === 'system' || (m.role === 'user' && isContextMessage(m.text));
      entries.push({ role: m.role === 'assistant' ? 'assistant' : 'user', uuid: null, timestamp: ts(o), text: m.text, toolUses: [], toolResults: [], ...(meta ? { meta: true } : {}) });
      continue;
    }
    if (!p) continue;
    if (o.type === 'response_item') {
      const use = toolUse(p);
      if (use) {
        entries.push({ role: 'assistant', uuid: null, timestamp: ts(o), text: '', toolUses: [use], toolResults: [] });
        continue;
      }
      const result = toolResult(p);
      if (result) entries.push({ role: 'user', uuid: null, timestamp: ts(o), text: '', toolUses: [], toolResults: [result] });
      continue;
    }
    if (o.type === 'compacted' && typeof p.message === 'string') {
      entries.push({ role: 'user', uuid: null, timestamp: ts(o), text: `[compacted] ${p.message}`, toolUses: [], toolResults: [], meta: true });
      continue;
    }
    if (o.type === 'event_msg' && (p.type === 'user_message' || p.type === 'agent_message') && typeof p.message === 'string') {
      events.push({ role: p.type === 'user_message' ? 'user' : 'assistant', uuid: null, timestamp: ts(o), text: p.message, toolUses: [], toolResults: [] });
    }
  }
  return sawMessage ? entries : [...events, ...entries];
}

function toolUse(p: Record<string, unknown>): ToolUse | null {
  const id = typeof p.call_id === 'string' ? p.call_id : typeof p.id === 'string' ? p.id : null;
  switch (p.type) {
    case 'function_call': {
      let input: unknown = p.arguments ?? null;
      if (typeof input === 'string') {
        try {
          input = JSON.parse(input);
        } catch {
          // not JSON: kept as the string
        }
      }
      return { id, name: typeof p.name === 'string' ? p.name : '?', input };
    }
    case 'custom_tool_call':
      return { id, name: typeof p.name === 'string' ? p.name : '?', input: p.input ?? null };
    case 'local_shell_call':
      return { id, name: 'local_shell', input: p.action ?? null };
    case 'web_search_call':
      return { id, name: 'web_search', input: p.action ?? null };
    default:
      return null;
  }
}

function toolResult(p: Record<string, unknown>): ToolResult | null {
  if (p.type !== 'function_call_output' && p.type !== 'custom_tool_call_output' && p.type !== 'local_shell_call_output') return null;
  const toolUseId = typeof p.call_id === 'string' ? p.call_id : null;
  let out: unknown = p.output;
  let isError = false;
  if (out && typeof out === 'object' && !Array.isArray(out)) {
    const o = out as { content?: unknown; success?: unknown };
    isError = o.success === false;
    out = o.content;
  }
  if (Array.isArray(out)) out = contentText(out);
  let text = typeof out === 'string' ? out : out === undefined || out === null ? '' : JSON.stringify(out);
  // Codex 0.3x wrote a shell call's output as JSON text: {"output": "...", "metadata": {"exit_code": n}}.
  if (text.startsWith('{"output"')) {
    try {
      const o = JSON.parse(text) as { output?: unknown; metadata?: { exit_code?: unknown } };
      if (typeof o.output === 'string') {
        text = o.output;
        if (typeof o.metadata?.exit_code === 'number' && o.metadata.exit_code !== 0) isError = true;
      }
    } catch {
      // as it is
    }
  }
  return { toolUseId, text, isError };
}

/** The lines of `text` that `check` accepts (a decompressed rollout; no pre-filter). */
function scanText<T>(text: string, check: (o: Record<string, unknown>) => T | null, max: number): Array<{ line: number; value: T }> {
  const out: Array<{ line: number; value: T }> = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length && out.length < max; i++) {
    const o = parse(lines[i]!);
    const v = o ? check(o as Record<string, unknown>) : null;
    if (v !== null) out.push({ line: i + 1, value: v });
  }
  return out;
}

/** The head and tail windows of a large file, as text: complete lines only (the cut ones dropped). */
function windows(file: string, size: number): string {
  const buf = readFileSync(file).subarray(0, size); // files this large are rare; read once
  let headEnd = buf.lastIndexOf(0x0a, WINDOW);
  // session_meta can be long (it holds the instructions): take the head up to its first complete line at least.
  if (headEnd < 0) headEnd = buf.indexOf(0x0a);
  const tailStart = buf.indexOf(0x0a, Math.max(headEnd + 1, size - WINDOW));
  const head = buf.toString('utf8', 0, Math.max(0, headEnd));
  const tail = tailStart < 0 ? '' : buf.toString('utf8', tailStart + 1);
  return `${head}\n${tail}`;
}

/** Rollout files under `dir` (YYYY/MM/DD folders, or flat), at most 4 levels deep. */
function collect(dir: string, depth: number, out: RolloutFile[]): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const p = join(dir, name);
    const m = ROLLOUT_NAME.exec(name);
    if (m) {
      const st = statSync(p, { throwIfNoEntry: false });
      if (st?.isFile()) out.push({ file: p, size: st.size, mtimeMs: st.mtimeMs, compressed: m[3] !== undefined, nameId: m[2]! });
    } else if (depth < 4 && !name.includes('.')) {
      const st = statSync(p, { throwIfNoEntry: false });
      if (st?.isDirectory()) collect(p, depth + 1, out);
    }
  }
}

/**
 * Whether a session is of the project in `dir` (a real path): it started there (its projectKey) or
 * was last run there (its cwd). A session resumed on another machine in another directory stays a
 * session of the project it started in, here.
 */
