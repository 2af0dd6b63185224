/**
 * Qwen Code's session files, read as the CLI reads them (docs/tools/qwen.md; measured with
 * @qwen-code/qwen-code 0.15.10, its SessionService in the bundled cli.js).
 *
 * `projects/<cwd with every non-alphanumeric character as "-">/chats/<session id>.jsonl` holds
 * records, one per line, chained by `parentUuid`:
 *   {uuid, parentUuid, sessionId, timestamp, type: "user", cwd, version, message: {role: "user", parts}}
 *   {…, type: "assistant", model, message: {role: "model", parts: [{text} | {functionCall: {id, name, args}}]}}
 *   {…, type: "tool_result", message: {role: "user", parts: [{functionResponse: {id, name, response}}]}, toolCallResult}
 *   {…, type: "system", subtype: "ui_telemetry" | "attribution_snapshot" | "custom_title" | "chat_compression", systemPayload}
 * The CLI replays the chain from the last record back to its root (records sharing a uuid are
 * merged, their parts concatenated), and from the last `chat_compression` on, its compressed
 * history first. It resumes a file only under the current directory's key and only when the
 * first record's `cwd` is the current directory.
 */
import type { ToolResult, ToolUse, TranscriptEntry } from '../../sessions/types.js';

/** `<session id>.jsonl` (the CLI's SESSION_FILE_PATTERN). */
export const QWEN_SESSION_NAME = /^([0-9a-fA-F-]{36})\.jsonl$/;

type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/** A content as the Gemini API (and Qwen Code's records) hold it. */
export interface QwenContent {
  readonly role: string;
  readonly parts: readonly Obj[];
}

/** One message of the replayed chain (records of one uuid merged). */
export interface QwenRecord {
  readonly uuid: string;
  readonly type: string;
  readonly subtype: string | null;
  readonly timestamp: string | null;
  readonly message: QwenContent | null;
  readonly model: string | null;
  readonly payload: Obj | null;
  /** 1-based line of its first record. */
  readonly line: number;
}

export interface QwenSession {
  readonly sessionId: string;
  /** The first record's cwd: the directory the CLI resumes it from. */
  readonly cwd: string | null;
  readonly startTime: string | null;
  readonly lastTimestamp: string | null;
  /** The last `custom_title`. */
  readonly title: string | null;
  /** The chain, root first. */
  readonly records: QwenRecord[];
}

function contentOf(v: unknown): QwenContent | null {
  if (!isObj(v) || typeof v.role !== 'string') return null;
  return { role: v.role, parts: Array.isArray(v.parts) ? v.parts.filter(isObj) : [] };
}

interface Raw {
  readonly o: Obj;
  readonly line: number;
}

/** A session file's text parsed as the CLI replays it, or null when it holds no record with a session id. */
export function parseQwenSession(text: string): QwenSession | null {
  const byUuid = new Map<string, Raw[]>();
  let lastUuid: string | null = null;
  let first: Obj | null = null;
  let title: string | null = null;
  let lastTimestamp: string | null = null;
  let n = 0;
  for (const line of text.split('\n')) {
    n++;
    if (!line.trim()) continue;
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      continue; // the CLI skips a line it cannot parse (parseLineTolerant)
    }
    if (!isObj(o) || typeof o.uuid !== 'string' || typeof o.sessionId !== 'string') continue;
    first ??= o;
    const seen = byUuid.get(o.uuid);
    if (seen) seen.push({ o, line: n });
    else byUuid.set(o.uuid, [{ o, line: n }]);
    lastUuid = o.uuid;
    if (typeof o.timestamp === 'string') lastTimestamp = o.timestamp;
    if (o.type === 'system' && o.subtype === 'custom_title' && isObj(o.systemPayload) && typeof o.systemPayload.customTitle === 'string') title = o.systemPayload.customTitle;
    else if (o.type === 'system' && o.subtype === 'custom_title' && typeof o.customTitle === 'string') title = o.customTitle;
  }
  if (!first) return null;
  const chain: string[] = [];
  const visited = new Set<string>();
  for (let u: string | null = lastUuid; u !== null && !visited.has(u); ) {
    visited.add(u);
    chain.push(u);
    const rs = byUuid.get(u);
    if (!rs) break;
    u = str(rs[0]!.o.parentUuid);
  }
  chain.reverse();
  const records: QwenRecord[] = [];
  for (const u of chain) {
    const rs = byUuid.get(u);
    if (rs) records.push(merge(u, rs));
  }
  return { sessionId: first.sessionId as string, cwd: str(first.cwd), startTime: str(first.timestamp), lastTimestamp, title, records };
}

