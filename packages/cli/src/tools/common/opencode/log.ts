/**
 * The roam-owned log of one session of an OpenCode-family database: `<session id>.jsonl` in the
 * tool's log folder (family.ts logDir), the lines roamd replicates instead of the database.
 *
 *   {"roam":"opencode-log","v":1,"tool":"opencode","session":"ses_…","schema":"<migration id>"}
 *   {"table":"session","row":{<every column of the session row>}}
 *   {"table":"message","role":"user","row":{"id","session_id","time_created","time_updated","data":{…}}}
 *   {"table":"part","role":"user","row":{"id","message_id","session_id","time_created","time_updated","data":{…}}}
 *
 * The first line names the session and the schema version of the database it was derived from.
 * A row is appended again whenever its `time_updated` grows and its content changed (mirror.ts);
 * a reader takes, per table and id, the row with the greatest `time_updated` (the later line on a
 * tie). The `data` columns (JSON text in the database) are carried parsed, so that the lines are
 * searchable; `role` (the message's) is added to part lines for the same reason.
 */
import type { TranscriptEntry } from '../../../sessions/types.js';
import type { Row } from './db.js';

export const LOG_MAGIC = 'opencode-log';

/** The provider a converted session's messages name (convert.ts): none of the tool's. */
export const ROAM_PROVIDER = 'roam';

export interface LogHead {
  readonly tool: string;
  readonly session: string;
  readonly schema: string;
}

/** A session as its log holds it now: the latest version of each row. */
export interface LoggedSession {
  readonly head: LogHead | null;
  readonly session: Row | null;
  /** By time_created, then id. */
  readonly messages: Row[];
  /** By message, then id. */
  readonly parts: Row[];
  /** The session row of the log's first session line (the device where it began). */
  readonly firstSession: Row | null;
}

export function headLine(tool: string, session: string, schema: string): string {
  return JSON.stringify({ roam: LOG_MAGIC, v: 1, tool, session, schema });
}

/** A row as a log line (its JSON `data` column parsed). */
export function rowLine(table: 'session' | 'message' | 'part', row: Row, role?: string): string {
  const r: Row = { ...row };
  if (typeof r.data === 'string') {
    try {
      r.data = JSON.parse(r.data) as unknown;
    } catch {
      // kept as text
    }
  }
  return JSON.stringify(role === undefined ? { table, row: r } : { table, role, row: r });
}

const num = (v: unknown): number => (typeof v === 'number' ? v : 0);

/** Reads a log's text. */
export function parseLog(text: string): LoggedSession {
  let head: LogHead | null = null;
  let firstSession: Row | null = null;
  const latest = { session: new Map<string, Row>(), message: new Map<string, Row>(), part: new Map<string, Row>() };
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue; // a torn last line
    }
    if (o.roam === LOG_MAGIC) {
      head ??= { tool: String(o.tool), session: String(o.session), schema: String(o.schema) };
      continue;
    }
    const table = o.table;
    const row = o.row as Row | undefined;
    if ((table !== 'session' && table !== 'message' && table !== 'part') || !row || typeof row.id !== 'string') continue;
    if (table === 'session') firstSession ??= row;
    const m = latest[table];
    const prev = m.get(row.id);
    if (!prev || num(row.time_updated) >= num(prev.time_updated)) m.set(row.id, row);
  }
  const messages = [...latest.message.values()].sort((a, b) => num(a.time_created) - num(b.time_created) || String(a.id).localeCompare(String(b.id)));
  const parts = [...latest.part.values()].sort((a, b) => String(a.message_id).localeCompare(String(b.message_id)) || String(a.id).localeCompare(String(b.id)));
  const session = head ? (latest.session.get(head.session) ?? null) : ([...latest.session.values()][0] ?? null);
  return { head, session, messages, parts, firstSession };
}

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** The parts of each message, in order. */
export function partsByMessage(s: LoggedSession): Map<string, Row[]> {
  const out = new Map<string, Row[]>();
  for (const p of s.parts) {
    const k = String(p.message_id);
    let list = out.get(k);
    if (!list) out.set(k, (list = []));
    list.push(p);
  }
  return out;
}

/** A message's visible text: its text parts (not synthetic ones), joined by blank lines. */
export function messageText(parts: readonly Row[]): string {
  return parts
    .map((p) => obj(p.data))
    .filter((d) => d.type === 'text' && typeof d.text === 'string' && d.synthetic !== true && d.ignored !== true)
    .map((d) => d.text as string)
    .join('\n\n');
}

