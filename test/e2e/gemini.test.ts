/**
 * Gemini CLI sessions end to end with the real Gemini CLI (`@google/gemini-cli` 0.61.0, pinned in
 * the root package.json) against the loopback mock of the Gemini API (test/support/mock-gemini.ts):
 * a session written by `gemini -p` on A reaches B through two real roamd daemons (the
 * `~/.gemini/tmp` folder); `roam list --tool gemini` and `roam show` read it there; `roam resume
 * <id> -- -p …` on B (another HOME, the project at another path) registers the
 * directory under the session's slug and runs the real CLI, which sends A's history; B's turn comes
 * back into A's file, and A's own CLI still resumes it there with both turns.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runRoam, runRoamSync } from '../harness/cli.js';
import { until } from '../../packages/core/test/support/poll.js';
import { GEMINI_MODEL, geminiBinDir, geminiEnv, geminiSessionId, runGemini, writeGeminiSettings } from '../support/gemini.js';
import { startMockGemini, streamRequests, type GeminiRequest, type MockGemini } from '../support/mock-gemini.js';
import { makeDaemon, stopAll } from '../support/daemons.js';

let mock: MockGemini;

beforeAll(async () => {
  mock = await startMockGemini({ text: 'Mock answer.' });
});
afterAll(async () => {
  await mock.close();
});
afterEach(stopAll);

/** The conversation a request sends: [role, text] per content, without the CLI's own context parts. */
function conversation(req: GeminiRequest): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const c of (req.body?.contents ?? []) as Array<{ role: string; parts: Array<{ text?: string; thought?: boolean }> }>) {
    const text = c.parts.filter((p) => typeof p.text === 'string' && !p.thought && !/^<(session_context|hook_context)>/.test(p.text.trimStart())).map((p) => p.text).join('');
    if (text) out.push([c.role, text]);
  }
  return out;
}

function lastStream(since: number): GeminiRequest {
  const r = streamRequests(mock.requests.slice(since));
  expect(r.length).toBeGreaterThan(0);
  return r[r.length - 1]!;
}

/** Session files under a HOME's `.gemini/tmp`, relative to it (`<slug>/chats/session-….jsonl`). */
function sessionFiles(home: string): string[] {
  const tmp = join(home, '.gemini', 'tmp');
  const out: string[] = [];
  for (const slug of existsSync(tmp) ? readdirSync(tmp) : []) {
    const chats = join(tmp, slug, 'chats');
    for (const n of existsSync(chats) ? readdirSync(chats) : []) if (/^session-.*\.jsonl$/.test(n)) out.push(`${slug}/chats/${n}`);
  }
  return out.sort();
}

/** `roam` run asynchronously: the mock answers from this process while the tool runs. */
async function roamAsync(env: NodeJS.ProcessEnv, cwd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; out: string; err: string }> {
  const r = await runRoam(args, { env, cwd, timeoutMs, group: true });
  return { code: r.code, out: r.stdout, err: r.stderr };
}

function roamWith(env: NodeJS.ProcessEnv, cwd: string, args: string[]): { code: number | null; out: string; err: string } {
  const r = runRoamSync(args, { env, cwd, timeoutMs: 120_000 });
  return { code: r.code, out: r.stdout, err: r.stderr };
}

