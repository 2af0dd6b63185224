/**
 * The end-to-end checks of an OpenCode-family tool (OpenCode, Kilo CLI), with its real CLI against
 * the loopback Chat Completions mock (test/support/opencode.ts) and real roamd daemons:
 *
 * 1. A session made by `<tool> run` on A is appended by A's roamd to a roam-owned log, which
 *    reaches B (another HOME); `roam list`/`show`/`search` read it there; `roam resume <id> --
 *    run …` on B brings it into B's database through `<tool> import` and the real CLI sends A's
 *    history to the mock; B's turn reaches A's log (`roam show` on A).
 * 2. While a `<tool> -s <id> run …` holds the session open (its answer held by the mock), `roam
 *    resume` refuses (ROAM_SESSION_BUSY) and the database is not written; a database whose
 *    schema version was not measured gives ROAM_TOOL_SCHEMA, and its files stay byte for byte.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runRoam } from '../harness/cli.js';
import { until } from '../../packages/core/test/support/poll.js';
import { makeDaemon, stopAll } from './daemons.js';
import type { MockServer } from './mock-openai.js';
import { cliBin, cliEnv, conversation, conversationRequests, runArgs, runTool, startChatMock, startTool, writeConfig, type CliFlavor } from './opencode.js';

/** The log folder roamd keeps for the tool under a ROAM_HOME. */
export function logFolder(roamHome: string, tool: string): string {
  return join(roamHome, 'state', 'tool-logs', tool);
}

function logFile(roamHome: string, tool: string): string | null {
  const dir = logFolder(roamHome, tool);
  const names = existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.jsonl')) : [];
  return names.length === 1 ? join(dir, names[0]!) : null;
}

