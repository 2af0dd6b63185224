/**
 * Gemini CLI's session files, read as the CLI reads them (docs/GEMINI.md; measured with
 * @google/gemini-cli 0.61.0). The adapter (adapter.ts) finds them; projects.ts files a directory
 * under a project slug.
 *
 * A `.jsonl` holds records, one per line, read as the CLI's loadConversationRecord reads them:
 *   {sessionId, projectHash, startTime, lastUpdated, kind, …}  metadata (merged; a resume appends another)
 *   {id, timestamp, type: user|gemini|info|error|warning, content, toolCalls?, thoughts?, model?}
 *                                       a message; the same id again replaces it in place
 *   {"$set": {…}}                       metadata update; `$set.messages` replaces the whole list
 *   {"$rewindTo": id}                   drops that message and every later one (all if it is unknown)
 */
import { createHash } from 'node:crypto';
import type { ToolResult, ToolUse, TranscriptEntry } from '../../sessions/types.js';

/** `session-2026-11-21T12-47-944f3c7b.jsonl`, `session-1763729000000-944f3c7b.jsonl`, legacy `.json`. */
export const GEMINI_SESSION_NAME = /^session-.+\.jsonl?$/;

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

export function isObj(v: unknown): v is Obj {
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
export function isContextText(text: string): boolean {
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

/** The CLI's slug of a directory name (ProjectRegistry.slugify). */
export function slugify(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '') || 'project';
}

/** An old version's project directory name: sha256 of the absolute path. */
export function projectHash(path: string): string {
  return createHash('sha256').update(path).digest('hex');
}

