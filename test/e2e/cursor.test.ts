/**
 * Cursor's chats, captured (read-only), end to end. Cursor is closed source and cannot run here: the
 * store is a small fixture written by the test from what public projects that read Cursor's stores
 * document (docs/tools/cursor.md): the IDE's `globalStorage/state.vscdb` with `cursorDiskKV` rows
 * `composerData:<id>` (`_v` 10, `fullConversationHeadersOnly`) and `bubbleId:<id>:<bubble>` (type 1
 * the user, 2 the assistant), and a workspace (`workspaceStorage/<hash>/workspace.json`, its
 * `state.vscdb`'s `composer.composerData`) naming the chat's folder.
 *
 * A's roamd appends the chat to a roam-owned log, which reaches B; on B `roam list`, `search` and
 * `show` read it, and `roam resume <id> --in claude -- -p …` makes the real Claude Code send its
 * texts in order. A chat of an undocumented `_v` is not read.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runRoam } from '../harness/cli.js';
import { until } from '../../packages/core/test/support/poll.js';
import { claudeBinDir, claudeEnv } from '../support/claude.js';
import { makeDaemon, stopAll } from '../support/daemons.js';
import { claudeConversation, conversationRequests, startMockAnthropic, type MockAnthropic } from '../support/mock-anthropic.js';

const CHAT = '5d0e6f7a-8b9c-4d1e-8f2a-3b4c5d6e7f80';
const NEWER = '6e1f7a8b-9c0d-4e2f-9a3b-4c5d6e7f8091';

/** The IDE's stores under `user` (its `Cursor/User` directory): one chat of `_v` 10, one of 99. */
function cursorStores(user: string, folder: string): void {
  mkdirSync(join(user, 'globalStorage'), { recursive: true });
  const db = new Database(join(user, 'globalStorage', 'state.vscdb'));
  db.exec('CREATE TABLE ItemTable (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB); CREATE TABLE cursorDiskKV (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB);');
  const put = db.prepare('INSERT INTO cursorDiskKV (key, value) VALUES (?, ?)');
  const t = 1_796_000_000_000;
  const bubbles: Array<[string, number, string]> = [['b1', 1, 'Remember the word zebracorn.'], ['b2', 2, 'Noted: zebracorn.'], ['b3', 1, 'And the color teal.'], ['b4', 2, 'Teal it is.']];
  put.run(`composerData:${CHAT}`, JSON.stringify({ _v: 10, composerId: CHAT, name: 'Zebracorn chat', createdAt: t, lastUpdatedAt: t + 4000, status: 'completed', fullConversationHeadersOnly: bubbles.map(([bubbleId, type]) => ({ bubbleId, type })) }));
  for (const [id, type, text] of bubbles) put.run(`bubbleId:${CHAT}:${id}`, JSON.stringify({ _v: 3, type, bubbleId: id, text }));
  put.run(`composerData:${NEWER}`, JSON.stringify({ _v: 99, composerId: NEWER, name: 'Of a format not documented', createdAt: t, lastUpdatedAt: t, conversation: [{ type: 1, bubbleId: 'x', text: 'not read' }] }));
  db.close();
  const ws = join(user, 'workspaceStorage', 'f00d');
  mkdirSync(ws, { recursive: true });
  writeFileSync(join(ws, 'workspace.json'), JSON.stringify({ folder: pathToFileURL(folder).href }));
  const wdb = new Database(join(ws, 'state.vscdb'));
  wdb.exec('CREATE TABLE ItemTable (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB)');
  wdb.prepare('INSERT INTO ItemTable (key, value) VALUES (?, ?)').run('composer.composerData', JSON.stringify({ allComposers: [{ composerId: CHAT }, { composerId: NEWER }] }));
  wdb.close();
}

let anthropic: MockAnthropic;
let bin: string;

beforeAll(async () => {
  anthropic = await startMockAnthropic({ text: 'Claude mock answer.' });
  bin = claudeBinDir('roam-cursor-bin-');
});
afterAll(async () => {
  await anthropic.close();
  rmSync(bin, { recursive: true, force: true });
});
afterEach(stopAll);

describe('Cursor chats, captured', () => {
  it("a chat of Cursor's store on A is listed, searched and shown on B, and continued there in Claude Code", async () => {
    const a = makeDaemon('alpha');
    const b = makeDaemon('beta');
    const projA = join(a.home, 'code', 'app');
    const projB = join(b.home, 'work');
    for (const p of [projA, projB]) mkdirSync(p, { recursive: true });
    cursorStores(join(a.home, '.config', 'Cursor', 'User'), projA);
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);

    const onB = join(b.roamHome, 'state', 'tool-logs', 'cursor');
    await until(() => { try { return readdirSync(onB).includes(`${CHAT}.jsonl`); } catch { return false; } }, { timeoutMs: 30_000, what: "the chat's log on B" });
    const env = { ...claudeEnv({ home: b.home, baseUrl: anthropic.url }), ...b.env, PATH: `${bin}:${b.env.PATH}` };
    const roam = async (args: string[]): Promise<{ code: number | null; out: string; err: string }> => {
      const r = await runRoam(args, { env, cwd: projB, timeoutMs: 120_000, group: true });
      return { code: r.code, out: r.stdout, err: r.stderr };
    };
    await until(async () => (await roam(['show', CHAT])).out.includes('Teal it is.'), { timeoutMs: 30_000, everyMs: 500, what: 'the whole chat on B' });

    const listed = await roam(['list', '--tool', 'cursor', '--all', '--json']);
    expect(listed.code, listed.err).toBe(0);
    expect(JSON.parse(listed.out)).toEqual([expect.objectContaining({ tool: 'cursor', id: CHAT, title: 'Zebracorn chat', cwd: projA, messages: 4 })]);
    const found = await roam(['search', 'teal', '--json']);
    expect(JSON.parse(found.out)).toEqual([expect.objectContaining({ role: 'user', session: expect.objectContaining({ id: CHAT }) }), expect.objectContaining({ role: 'assistant' })]);
    const shown = await roam(['show', CHAT]);
    expect(shown.out).toMatch(/## User\n\nRemember the word zebracorn\.\n\n## Assistant\n\nNoted: zebracorn\.\n\n## User\n\nAnd the color teal\.\n\n## Assistant\n\nTeal it is\.\n$/);

    const mark = anthropic.requests.length;
    const r = await roam(['resume', CHAT, '--in', 'claude', '--', '-p', 'And now?']);
    expect(r.code, r.err + r.out).toBe(0);
    expect(r.out).toContain('Claude mock answer.');
    const [req] = conversationRequests(anthropic.requests.slice(mark));
    expect(claudeConversation(req!)).toEqual([
      ['user', 'Remember the word zebracorn.'],
      ['assistant', 'Noted: zebracorn.'],
      ['user', 'And the color teal.'],
      ['assistant', 'Teal it is.'],
      ['user', 'And now?'],
    ]);

    // The chat of an undocumented `_v` was not read.
    expect(readdirSync(onB)).not.toContain(`${NEWER}.jsonl`);
  }, 180_000);
});
