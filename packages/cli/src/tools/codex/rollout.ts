/**
 * Codex CLI's rollout files, read (docs/CODEX.md): the file name, the metadata `roam list` shows,
 * the conversation, and the history a fork inherits. The adapter (adapter.ts) finds the files.
 *
 * Lines are `{timestamp, type, payload}`: `session_meta` first (id, cwd, git, cli_version, …), then
 * `turn_context`, `response_item` (message, reasoning, function_call, function_call_output,
 * custom_tool_call, …), `event_msg` (user_message, agent_message, token_count, …), `compacted`.
 * The conversation is the `response_item` messages and calls in file order (what a resume sends
 * back to the model); `event_msg` copies of the messages are used only for a rollout that has no
 * message items.
 */
import { readFileSync } from 'node:fs';
import * as zlib from 'node:zlib';
import { jsonObject } from '../../sessions/lines.js';
import { oneLine } from '../../sessions/paths.js';
import type { ToolResult, ToolUse, TranscriptEntry } from '../../sessions/types.js';

/** `rollout-2025-11-01T11-34-37-97b66f6c-a160-40e0-bd0f-1fdcbbb9498b.jsonl` (or `.jsonl.zst`). */
export const ROLLOUT_NAME = /^rollout-(.+)-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl(\.zst)?$/i;

/** Files up to this size are parsed whole (messages counted exactly); larger ones in a head and a tail window. */
export const CODEX_EXACT_LIMIT = 8 * 1024 * 1024;
const WINDOW = 256 * 1024;
export const TITLE_MAX = 200;

export type ZstdZlib = { zstdDecompressSync?: (b: Buffer) => Buffer };

/** Whether this Node.js can decompress zstd (zlib.zstdDecompressSync: Node 22.15+/23.8+). */
export function hasZstd(): boolean {
  return typeof (zlib as unknown as ZstdZlib).zstdDecompressSync === 'function';
}

export const ZSTD_TITLE = '(compressed with zstd: this Node.js cannot read it; Node 22.15 or newer can)';

/** Text of a message item's content: its input_text / output_text / text parts, and `image()` where an image was. */
export function contentText(content: unknown, image: () => string = () => '[image]'): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const parts: string[] = [];
  for (const c of content as Array<{ type?: unknown; text?: unknown }>) {
    if (!c || typeof c !== 'object') continue;
    if (typeof c.text === 'string' && (c.type === 'input_text' || c.type === 'output_text' || c.type === 'text')) parts.push(c.text);
    else if (c.type === 'input_image') parts.push(image());
  }
  return parts.join('\n');
}

/** A user message Codex adds itself (environment, instructions, turn notices), not typed by the user. */
export function isContextMessage(text: string): boolean {
  const t = text.trimStart();
  return /^<(environment_context|user_instructions|permissions instructions|user_shell_command|turn_aborted|subagent_notification|collaboration_mode|skill|apps_instructions)\b/.test(t) || t.startsWith('# AGENTS.md instructions');
}

export type Line = { timestamp?: unknown; type?: unknown; payload?: Record<string, unknown> };

/** A rollout line as an object, or null (blank, cut short, not an object). */
export function parse(line: string): Line | null {
  return jsonObject(line) as Line | null;
}

/** A message item as (role, text), or null. */
export function messageOf(o: Line): { role: 'user' | 'assistant' | 'developer' | 'system'; text: string } | null {
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
  return { toolUseId, ...toolOutput(p.output, (items) => contentText(items)) };
}

/**
 * A tool call's output as text, and whether it failed: `{content, success}`, content items (made
 * text by `itemsText`), text, or Codex 0.3x's shell JSON `{output, metadata: {exit_code}}`.
 */
export function toolOutput(out: unknown, itemsText: (items: unknown[]) => string): { text: string; isError: boolean } {
  let isError = false;
  if (out && typeof out === 'object' && !Array.isArray(out)) {
    const o = out as { content?: unknown; success?: unknown };
    isError = o.success === false;
    out = o.content;
  }
  if (Array.isArray(out)) out = itemsText(out);
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
  return { text, isError };
}

/** The lines of `text` that `check` accepts (a decompressed rollout; no pre-filter). */
export function scanText<T>(text: string, check: (o: Record<string, unknown>) => T | null, max: number): Array<{ line: number; value: T }> {
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
export function windows(file: string, size: number): string {
  const buf = readFileSync(file).subarray(0, size); // files this large are rare; read once
  let headEnd = buf.lastIndexOf(0x0a, WINDOW);
  // session_meta can be long (it holds the instructions): take the head up to its first complete line at least.
  if (headEnd < 0) headEnd = buf.indexOf(0x0a);
  const tailStart = buf.indexOf(0x0a, Math.max(headEnd + 1, size - WINDOW));
  const head = buf.toString('utf8', 0, Math.max(0, headEnd));
  const tail = tailStart < 0 ? '' : buf.toString('utf8', tailStart + 1);
  return `${head}\n${tail}`;
}