/** Records of one uuid, merged as the CLI's aggregateRecords does. */
function merge(uuid: string, rs: readonly Raw[]): QwenRecord {
  const base = rs[0]!.o;
  let message = contentOf(base.message);
  let model = str(base.model);
  let timestamp = str(base.timestamp);
  for (const { o } of rs.slice(1)) {
    const m = contentOf(o.message);
    if (m) message = message ? { role: message.role, parts: [...message.parts, ...m.parts] } : m;
    model ??= str(o.model);
    const t = str(o.timestamp);
    if (t && (!timestamp || t > timestamp)) timestamp = t;
  }
  return { uuid, type: str(base.type) ?? '?', subtype: str(base.subtype), timestamp, message, model, payload: isObj(base.systemPayload) ? base.systemPayload : null, line: rs[0]!.line };
}

/** A timestamped content of the history the CLI sends on resume. */
export interface QwenTurn {
  readonly content: QwenContent;
  readonly timestamp: string | null;
  readonly model: string | null;
}

/**
 * The history the CLI sends on resume (its buildApiHistoryFromConversation): the messages of the
 * chain, or, after the last `chat_compression`, its compressed history then the later messages.
 */
export function qwenHistory(s: QwenSession): QwenTurn[] {
  let from = 0;
  let base: QwenTurn[] = [];
  s.records.forEach((r, i) => {
    if (r.type === 'system' && r.subtype === 'chat_compression' && Array.isArray(r.payload?.compressedHistory)) {
      from = i + 1;
      base = (r.payload.compressedHistory as unknown[]).map(contentOf).filter((c): c is QwenContent => c !== null).map((content) => ({ content, timestamp: r.timestamp, model: null }));
    }
  });
  const rest = s.records.slice(from).filter((r) => r.type !== 'system' && r.message !== null).map((r) => ({ content: r.message!, timestamp: r.timestamp, model: r.model }));
  return [...base, ...rest];
}

/** The text of a content's parts (not thoughts). */
export function partsText(parts: readonly Obj[]): string {
  return parts.filter((p) => typeof p.text === 'string' && p.thought !== true).map((p) => p.text as string).join('');
}

/** A user message the model receives as typed (not only function responses). */
export function isPrompt(r: QwenRecord): boolean {
  return r.type === 'user' && r.message !== null && partsText(r.message.parts).trim() !== '';
}

/** The text of a functionResponse's response (`output`, else `error`, else its JSON). */
export function responseText(response: unknown): string {
  if (isObj(response)) {
    if (typeof response.output === 'string') return response.output;
    if (typeof response.error === 'string') return response.error;
  }
  return typeof response === 'string' ? response : JSON.stringify(response ?? null);
}

/** The conversation as `roam show` prints it: user prompts, model turns (texts, calls), tool results. */
export function qwenTranscript(s: QwenSession): TranscriptEntry[] {
  const out: TranscriptEntry[] = [];
  for (const r of s.records) {
    if (!r.message || (r.type !== 'user' && r.type !== 'assistant' && r.type !== 'tool_result')) continue;
    const toolUses: ToolUse[] = [];
    const toolResults: ToolResult[] = [];
    for (const p of r.message.parts) {
      if (isObj(p.functionCall)) toolUses.push({ id: str(p.functionCall.id), name: str(p.functionCall.name) ?? '?', input: p.functionCall.args ?? null });
      if (isObj(p.functionResponse)) {
        const resp = p.functionResponse.response;
        toolResults.push({ toolUseId: str(p.functionResponse.id), text: responseText(resp), isError: isObj(resp) && typeof resp.error === 'string' && typeof resp.output !== 'string' });
      }
    }
    out.push({ role: r.type === 'assistant' ? 'assistant' : 'user', uuid: r.uuid, timestamp: r.timestamp, text: partsText(r.message.parts), toolUses, toolResults });
  }
  return out;
}

/** The CLI's key of a project directory: every character but ASCII letters and digits as `-` (its sanitizeCwd). */
export function qwenProjectKey(path: string): string {
  return path.replace(/[^a-zA-Z0-9]/g, '-');
}
