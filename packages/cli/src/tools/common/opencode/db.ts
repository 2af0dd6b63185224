/**
 * Reading an OpenCode-family database (better-sqlite3, read-only): its schema version, a session's
 * rows, and which processes of this machine have it open on a session. roam never writes this
 * database itself: the tool's own `import` does (materialize.ts).
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import Database from 'better-sqlite3';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import type { Flavor } from './family.js';

/** One row as the database holds it (columns by name). */
export type Row = Record<string, unknown>;

/** A session's rows: its own, its messages' and their parts'. */
export interface SessionRows {
  readonly session: Row;
  readonly messages: Row[];
  readonly parts: Row[];
}

/** The database's schema version: the id of its newest `migration` row (null: no such table or row). */
export function schemaOf(db: Database.Database): string | null {
  const table = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'migration'").get();
  if (!table) return null;
  const row = db.prepare('SELECT id FROM migration ORDER BY id DESC LIMIT 1').get() as { id?: unknown } | undefined;
  return typeof row?.id === 'string' ? row.id : null;
}

/** Throws ROAM_TOOL_SCHEMA unless `schema` is one the flavor's facts were measured on. */
export function checkSchema(flavor: Flavor, schema: string | null, where: string): void {
  if (schema !== null && flavor.schemas.includes(schema)) return;
  throw new RoamError(
    ErrorCodes.TOOL_SCHEMA,
    `${where} has ${flavor.label} schema version ${schema ?? '(none)'}, which roam has not measured (measured: ${flavor.schemas.join(', ')}, ${flavor.label} ${flavor.version}); roam neither reads nor writes it`,
    { tool: flavor.name, schema, measured: flavor.schemas },
  );
}

/** Opens the database read-only, its schema checked (throws ROAM_TOOL_SCHEMA); null when there is none. */
export function openChecked(flavor: Flavor, file: string): Database.Database | null {
  if (!existsSync(file)) return null;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 2000');
    checkSchema(flavor, schemaOf(db), file);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** The database's schema version, read and closed (null: no database). */
export function schemaOfFile(file: string): string | null {
  if (!existsSync(file)) return null;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return schemaOf(db);
  } finally {
    db.close();
  }
}

/** The ids of the database's top-level sessions (sub-agents' sessions have a parent_id and stay with it). */
export function sessionIds(db: Database.Database): string[] {
  return (db.prepare('SELECT id FROM session WHERE parent_id IS NULL').all() as Array<{ id: string }>).map((r) => r.id);
}

/** A session's rows, ordered as the tool reads them (null: no such session). */
export function readRows(db: Database.Database, id: string): SessionRows | null {
  const session = db.prepare('SELECT * FROM session WHERE id = ?').get(id) as Row | undefined;
  if (!session) return null;
  const messages = db.prepare('SELECT * FROM message WHERE session_id = ? ORDER BY time_created, id').all(id) as Row[];
  const parts = db.prepare('SELECT * FROM part WHERE session_id = ? ORDER BY message_id, id').all(id) as Row[];
  return { session, messages, parts };
}

/**
 * The processes of this machine running the tool on session `id`: those that hold `dbFile` open
 * and either name the session on their command line or run in its directory (Linux /proc; none
 * found elsewhere).
 */
export function holders(dbFile: string, id: string, dir: string | null): Array<{ pid: number }> {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid);
  } catch {
    return [];
  }
  const out: Array<{ pid: number }> = [];
  for (const p of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${p}/fd`);
    } catch {
      continue; // gone, or another user's
    }
    const open = fds.some((fd) => {
      try {
        return readlinkSync(`/proc/${p}/fd/${fd}`) === dbFile;
      } catch {
        return false;
      }
    });
    if (!open) continue;
    let cmdline = '';
    let cwd = '';
    try {
      cmdline = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      cwd = readlinkSync(`/proc/${p}/cwd`);
    } catch {
      // gone
    }
    if (cmdline.split('\0').includes(id) || (dir !== null && cwd === dir)) out.push({ pid: Number(p) });
  }
  return out;
}
