/**
 * Brings the roam-owned logs (log.ts) up to date with the tool's database on this device: for each
 * top-level session, the rows that are new to its log, or whose `time_updated` grew past the
 * logged version's with other content, are appended (one line each, one write per session). A row
 * older than the logged version (another device's turn not imported here yet) is left alone, so
 * two devices never append each other's rows back and forth. The database is opened read-only;
 * one of a schema version not measured is not read at all (ROAM_TOOL_SCHEMA).
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openChecked, readRows, schemaOf, sessionIds, type Row } from './db.js';
import { dbPath, logDir, SESSION_ID, type Flavor, type MirrorResult } from './family.js';

export type { MirrorResult } from './family.js';
import { headLine, LOG_MAGIC, rowKey, rowLine } from './log.js';


const num = (v: unknown): number => (typeof v === 'number' ? v : 0);

/** The latest logged version of each row, by `<table>:<id>`. */
function loggedVersions(text: string): Map<string, { updated: number; key: string }> {
  const out = new Map<string, { updated: number; key: string }>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let o: { table?: unknown; row?: Row; roam?: unknown };
    try {
      o = JSON.parse(line) as typeof o;
    } catch {
      continue;
    }
    if (o.roam === LOG_MAGIC || typeof o.table !== 'string' || !o.row || typeof o.row.id !== 'string') continue;
    const k = `${o.table}:${o.row.id}`;
    const prev = out.get(k);
    const updated = num(o.row.time_updated);
    if (!prev || updated >= prev.updated) out.set(k, { updated, key: rowKey(o.row) });
  }
  return out;
}

/** The log lines of `rows` not in the log yet (see the module's comment). */
function newLines(rows: { session: Row; messages: Row[]; parts: Row[] }, logged: Map<string, { updated: number; key: string }>): string[] {
  const roles = new Map(rows.messages.map((m) => [String(m.id), roleOf(m)]));
  const lines: string[] = [];
  const consider = (table: 'session' | 'message' | 'part', row: Row, role?: string): void => {
    const line = rowLine(table, row, role);
    const prev = logged.get(`${table}:${String(row.id)}`);
    if (prev) {
      if (num(row.time_updated) <= prev.updated) return;
      if (rowKey((JSON.parse(line) as { row: Row }).row) === prev.key) return;
    }
    lines.push(line);
  };
  consider('session', rows.session);
  for (const m of rows.messages) consider('message', m, roleOf(m));
  for (const p of rows.parts) consider('part', p, roles.get(String(p.message_id)));
  return lines;
}

function roleOf(m: Row): string | undefined {
  try {
    const role = (JSON.parse(String(m.data)) as { role?: unknown }).role;
    return typeof role === 'string' ? role : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Appends to `<dir>/<id>.jsonl` the rows not logged yet (a head line first when the log is new).
 * Returns the lines appended.
 */
export function appendSession(dir: string, tool: string, id: string, schema: string, rows: { session: Row; messages: Row[]; parts: Row[] }): number {
  const file = join(dir, `${id}.jsonl`);
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const lines = newLines(rows, loggedVersions(text));
  if (!lines.length) return 0;
  if (!text) lines.unshift(headLine(tool, id, schema));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // A log whose last line was torn (a copy cut short) gets its own line ending first.
  const sep = text && !text.endsWith('\n') ? '\n' : '';
  appendFileSync(file, sep + lines.join('\n') + '\n', { mode: 0o600 });
  return lines.length;
}

/** One pass over the database (nothing when there is none; ROAM_TOOL_SCHEMA on an unmeasured one). */
export function mirrorDb(flavor: Flavor, env: NodeJS.ProcessEnv, only?: string): MirrorResult {
  if (flavor.captured) return flavor.captured.mirror(env);
  const db = openChecked(flavor, dbPath(flavor, env));
  if (!db) return { sessions: [], lines: 0 };
  const grown: string[] = [];
  let total = 0;
  try {
    const schema = schemaOf(db) ?? '';
    for (const id of only ? [only] : sessionIds(db)) {
      if (!SESSION_ID.test(id)) continue;
      const rows = readRows(db, id);
      if (!rows) continue;
      const n = appendSession(logDir(flavor, env), flavor.name, id, schema, rows);
      if (n) grown.push(id);
      total += n;
    }
  } finally {
    db.close();
  }
  return { sessions: grown, lines: total };
}