describe('Gemini CLI sessions with the real CLI', () => {
  it('synced by roamd: B lists, shows and resumes (roam resume) a session A wrote, and B\'s turn reaches A', async () => {
    const a = makeDaemon('alpha');
    const b = makeDaemon('beta');
    for (const d of [a, b]) {
      writeGeminiSettings(d.home);
      mkdirSync(join(d.home, '.gemini', 'tmp'), { recursive: true });
    }
    const projA = join(a.home, 'code', 'app');
    const projB = join(b.home, 'work', 'app'); // the same project, at another path: the CLI would claim another slug for it
    mkdirSync(projA, { recursive: true });
    mkdirSync(projB, { recursive: true });
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);

    const first = await runGemini({ args: ['-m', GEMINI_MODEL, '-p', 'Remember the word zebracorn.', '--output-format', 'json'], cwd: projA, home: a.home, baseUrl: mock.baseUrl, timeoutMs: 90_000 });
    expect(first.code, first.stderr).toBe(0);
    const id = geminiSessionId(first.stdout)!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const files = sessionFiles(a.home);
    expect(files).toEqual([expect.stringMatching(new RegExp(`^app/chats/session-\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-${id.slice(0, 8)}\\.jsonl$`))]);
    const rel = files[0]!;
    const onA = join(a.home, '.gemini', 'tmp', rel);
    const onB = join(b.home, '.gemini', 'tmp', rel);
    await until(() => existsSync(onB) && readFileSync(onB, 'utf8') === readFileSync(onA, 'utf8'), { timeoutMs: 30_000, what: "A's session on B" });

    // roam on B reads it.
    const listed = roamWith(b.env, projB, ['list', '--tool', 'gemini', '--all', '--json']);
    expect(listed.code, listed.err).toBe(0);
    expect(JSON.parse(listed.out)).toEqual([expect.objectContaining({ id, cwd: realpathSync(projA), title: 'Remember the word zebracorn.', messages: 2 })]);
    const shown = roamWith(b.env, projB, ['show', id.slice(0, 13)]);
    expect(shown.code, shown.err).toBe(0);
    expect(shown.out).toMatch(/## User\n\nRemember the word zebracorn\.\n\n## Assistant\n\nMock answer\.\n$/);

    // The slug's ownership marker names A's path: roamd keeps it per machine (B's CLI would refuse B's directory for "app").
    expect(existsSync(join(b.home, '.gemini', 'tmp', 'app', '.project_root'))).toBe(false);

    // roam resume on B, from the project at another path: the real CLI sends A's history.
    const envB = { ...b.env, ...geminiEnv({ home: b.home, baseUrl: mock.baseUrl }), PATH: `${geminiBinDir(join(b.home, 'bin'))}:${process.env.PATH}`, ROAM_HOME: b.roamHome, ROAM_GROUP_KEY: b.env.ROAM_GROUP_KEY };
    let mark = mock.requests.length;
    const resumed = await roamAsync(envB, projB, ['resume', id, '--', '-m', GEMINI_MODEL, '-p', 'Which word?', '--output-format', 'json'], 120_000);
    expect(resumed.code, resumed.err + resumed.out).toBe(0);
    expect(resumed.err).toContain(`registered ${realpathSync(projB)} as Gemini CLI project "app"`);
    expect(resumed.err).toMatch(/wrote .*tmp\/app\/\.project_root/);
    expect(geminiSessionId(resumed.out)).toBe(id);
    expect(conversation(lastStream(mark))).toEqual([
      ['user', 'Remember the word zebracorn.'],
      ['model', 'Mock answer.'],
      ['user', 'Which word?'],
    ]);
    // Appended to A's file on B, and that reaches A.
    await until(() => readFileSync(onA, 'utf8') === readFileSync(onB, 'utf8') && readFileSync(onA, 'utf8').includes('Which word?'), { timeoutMs: 30_000, what: "B's turn in A's session file" });
    const after = roamWith(a.env, projA, ['list', '--tool', 'gemini', '--json']);
    expect(JSON.parse(after.out)).toEqual([expect.objectContaining({ id, messages: 4 })]);

    // A's own mapping is intact: its marker still names its path, and its CLI resumes the session with B's turn.
    expect(readFileSync(join(a.home, '.gemini', 'tmp', 'app', '.project_root'), 'utf8').trim()).toBe(projA);
    mark = mock.requests.length;
    const again = await runGemini({ args: ['-m', GEMINI_MODEL, '--resume', id, '-p', 'And now?', '--output-format', 'json'], cwd: projA, home: a.home, baseUrl: mock.baseUrl, timeoutMs: 90_000 });
    expect(again.code, again.stderr).toBe(0);
    expect(conversation(lastStream(mark))).toEqual([
      ['user', 'Remember the word zebracorn.'],
      ['model', 'Mock answer.'],
      ['user', 'Which word?'],
      ['model', 'Mock answer.'],
      ['user', 'And now?'],
    ]);
    expect(mock.unknown).toEqual([]);
  }, 300_000);
});
