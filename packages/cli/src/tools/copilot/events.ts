/**
 * Copilot CLI's session files, read (docs/COPILOT.md): the events of `events.jsonl`, the metadata
 * `roam list` shows, the conversation, and `workspace.yaml`. The adapter (adapter.ts) finds them.
 */
import type { TranscriptEntry } from '../../sessions/types.js';

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

