/**
 * Copilot CLI sessions end to end with the real GitHub Copilot CLI (`@github/copilot` 1.0.102,
 * pinned in the root package.json) in BYOK mode against the loopback chat-completions mock
 * (test/support/mock-copilot.ts; nothing leaves 127.0.0.1, see test/support/copilot.ts):
 *
 * A session written by `copilot -p` on A reaches B through two real roamd daemons (the
 * `~/.copilot/session-state` folder); `roam list --tool copilot` and `roam show` read it there;
 * `roam resume <id> -- -p …` on B (another HOME, another directory) runs the real CLI, which sends
 * A's history to the model with no registration of any kind; B's turn comes back to A's
 * events.jsonl, which only grew (its first bytes are A's, byte for byte).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runRoam } from '../harness/cli.js';
import { until } from '../../packages/core/test/support/poll.js';
import { copilotArgs, copilotBin, copilotEnv, runCopilot, sessionIdOf } from '../support/copilot.js';
import { chatMessages, chatRequests, startMockCopilot, type MockCopilot } from '../support/mock-copilot.js';
import { makeDaemon, stopAll } from '../support/daemons.js';

let mock: MockCopilot;
let bin: string;

beforeAll(async () => {
  mock = await startMockCopilot({ text: 'Mock answer.' });
  // `roam resume` runs `copilot` from PATH.
  bin = realpathSync(mkdtempSync(join(tmpdir(), 'roam-copilot-bin-')));
  symlinkSync(copilotBin(), join(bin, 'copilot'));
});
afterAll(async () => {
  await mock.close();
  rmSync(bin, { recursive: true, force: true });
});
afterEach(stopAll);

/** In a process group of its own, killed when it ends: the tool roam ran goes with it. */
async function roamWith(env: NodeJS.ProcessEnv, cwd: string, args: string[], timeoutMs = 90_000): Promise<{ code: number | null; out: string; err: string }> {
  const r = await runRoam(args, { env, cwd, timeoutMs, group: true });
  return { code: r.code, out: r.stdout, err: r.stderr };
}

describe('Copilot CLI sessions with the real Copilot CLI', () => {
  it("synced by roamd: B lists, shows and resumes a session A wrote, and B's turn reaches A", async () => {
    const a = makeDaemon('alpha');
    const b = makeDaemon('beta');
    // roamd syncs the tools' session folders that exist when it starts.
    for (const d of [a, b]) mkdirSync(join(d.home, '.copilot', 'session-state'), { recursive: true });
    const projA = join(a.home, 'code', 'app');
    const projB = join(b.home, 'work', 'elsewhere');
    mkdirSync(projA, { recursive: true });
    mkdirSync(projB, { recursive: true });
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);

    const first = await runCopilot({ args: copilotArgs('Remember the word zebracorn.'), cwd: projA, home: a.home, baseUrl: mock.baseUrl, timeoutMs: 90_000 });
    expect(first.code, first.stderr + first.stdout).toBe(0);
    expect(first.stdout).toContain('Mock answer.');
    const id = sessionIdOf(first.stdout + first.stderr)!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const rel = join('.copilot', 'session-state', id, 'events.jsonl');
    const onA = join(a.home, rel);
    const onB = join(b.home, rel);
    expect(existsSync(onA)).toBe(true);
    const fromA = readFileSync(onA);
    await until(() => existsSync(onB) && readFileSync(onB).equals(readFileSync(onA)), { timeoutMs: 30_000, what: "A's events.jsonl on B" });
    await until(() => existsSync(join(b.home, '.copilot', 'session-state', id, 'workspace.yaml')), { timeoutMs: 30_000, what: "A's workspace.yaml on B" });

    // roam on B reads it.
    const listed = await roamWith(b.env, projB, ['list', '--tool', 'copilot', '--all', '--json']);
    expect(listed.code, listed.err).toBe(0);
    expect(JSON.parse(listed.out)).toEqual([expect.objectContaining({ tool: 'copilot', id, cwd: realpathSync(projA), projectKey: realpathSync(projA), title: 'Remember the word zebracorn.', messages: 2 })]);
    const shown = await roamWith(b.env, projB, ['show', id.slice(0, 13)]);
    expect(shown.code, shown.err).toBe(0);
    expect(shown.out).toMatch(/## User\n\nRemember the word zebracorn\.\n\n## Assistant\n\nMock answer\.\n$/);

    // `roam resume` on B runs the real CLI there, from another directory, which sends A's history.
    const envB = { ...copilotEnv({ home: b.home, baseUrl: mock.baseUrl }), ...b.env, PATH: `${bin}:${b.env.PATH}` };
    const mark = mock.requests.length;
    const resumed = await roamWith(envB, projB, ['resume', id, '--', ...copilotArgs('Which word?')]);
    expect(resumed.code, resumed.err + resumed.out).toBe(0);
    expect(resumed.out).toContain('Mock answer.');
    const sent = chatRequests(mock.requests.slice(mark));
    expect(sent).toHaveLength(1);
    expect(chatMessages(sent[0]!)).toEqual([
      ['user', 'Remember the word zebracorn.'],
      ['assistant', 'Mock answer.'],
      ['user', 'Which word?'],
    ]);
    expect(mock.unknown).toEqual([]);

    // Appended to the same events.jsonl on B (A's bytes first, unchanged), and that reaches A.
    expect(readFileSync(onB).subarray(0, fromA.length).equals(fromA)).toBe(true);
    expect(readFileSync(onB, 'utf8')).toContain('Which word?');
    await until(() => readFileSync(onA).equals(readFileSync(onB)), { timeoutMs: 30_000, what: "B's turn in A's events.jsonl" });
    const after = await roamWith(a.env, projA, ['list', '--tool', 'copilot', '--json']);
    expect(JSON.parse(after.out)).toEqual([expect.objectContaining({ id, messages: 4, projectKey: realpathSync(projA) })]);
  }, 240_000);
});
