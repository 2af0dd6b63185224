/**
 * Crush, captured (read-only), end to end: its npm package cannot install here (the postinstall
 * downloads the binary from outside the registry), so the store is a fixture written from the
 * schema in Crush's public source (internal/db/migrations/20250424200609_initial.sql, goose's
 * version table; the parts' JSON from internal/message/content.go): a project listed in
 * `~/.local/share/crush/projects.json` with its `.crush/crush.db`. docs/tools/crush.md.
 *
 * A's roamd appends the session's rows to a roam-owned log, which reaches B; on B `roam list`,
 * `search` and `show` read it, and `roam resume <id> --in claude -- -p …` makes the real Claude
 * Code send its texts, in order (the bash call as its Bash tool with the output). A database of a
 * goose version not measured is not read.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runRoam } from '../harness/cli.js';
import { until } from '../../packages/core/test/support/poll.js';
import { claudeBinDir, claudeEnv } from '../support/claude.js';
import { makeDaemon, stopAll } from '../support/daemons.js';
import { claudeConversation, firstToolCall, conversationRequests, startMockAnthropic, type MockAnthropic } from '../support/mock-anthropic.js';

const SESSION = '3f1c2a7e-5b6d-4c8e-9a0b-1c2d3e4f5a6b';
const OTHER = '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b';

/** A Crush database as its migrations make it (the columns roam reads), goose at `version`. */
function crushDb(file: string, version: number, session: string, title: string): void {
  const db = new Database(file);
  db.exec(`
    CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY AUTOINCREMENT, version_id INTEGER NOT NULL, is_applied INTEGER NOT NULL, tstamp TIMESTAMP DEFAULT (datetime('now')));
    CREATE TABLE sessions (id TEXT PRIMARY KEY, parent_session_id TEXT, title TEXT NOT NULL, message_count INTEGER NOT NULL DEFAULT 0,
      prompt_tokens INTEGER NOT NULL DEFAULT 0, completion_tokens INTEGER NOT NULL DEFAULT 0, cost REAL NOT NULL DEFAULT 0.0, updated_at INTEGER NOT NULL, created_at INTEGER NOT NULL);
    CREATE TABLE messages (id TEXT PRIMARY KEY, session_id TEXT NOT NULL, role TEXT NOT NULL, parts BLOB NOT NULL default '[]', model TEXT,
      created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, finished_at INTEGER);
  `);
  db.prepare('INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, 1), (20250424200609, 1), (?, 1)').run(version);
  const t = 1_796_000_000; // seconds, as Crush writes them
  db.prepare('INSERT INTO sessions (id, title, updated_at, created_at) VALUES (?, ?, ?, ?)').run(session, title, t + 5, t);
  const add = db.prepare('INSERT INTO messages (id, session_id, role, parts, model, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const finish = { type: 'finish', data: { reason: 'end_turn', time: t } };
  add.run(`${session}-m1`, session, 'user', JSON.stringify([{ type: 'text', data: { text: 'Remember the word zebracorn.' } }]), null, t, t);
  add.run(`${session}-m2`, session, 'assistant', JSON.stringify([
    { type: 'reasoning', data: { thinking: 'list it', signature: '' } },
    { type: 'text', data: { text: 'Checking the tree.' } },
    { type: 'tool_call', data: { id: 'call_1', name: 'bash', input: '{"command":"ls"}', provider_executed: false, finished: true } },
    { type: 'finish', data: { reason: 'tool_use', time: t } },
  ]), 'gpt-mock', t, t);
  add.run(`${session}-m3`, session, 'tool', JSON.stringify([{ type: 'tool_result', data: { tool_call_id: 'call_1', name: 'bash', content: 'README.md', metadata: '', is_error: false } }]), null, t, t);
  add.run(`${session}-m4`, session, 'assistant', JSON.stringify([{ type: 'text', data: { text: 'The tree has a README.' } }, finish]), 'gpt-mock', t, t);
  db.close();
}

let anthropic: MockAnthropic;
let bin: string;

beforeAll(async () => {
  anthropic = await startMockAnthropic({ text: 'Claude mock answer.' });
  bin = claudeBinDir('roam-crush-bin-');
});
afterAll(async () => {
  await anthropic.close();
  rmSync(bin, { recursive: true, force: true });
});
afterEach(stopAll);

describe('Crush sessions, captured', () => {
  it('a session of a Crush database on A is listed, searched and shown on B, and continued there in Claude Code', async () => {
    const a = makeDaemon('alpha');
    const b = makeDaemon('beta');
    const projA = join(a.home, 'code', 'app');
    const stale = join(a.home, 'code', 'old');
    const projB = join(b.home, 'work');
    for (const p of [projA, stale, projB]) mkdirSync(p, { recursive: true });
    mkdirSync(join(projA, '.crush'));
    mkdirSync(join(stale, '.crush'));
    crushDb(join(projA, '.crush', 'crush.db'), 20260925000000, SESSION, 'Zebracorn check');
    crushDb(join(stale, '.crush', 'crush.db'), 20991231000000, OTHER, 'From a Crush not measured');
    mkdirSync(join(a.home, '.local', 'share', 'crush'), { recursive: true });
    writeFileSync(join(a.home, '.local', 'share', 'crush', 'projects.json'), JSON.stringify({ projects: [
      { path: projA, data_dir: join(projA, '.crush'), last_accessed: '2026-12-01T00:00:00Z' },
      { path: stale, data_dir: join(stale, '.crush'), last_accessed: '2026-11-01T00:00:00Z' },
    ] }));
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);

    const onB = join(b.roamHome, 'state', 'tool-logs', 'crush');
    await until(() => { try { return readdirSync(onB).includes(`${SESSION}.jsonl`); } catch { return false; } }, { timeoutMs: 30_000, what: "the session's log on B" });
    const env = { ...claudeEnv({ home: b.home, baseUrl: anthropic.url }), ...b.env, PATH: `${bin}:${b.env.PATH}` };
    const roam = async (args: string[]): Promise<{ code: number | null; out: string; err: string }> => {
      const r = await runRoam(args, { env, cwd: projB, timeoutMs: 120_000, group: true });
      return { code: r.code, out: r.stdout, err: r.stderr };
    };
    await until(async () => (await roam(['show', SESSION])).out.includes('The tree has a README.'), { timeoutMs: 30_000, everyMs: 500, what: 'the whole session on B' });

    const listed = await roam(['list', '--tool', 'crush', '--all', '--json']);
    expect(listed.code, listed.err).toBe(0);
    expect(JSON.parse(listed.out)).toEqual([expect.objectContaining({ tool: 'crush', id: SESSION, title: 'Zebracorn check', cwd: projA, messages: 3 })]);
    const found = await roam(['search', 'zebracorn', '--json']);
    expect(JSON.parse(found.out)).toEqual([expect.objectContaining({ role: 'user', session: expect.objectContaining({ id: SESSION }) })]);
    const shown = await roam(['show', SESSION]);
    expect(shown.out).toMatch(/## User\n\nRemember the word zebracorn\.\n\n## Assistant\n\nChecking the tree\.\n[\s\S]*tool_use bash\n\{"command":"ls"\}[\s\S]*README\.md[\s\S]*\nThe tree has a README\.\n$/);
    expect((await roam(['resume', SESSION])).err).toContain('captured (read-only)');

    const mark = anthropic.requests.length;
    const r = await roam(['resume', SESSION, '--in', 'claude', '--', '-p', 'And now?']);
    expect(r.code, r.err + r.out).toBe(0);
    expect(r.out).toContain('Claude mock answer.');
    const [req] = conversationRequests(anthropic.requests.slice(mark));
    expect(claudeConversation(req!)).toEqual([
      ['user', 'Remember the word zebracorn.'],
      ['assistant', 'Checking the tree.'],
      ['assistant', 'The tree has a README.'],
      ['user', 'And now?'],
    ]);
    const { use, result } = firstToolCall(req!);
    expect(use).toMatchObject({ name: 'Bash', input: { command: 'ls' } });
    expect(result).toMatchObject({ tool_use_id: use.id, content: expect.stringContaining('README.md') });

    // The database of a goose version not measured was not read: its session is nowhere.
    expect(readdirSync(onB)).not.toContain(`${OTHER}.jsonl`);
    expect(readdirSync(join(a.roamHome, 'state', 'tool-logs', 'crush'))).not.toContain(`${OTHER}.jsonl`);
  }, 180_000);
});