/** `guards`: also the busy and schema checks (shared code: run once, with OpenCode). */
export function familySuite(cli: CliFlavor, opts: { guards?: boolean } = {}): void {
  let mock: MockServer;
  let bin: string;
  let release: (() => void) | null = null;
  let holding = false;

  beforeAll(async () => {
    mock = await startChatMock({
      hold: (req) => (JSON.stringify(req.body?.messages ?? '').includes('hold-this-turn') ? new Promise<void>((r) => ((holding = true), (release = r))) : undefined),
    });
    bin = realpathSync(mkdtempSync(join(tmpdir(), `roam-${cli.name}-bin-`)));
    symlinkSync(cliBin(cli), join(bin, cli.name));
  });
  afterAll(async () => {
    release?.();
    await mock.close();
    rmSync(bin, { recursive: true, force: true });
  });
  afterEach(stopAll);

  const roam = async (env: NodeJS.ProcessEnv, cwd: string, args: string[]): Promise<{ code: number | null; out: string; err: string }> => {
    const r = await runRoam(args, { env: { ...cliEnv(env.HOME!), ...env, PATH: `${bin}:${env.PATH}` }, cwd, timeoutMs: 120_000, group: true });
    return { code: r.code, out: r.stdout, err: r.stderr };
  };

  describe(`${cli.name} sessions with the real CLI`, () => {
    it("made on A, resumed on B from its log through the tool's import, and B's turn reaches A", async () => {
      const a = makeDaemon('alpha');
      const b = makeDaemon('beta');
      const projA = join(a.home, 'code', 'app');
      const projB = join(b.home, 'work', 'elsewhere');
      for (const [d, p] of [[a, projA], [b, projB]] as const) {
        mkdirSync(p, { recursive: true });
        writeConfig(cli, d.home, mock.baseUrl);
      }
      await a.start();
      await b.start(['--peer', a.addresses[0]!]);

      const made = await runTool(cli, runArgs('Remember the word zebracorn.'), { cwd: projA, home: a.home });
      expect(made.code, made.stderr + made.stdout).toBe(0);
      // A's roamd appends the session's rows to its log; the log reaches B.
      // The answer's text part, not the title (the model names the session "Mock answer." too, and
      // that row can arrive first).
      await until(() => (logFile(a.roamHome, cli.name) ? readFileSync(logFile(a.roamHome, cli.name)!, 'utf8').includes('"text":"Mock answer."') : false), { timeoutMs: 30_000, what: "the answer's text in the session's log on A" });
      const onA = logFile(a.roamHome, cli.name)!;
      const id = onA.slice(onA.lastIndexOf('/') + 1, -'.jsonl'.length);
      const onB = join(logFolder(b.roamHome, cli.name), `${id}.jsonl`);
      await until(() => existsSync(onB) && readFileSync(onB).equals(readFileSync(onA)), { timeoutMs: 30_000, what: "A's log on B" });
      expect(existsSync(join(b.home, cli.db))).toBe(false);

      const listed = await roam(b.env, projB, ['list', '--tool', cli.name, '--all', '--json']);
      expect(listed.code, listed.err).toBe(0);
      expect(JSON.parse(listed.out)).toEqual([expect.objectContaining({ tool: cli.name, id, cwd: realpathSync(projA), firstPrompt: 'Remember the word zebracorn.', messages: 2 })]);
      const shown = await roam(b.env, projB, ['show', id]);
      expect(shown.code, shown.err).toBe(0);
      expect(shown.out).toMatch(/## User\n\nRemember the word zebracorn\.\n\n## Assistant\n\nMock answer\.\n$/);
      const found = await roam(b.env, projB, ['search', 'zebracorn', '--json']);
      expect(JSON.parse(found.out)).toEqual([expect.objectContaining({ role: 'user' })]);

      const mark = mock.requests.length;
      const resumed = await roam(b.env, projB, ['resume', id, '--', ...runArgs('Which word?')]);
      expect(resumed.code, resumed.err + resumed.out).toBe(0);
      expect(resumed.err).toContain(`import`);
      const sent = conversationRequests(mock.requests.slice(mark));
      expect(sent).toHaveLength(1);
      expect(conversation(sent[0]!)).toEqual([['user', 'Remember the word zebracorn.'], ['assistant', 'Mock answer.'], ['user', 'Which word?']]);

      // B's roamd appends B's turn to the log; it reaches A.
      const whole = /Remember the word zebracorn\.\n\n## Assistant\n\nMock answer\.\n\n## User\n\nWhich word\?\n\n## Assistant\n\nMock answer\.\n$/;
      await until(() => readFileSync(onA, 'utf8').includes('Which word?'), { timeoutMs: 30_000, what: "B's turn in A's log" });
      // The answer's row follows the question's: `roam show` on A shows both once they are there.
      await until(async () => whole.test((await roam(a.env, projA, ['show', id])).out), { timeoutMs: 30_000, everyMs: 500, what: "B's whole turn in `roam show` on A" });
    }, 240_000);

    // Kilo CLI runs the same guard code as OpenCode: the case is defined for OpenCode only (not skipped for Kilo).
    if (opts.guards !== false) it('writes nothing into the database while the tool runs on the session, nor into one of an unmeasured schema version', async () => {
      const scratch = realpathSync(mkdtempSync(join(tmpdir(), `roam-${cli.name}-db-`)));
      try {
        const home = join(scratch, 'home');
        const proj = join(home, 'proj');
        mkdirSync(proj, { recursive: true });
        writeConfig(cli, home, mock.baseUrl);
        const env = { ...cliEnv(home), ROAM_HOME: join(home, '.roam') };
        const made = await runTool(cli, runArgs('First words.'), { cwd: proj, home });
        expect(made.code, made.stderr).toBe(0);
        const listed = await roam(env, proj, ['list', '--tool', cli.name, '--json']);
        const id = (JSON.parse(listed.out) as Array<{ id: string }>)[0]?.id;
        expect(id).toMatch(/^ses_/);
        const dbFile = join(home, cli.db);
        const count = (): number => {
          const db = new Database(dbFile, { readonly: true });
          try {
            return (db.prepare('SELECT count(*) AS n FROM message WHERE session_id = ?').get(id) as { n: number }).n;
          } finally {
            db.close();
          }
        };

        // Held open: its turn's answer waits in the mock.
        const held = startTool(cli, ['-s', id!, ...runArgs('hold-this-turn please')], { cwd: proj, home });
        await until(() => holding, { timeoutMs: 60_000, what: 'the held turn at the mock' });
        const before = count();
        const mark = mock.requests.length;
        const busy = await roam(env, proj, ['resume', id!, '--', ...runArgs('Not now.')]);
        expect(busy.code).toBe(1);
        expect(busy.err).toContain('ROAM_SESSION_BUSY');
        expect(count()).toBe(before);
        expect(conversationRequests(mock.requests.slice(mark))).toEqual([]);
        release!();
        expect((await held.done).code).toBe(0);

        // A schema version not measured: refused, the files untouched.
        const db = new Database(dbFile);
        db.prepare('INSERT INTO migration (id, time_completed) VALUES (?, ?)').run('20991231000000_not_measured', Date.now());
        db.pragma('wal_checkpoint(TRUNCATE)');
        db.close();
        // The database and its write-ahead log (none and empty alike); SQLite makes the -shm index
        // of a WAL database whenever it is opened, read-only too.
        const hash = (): string => ['', '-wal'].map((s) => createHash('sha256').update(existsSync(dbFile + s) ? readFileSync(dbFile + s) : Buffer.alloc(0)).digest('hex')).join(' ');
        const sums = hash();
        const refused = await roam(env, proj, ['resume', id!, '--', ...runArgs('Not this either.')]);
        expect(refused.code).toBe(1);
        expect(refused.err).toContain('ROAM_TOOL_SCHEMA');
        expect(refused.err).toContain('20991231000000_not_measured');
        expect(hash()).toBe(sums);
        expect(conversationRequests(mock.requests.slice(mark))).toEqual([]);
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    }, 240_000);
  });
}
