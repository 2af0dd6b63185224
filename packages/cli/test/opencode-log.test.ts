/**
 * The roam-owned log of an OpenCode-family database (tools/common/opencode/), on a generated
 * database of OpenCode 1.18.33's session/message/part columns (no CLI): what mirror.ts appends and
 * what it leaves, what a reader takes, the export form `opencode import` reads, and the refusal of
 * a schema version not measured (docs/tools/opencode.md).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRoamError } from '@roam/core/errors';
import { exportJson, parseLog } from '../src/tools/common/opencode/log.js';
import { mirrorDb } from '../src/tools/common/opencode/mirror.js';
import { OPENCODE } from '../src/tools/opencode/index.js';

const ID = 'ses_0123456789abcdefABCDEFghij';
const MEASURED = OPENCODE.schemas[0]!;

let home: string;
let env: NodeJS.ProcessEnv;
let dbFile: string;

function makeDb(schema: string): Database.Database {
  mkdirSync(join(home, '.local', 'share', 'opencode'), { recursive: true });
  const db = new Database(dbFile);
  db.exec(`
    CREATE TABLE migration (id TEXT PRIMARY KEY, time_completed INTEGER NOT NULL);
    CREATE TABLE session (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, workspace_id TEXT, parent_id TEXT, slug TEXT NOT NULL, directory TEXT NOT NULL, path TEXT,
      title TEXT NOT NULL, version TEXT NOT NULL, share_url TEXT, summary_additions INTEGER, summary_deletions INTEGER, summary_files INTEGER, summary_diffs TEXT,
      metadata TEXT, cost REAL DEFAULT 0 NOT NULL, tokens_input INTEGER DEFAULT 0 NOT NULL, tokens_output INTEGER DEFAULT 0 NOT NULL, tokens_reasoning INTEGER DEFAULT 0 NOT NULL,
      tokens_cache_read INTEGER DEFAULT 0 NOT NULL, tokens_cache_write INTEGER DEFAULT 0 NOT NULL, revert TEXT, permission TEXT, agent TEXT, model TEXT,
      time_created INTEGER NOT NULL, time_updated INTEGER NOT NULL, time_compacting INTEGER, time_archived INTEGER);
    CREATE TABLE message (id TEXT PRIMARY KEY, session_id TEXT NOT NULL, time_created INTEGER NOT NULL, time_updated INTEGER NOT NULL, data TEXT NOT NULL);
    CREATE TABLE part (id TEXT PRIMARY KEY, message_id TEXT NOT NULL, session_id TEXT NOT NULL, time_created INTEGER NOT NULL, time_updated INTEGER NOT NULL, data TEXT NOT NULL);
  `);
  db.prepare('INSERT INTO migration VALUES (?, 1)').run(schema);
  db.prepare("INSERT INTO session (id, project_id, slug, directory, title, version, model, time_created, time_updated) VALUES (?, 'global', 'a-b', '/w/app', 'Zebracorn', '1.18.33', ?, 1000, 1000)")
    .run(ID, JSON.stringify({ id: 'm', providerID: 'p' }));
  return db;
}

function turn(db: Database.Database, n: number, role: 'user' | 'assistant', text: string, at: number): void {
  db.prepare('INSERT INTO message VALUES (?, ?, ?, ?, ?)').run(`msg_${n}`, ID, at, at, JSON.stringify({ role, time: { created: at } }));
  db.prepare('INSERT INTO part VALUES (?, ?, ?, ?, ?, ?)').run(`prt_${n}`, `msg_${n}`, ID, at, at, JSON.stringify({ type: 'text', text }));
}

const logFile = (): string => join(home, '.roam', 'state', 'tool-logs', 'opencode', `${ID}.jsonl`);
const lines = (): Array<Record<string, any>> => readFileSync(logFile(), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'roam-opencode-log-'));
  env = { HOME: home, ROAM_HOME: join(home, '.roam') };
  dbFile = join(home, '.local', 'share', 'opencode', 'opencode.db');
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

describe('the log of an OpenCode database', () => {
  it("appends each row once, then only what grew; another device's newer row is not appended back", () => {
    const db = makeDb(MEASURED);
    turn(db, 1, 'user', 'Remember zebracorn.', 1001);
    expect(mirrorDb(OPENCODE, env)).toEqual({ sessions: [ID], lines: 4 });
    expect(lines()[0]).toEqual({ roam: 'opencode-log', v: 1, tool: 'opencode', session: ID, schema: MEASURED });
    expect(mirrorDb(OPENCODE, env)).toEqual({ sessions: [], lines: 0 });

    turn(db, 2, 'assistant', 'Noted.', 1002);
    db.prepare('UPDATE session SET time_updated = 1002, title = ? WHERE id = ?').run('Zebracorn, noted', ID);
    // Updated with the same content: not appended again.
    db.prepare('UPDATE part SET time_updated = 1500 WHERE id = ?').run('prt_1');
    expect(mirrorDb(OPENCODE, env).lines).toBe(3);

    // A newer version from another device, already in the log: this device's older row stays out.
    const before = readFileSync(logFile(), 'utf8');
    const newer = { table: 'session', row: { ...lines()[1]!.row, title: 'Renamed on B', directory: '/b/app', time_updated: 5000 } };
    writeFileSync(logFile(), before + JSON.stringify(newer) + '\n');
    expect(mirrorDb(OPENCODE, env).lines).toBe(0);

    const s = parseLog(readFileSync(logFile(), 'utf8'));
    expect(s.session!.title).toBe('Renamed on B');
    expect(s.firstSession!.directory).toBe('/w/app');
    expect(s.messages.map((m) => m.id)).toEqual(['msg_1', 'msg_2']);
    db.close();
  });

  it('gives the export form the tool imports: info under its names, messages with their parts', () => {
    const db = makeDb(MEASURED);
    turn(db, 1, 'user', 'Remember zebracorn.', 1001);
    turn(db, 2, 'assistant', 'Noted.', 1002);
    mirrorDb(OPENCODE, env);
    db.close();
    const out = exportJson(parseLog(readFileSync(logFile(), 'utf8'))) as { info: Record<string, unknown>; messages: Array<{ info: Record<string, unknown>; parts: Array<Record<string, unknown>> }> };
    expect(out.info).toMatchObject({ id: ID, projectID: 'global', directory: '/w/app', title: 'Zebracorn', version: '1.18.33', model: { id: 'm', providerID: 'p' }, time: { created: 1000, updated: 1000 } });
    expect(out.messages.map((m) => [m.info.role, m.info.id, m.info.sessionID, m.parts.map((p) => [p.text, p.messageID])])).toEqual([
      ['user', 'msg_1', ID, [['Remember zebracorn.', 'msg_1']]],
      ['assistant', 'msg_2', ID, [['Noted.', 'msg_2']]],
    ]);
  });

  it('refuses a database of a schema version not measured, and writes no log', () => {
    makeDb('20991231000000_not_measured').close();
    let err: unknown;
    try {
      mirrorDb(OPENCODE, env);
    } catch (e) {
      err = e;
    }
    expect(isRoamError(err, 'ROAM_TOOL_SCHEMA')).toBe(true);
    expect((err as Error).message).toContain('20991231000000_not_measured');
    expect(() => readFileSync(logFile())).toThrow();
  });
});