/** The conversation as `roam show` prints it. */
export function logTranscript(s: LoggedSession): TranscriptEntry[] {
  const parts = partsByMessage(s);
  const out: TranscriptEntry[] = [];
  for (const m of s.messages) {
    const data = obj(m.data);
    const role = data.role === 'user' ? 'user' : data.role === 'assistant' ? 'assistant' : null;
    if (!role) continue;
    const mine = parts.get(String(m.id)) ?? [];
    const toolUses = mine.map((p) => obj(p.data)).filter((d) => d.type === 'tool').map((d) => ({ id: String(d.callID ?? ''), name: String(d.tool ?? '?'), input: obj(d.state).input ?? null }));
    const toolResults = mine.map((p) => obj(p.data)).filter((d) => d.type === 'tool' && typeof obj(d.state).output === 'string').map((d) => ({ toolUseId: String(d.callID ?? ''), text: String(obj(d.state).output), isError: obj(d.state).status === 'error' }));
    const text = messageText(mine);
    if (!text && !toolUses.length) continue;
    out.push({ role, uuid: String(m.id), timestamp: new Date(num(m.time_created)).toISOString(), text, toolUses, toolResults });
  }
  return out;
}

const parsed = (v: unknown): unknown => {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
};

/**
 * The session in the form of the tool's `export` (and so its `import`): `{info, messages:
 * [{info, parts}]}`, info the session's columns under the tool's own field names (measured against
 * `opencode export` 1.18.33, docs/tools/opencode.md).
 */
export function exportJson(s: LoggedSession, model: { providerID: string; modelID: string } | null = null): Record<string, unknown> {
  const r = s.session;
  if (!r) throw new Error('the log holds no session row');
  const info: Record<string, unknown> = {
    id: r.id, slug: r.slug, projectID: r.project_id, directory: r.directory, title: r.title, version: r.version,
    cost: r.cost ?? 0,
    tokens: { input: num(r.tokens_input), output: num(r.tokens_output), reasoning: num(r.tokens_reasoning), cache: { read: num(r.tokens_cache_read), write: num(r.tokens_cache_write) } },
    time: { created: num(r.time_created), updated: num(r.time_updated), ...(r.time_compacting != null ? { compacting: r.time_compacting } : {}), ...(r.time_archived != null ? { archived: r.time_archived } : {}) },
  };
  const opt = (key: string, v: unknown): void => {
    if (v !== null && v !== undefined) info[key] = v;
  };
  opt('workspaceID', r.workspace_id);
  opt('parentID', r.parent_id);
  opt('path', r.path);
  opt('agent', r.agent);
  opt('model', parsed(r.model));
  opt('permission', parsed(r.permission));
  opt('metadata', parsed(r.metadata));
  opt('revert', parsed(r.revert));
  if (r.share_url) info.share = { url: r.share_url };
  if (r.summary_additions != null || r.summary_deletions != null || r.summary_files != null) {
    info.summary = { additions: num(r.summary_additions), deletions: num(r.summary_deletions), files: num(r.summary_files), ...(r.summary_diffs != null ? { diffs: parsed(r.summary_diffs) } : {}) };
  }
  const parts = partsByMessage(s);
  // A converted session's messages name no model of the tool (provider `roam`): the tool's own
  // default stands in for it, else the tool would refuse to continue the session.
  const ownModel = (info: Record<string, unknown>): Record<string, unknown> => {
    if (!model) return info;
    if (info.role === 'user' && obj(info.model).providerID === ROAM_PROVIDER) return { ...info, model };
    if (info.role === 'assistant' && info.providerID === ROAM_PROVIDER) return { ...info, providerID: model.providerID, modelID: model.modelID };
    return info;
  };
  const messages = s.messages.map((m) => ({
    info: ownModel({ ...obj(parsed(m.data)), id: m.id, sessionID: m.session_id }),
    parts: (parts.get(String(m.id)) ?? []).map((p) => ({ ...obj(parsed(p.data)), id: p.id, sessionID: p.session_id, messageID: p.message_id })),
  }));
  return { info, messages };
}

/** What a log line holds of a row, for comparing versions (time_updated left out). */
export function rowKey(row: Row): string {
  const { time_updated: _t, ...rest } = row;
  return JSON.stringify(Object.keys(rest).sort().map((k) => [k, rest[k]]));
}
