/**
 * Crush's stores, read-only (docs/tools/crush.md): the projects it has run in are listed in
 * `$XDG_DATA_HOME/crush/projects.json` (else `~/.local/share/crush/projects.json`,
 * `{"projects":[{"path","data_dir","last_accessed"}]}`), each project's sessions in
 * `<data_dir>/crush.db` (by default `<project>/.crush/crush.db`): tables `sessions` (id,
 * parent_session_id, title, created_at, updated_at, …) and `messages` (id, session_id, role
 * `user|assistant|tool|system`, parts: a JSON array of `{type, data}`, model, created_at,
 * updated_at, …), migrated by goose (`goose_db_version`, newest applied `version_id`).
 *
 * Each top-level session's rows are mapped to the shape of the OpenCode family's log
 * (common/opencode/log.ts) and appended to `<roam state>/tool-logs/crush/<id>.jsonl`, so that
 * list/search/show and the conversion from it are the family's: a user or assistant message
 * becomes a message row, its parts part rows (`text` → text, `tool_call` → a tool part whose output
 * is the `tool_result` of the `tool` message that answers it, `reasoning` → reasoning, `binary`
 * and `image_url` → file); `finish` parts and `tool`/`system` messages are not rows of their own.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import type { Row } from '../common/opencode/db.js';
import { logDir, type Flavor, type MirrorResult } from '../common/opencode/family.js';
import { appendSession } from '../common/opencode/mirror.js';

/** The projects.json index. */
export function projectsFile(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_DATA_HOME || join(env.HOME || homedir(), '.local', 'share'), 'crush', 'projects.json');
}

/** The databases of the projects Crush lists here: [project path, database]. */
export function crushDatabases(env: NodeJS.ProcessEnv): Array<[string, string]> {
  let list: unknown;
  try {
    list = (JSON.parse(readFileSync(projectsFile(env), 'utf8')) as { projects?: unknown }).projects;
  } catch {
    return [];
  }
  if (!Array.isArray(list)) return [];
  const out: Array<[string, string]> = [];
  for (const p of list as Array<{ path?: unknown; data_dir?: unknown }>) {
    if (typeof p?.path !== 'string') continue;
    const dataDir = typeof p.data_dir === 'string' && p.data_dir ? p.data_dir : join(p.path, '.crush');
    const db = join(dataDir, 'crush.db');
    if (existsSync(db)) out.push([p.path, db]);
  }
  return out;
}

/** Newest applied goose migration (null: no goose table). */
function gooseVersion(db: Database.Database): string | null {
  const t = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'goose_db_version'").get();
  if (!t) return null;
  const r = db.prepare('SELECT max(version_id) AS v FROM goose_db_version WHERE is_applied = 1').get() as { v: number | bigint | null };
  return r.v === null ? null : String(r.v);
}

const ms = (t: unknown): number => {
  const n = typeof t === 'bigint' ? Number(t) : typeof t === 'number' ? t : 0;
  return n < 1e12 ? n * 1000 : n; // seconds in Crush's schema; milliseconds tolerated
};

interface CrushPart {
  readonly type?: unknown;
  readonly data?: Record<string, unknown>;
}

function partsOf(m: Row): CrushPart[] {
  try {
    const v = JSON.parse(typeof m.parts === 'string' ? m.parts : Buffer.isBuffer(m.parts) ? m.parts.toString('utf8') : '[]') as unknown;
    return Array.isArray(v) ? (v as CrushPart[]) : [];
  } catch {
    return [];
  }
}

/** One session's rows in the family log's shape. */
export function mapSession(project: string, s: Row, messages: Row[]): { session: Row; messages: Row[]; parts: Row[] } {
  const results = new Map<string, { output: string; isError: boolean; at: number }>();
  for (const m of messages) {
    for (const p of partsOf(m)) {
      if (p.type === 'tool_result' && p.data && typeof p.data.tool_call_id === 'string') {
        results.set(p.data.tool_call_id, { output: String(p.data.content ?? ''), isError: p.data.is_error === true, at: ms(m.updated_at) });
      }
    }
  }
  const outMessages: Row[] = [];
  const outParts: Row[] = [];
  let last = 0;
  for (const m of messages) {
    const role = m.role;
    if (role !== 'user' && role !== 'assistant') continue;
    // Crush's times are seconds: the order of the rows is kept by making each message's time unique.
    const created = Math.max(ms(m.created_at), last + 1);
    last = created;
    const updated = Math.max(ms(m.updated_at), created);
    const id = String(m.id);
    outMessages.push({ id, session_id: s.id, time_created: created, time_updated: updated, data: JSON.stringify({ role, ...(typeof m.model === 'string' ? { modelID: m.model } : {}) }) });
    partsOf(m).forEach((p, i) => {
      const d = p.data ?? {};
      let data: Record<string, unknown> | null = null;
      let at = updated;
      if (p.type === 'text' && typeof d.text === 'string') data = { type: 'text', text: d.text, ...(d.hidden === true ? { synthetic: true } : {}) };
      else if (p.type === 'reasoning') data = { type: 'reasoning' };
      else if (p.type === 'binary' || p.type === 'image_url') data = { type: 'file' };
      else if (p.type === 'tool_call' && typeof d.id === 'string') {
        let input: unknown = d.input ?? null;
        try {
          input = typeof input === 'string' && input ? JSON.parse(input) : input;
        } catch {
          // kept as the string
        }
        const r = results.get(d.id);
        if (r) at = Math.max(at, r.at);
        data = { type: 'tool', tool: String(d.name ?? '?'), callID: d.id, state: { input, ...(r ? { output: r.output, status: r.isError ? 'error' : 'completed' } : { status: 'pending' }) } };
      }
      if (data) outParts.push({ id: `${id}.${String(i).padStart(4, '0')}`, message_id: id, session_id: s.id, time_created: created, time_updated: at, data: JSON.stringify(data) });
    });
  }
  const session: Row = { id: s.id, project_id: project, directory: project, title: s.title ?? '', time_created: ms(s.created_at), time_updated: ms(s.updated_at) };
  return { session, messages: outMessages, parts: outParts };
}

/** One pass over every Crush database here (ROAM_TOOL_SCHEMA on the first of an unmeasured schema). */
export function mirrorCrush(flavor: Flavor, env: NodeJS.ProcessEnv): MirrorResult {
  const grown: string[] = [];
  let lines = 0;
  let refused: RoamError | null = null;
  for (const [project, file] of crushDatabases(env)) {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const version = gooseVersion(db);
      if (version === null || !flavor.schemas.includes(version)) {
        refused ??= new RoamError(ErrorCodes.TOOL_SCHEMA, `${file} has Crush schema version ${version ?? '(none)'}, which roam has not measured (measured: ${flavor.schemas.join(', ')}); roam does not read it`, { tool: flavor.name, schema: version });
        continue;
      }
      const sessions = db.prepare('SELECT * FROM sessions WHERE parent_session_id IS NULL').all() as Row[];
      const byCreated = db.prepare('SELECT * FROM messages WHERE session_id = ? ORDER BY created_at, rowid');
      for (const s of sessions) {
        if (typeof s.id !== 'string' || !(flavor.ids?.test(s.id) ?? true)) continue;
        const n = appendSession(logDir(flavor, env), flavor.name, s.id, version, mapSession(project, s, byCreated.all(s.id) as Row[]));
        if (n) grown.push(s.id);
        lines += n;
      }
    } finally {
      db.close();
    }
  }
  if (refused && !lines) throw refused;
  return { sessions: grown, lines };
}
