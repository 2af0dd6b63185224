/**
 * Materializing a logged session (log.ts) in the tool's database on this device, before the tool
 * resumes it: through the tool's own `import` (the session in its `export` form, log.ts
 * exportJson), never by writing the database ourselves. Refused, with nothing written, when:
 * - the database here, or the log, has a schema version not measured (ROAM_TOOL_SCHEMA);
 * - a process here runs the tool on that session (ROAM_SESSION_BUSY; db.ts holders).
 * The database's own rows are first appended to the log (mirror.ts), so the import never brings
 * back an older version of a row than this device has. Nothing is imported when the database
 * holds every logged row already.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import { checkSchema, holders, openChecked, readRows, schemaOfFile } from './db.js';
import { configuredModel, dbPath, type Flavor } from './family.js';
import { exportJson, parseLog, rowKey, rowLine, type LoggedSession } from './log.js';
import { mirrorDb } from './mirror.js';

/** Refuses (ROAM_SESSION_BUSY) while a process here runs the tool on session `id`. */
export function refuseWhileOpen(flavor: Flavor, env: NodeJS.ProcessEnv, id: string, dir: string | null): void {
  const open = holders(dbPath(flavor, env), id, dir);
  if (open.length) {
    throw new RoamError(ErrorCodes.SESSION_BUSY, `session ${id} is open in ${flavor.label} here (pid ${open.map((p) => p.pid).join(', ')}): roam writes nothing into its database while it runs; stop it and resume again`, { id, pids: open.map((p) => p.pid) });
  }
}

/** Whether the database lacks a logged row, or holds an older version of one. */
function needsImport(flavor: Flavor, env: NodeJS.ProcessEnv, logged: LoggedSession, id: string): boolean {
  const db = openChecked(flavor, dbPath(flavor, env));
  if (!db) return true;
  try {
    const rows = readRows(db, id);
    if (!rows) return true;
    const have = new Map<string, string>();
    for (const [table, list] of [['message', rows.messages], ['part', rows.parts]] as const) {
      for (const r of list) have.set(`${table}:${String(r.id)}`, rowKey((JSON.parse(rowLine(table, r)) as { row: Record<string, unknown> }).row));
    }
    for (const [table, list] of [['message', logged.messages], ['part', logged.parts]] as const) {
      for (const r of list) if (have.get(`${table}:${String(r.id)}`) !== rowKey(r)) return true;
    }
    return false;
  } finally {
    db.close();
  }
}

/**
 * Brings session `id` of log file `log` into the database here (the tool's `import`, run in `dir`,
 * the directory it resumes in). Returns what it did, one line each.
 */
export function materialize(flavor: Flavor, env: NodeJS.ProcessEnv, log: string, id: string, dir: string): string[] {
  const db = dbPath(flavor, env);
  if (existsSync(db)) checkSchema(flavor, schemaOfFile(db), db);
  const logged = parseLog(readFileSync(log, 'utf8'));
  if (!logged.head || !logged.session) throw new RoamError(ErrorCodes.SESSION_UNREADABLE, `${log} is not a ${flavor.label} session log`, { file: log });
  checkSchema(flavor, logged.head.schema, `the log of session ${id}`);
  refuseWhileOpen(flavor, env, id, dir);
  mirrorDb(flavor, env, id);
  const now = parseLog(readFileSync(log, 'utf8'));
  if (!needsImport(flavor, env, now, id)) return [];
  const tmp = mkdtempSync(join(tmpdir(), `roam-${flavor.name}-`));
  try {
    const file = join(tmp, `${id}.json`);
    writeFileSync(file, JSON.stringify(exportJson(now, configuredModel(flavor, env, dir))), { mode: 0o600 });
    // Looked up on env's PATH, as roam runs the tool (sessions/exec.ts).
    const r = spawnSync(flavor.bin, ['import', file], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
    if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      throw new RoamError(ErrorCodes.TOOL_NOT_FOUND, `${flavor.bin} is not on PATH (install it: ${flavor.install})`, { tool: flavor.name });
    }
    if (r.status !== 0) {
      const why = (r.stderr || r.stdout || String(r.error ?? '')).trim().split('\n').slice(-3).join(' ');
      throw new RoamError(ErrorCodes.TOOL_IMPORT, `\`${flavor.bin} import\` of session ${id} failed (exit ${String(r.status)}): ${why}`, { tool: flavor.name, id });
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return [`${flavor.label}: session ${id} (${now.messages.length} messages) brought into ${db} by \`${flavor.bin} import\``];
}
