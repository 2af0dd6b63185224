/**
 * Codex sessions end to end with the real Codex CLI (`@openai/codex`, pinned in the root
 * package.json) against the loopback mock of the Responses API (test/support/mock-openai.ts):
 *
 * 1. A session written by `codex exec` on A reaches B through two real roamd daemons (the
 *    `~/.codex/sessions` folder), `roam list --tool codex` and `roam show` read it there, and
 *    `codex exec resume <id>` on B (another HOME, another directory) sends A's history; B's turn
 *    comes back to A's rollout.
 * 2. `roam share` on A and `roam import` on B (no daemons): B's resume sends the redacted history;
 *    `codex exec fork` on B makes a fork whose history `roam show` follows into its parent.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runRoamSync } from '../harness/cli.js';
import { until } from '../../packages/core/test/support/poll.js';
import { codexBin, runCodex, sessionIdOf, writeCodexConfig } from '../support/codex.js';
import { inputMessages, responsesRequests, startMockOpenAI, type MockOpenAI, type OpenAIRequest } from '../support/mock-openai.js';
import { makeDaemon, stopAll } from '../support/daemons.js';

let mock: MockOpenAI;
let scratch: string;

beforeAll(async () => {
  mock = await startMockOpenAI({ text: 'Mock answer.' });
  scratch = realpathSync(mkdtempSync(join(tmpdir(), 'roam-codex-e2e-')));
  codexBin();
});
afterAll(async () => {
  await mock.close();
  rmSync(scratch, { recursive: true, force: true });
});
afterEach(stopAll);

/** The rollout files under a CODEX_HOME, relative to it. */
function rollouts(codexHome: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const n of existsSync(d) ? readdirSync(d) : []) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (/^rollout-.*\.jsonl$/.test(n)) out.push(relative(codexHome, p));
    }
  };
  walk(join(codexHome, 'sessions'));
  return out.sort();
}

function lastResponses(since: number): OpenAIRequest {
  const r = responsesRequests(mock.requests.slice(since));
  expect(r.length).toBeGreaterThan(0);
  return r[r.length - 1]!;
}

/** The user's and the model's messages of a request, without the context Codex adds itself. */
function conversation(req: OpenAIRequest): Array<[string, string]> {
  return inputMessages(req).filter(([role, text]) => !(role === 'user' && /^<(environment_context|user_instructions)/.test(text.trimStart())));
}

function roamWith(env: NodeJS.ProcessEnv, cwd: string, args: string[]): { code: number | null; out: string; err: string } {
  const r = runRoamSync(args, { env, cwd, timeoutMs: 60_000 });
  return { code: r.code, out: r.stdout, err: r.stderr };
}

describe('Codex sessions with the real Codex CLI', () => {
  it('synced by roamd: B lists, shows and resumes a session A wrote, and B\'s turn reaches A', async () => {
    const a = makeDaemon('alpha');
    const b = makeDaemon('beta');
    for (const d of [a, b]) {
      mkdirSync(join(d.home, '.codex', 'sessions'), { recursive: true });
      writeCodexConfig(join(d.home, '.codex'), mock.baseUrl);
    }
    const projA = join(a.home, 'code', 'app');
    const projB = join(b.home, 'work', 'elsewhere');
    mkdirSync(projA, { recursive: true });
    mkdirSync(projB, { recursive: true });
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);

    const first = await runCodex({ args: ['exec', '--skip-git-repo-check', 'Remember the word zebracorn.'], cwd: projA, home: a.home, timeoutMs: 60_000 });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('Mock answer.');
    const id = sessionIdOf(first.stderr + first.stdout)!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const [rel] = rollouts(join(a.home, '.codex'));
    expect(rel).toContain(id);
    const onA = join(a.home, '.codex', rel!);
    const onB = join(b.home, '.codex', rel!);
    await until(() => existsSync(onB) && readFileSync(onB, 'utf8') === readFileSync(onA, 'utf8'), { timeoutMs: 30_000, what: "A's rollout on B" });

    // roam on B reads it.
    const listed = JSON.parse(roamWith(b.env, projB, ['list', '--tool', 'codex', '--all', '--json']).out) as Array<{ id: string; cwd: string; title: string; messages: number }>;
    expect(listed).toEqual([expect.objectContaining({ id, cwd: realpathSync(projA), title: 'Remember the word zebracorn.', messages: 2 })]);
    const shown = roamWith(b.env, projB, ['show', id.slice(0, 13)]);
    expect(shown.code, shown.err).toBe(0);
    expect(shown.out).toMatch(/## User\n\nRemember the word zebracorn\.\n\n## Assistant\n\nMock answer\.\n$/);

    // The real CLI on B resumes it by id from another directory, with A's history.
    const mark = mock.requests.length;
    const resumed = await runCodex({ args: ['exec', '--skip-git-repo-check', 'resume', id, 'Which word?'], cwd: projB, home: b.home, timeoutMs: 60_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(conversation(lastResponses(mark))).toEqual([
      ['user', 'Remember the word zebracorn.'],
      ['assistant', 'Mock answer.'],
      ['user', 'Which word?'],
    ]);
    // Appended to the same rollout on B, and that reaches A.
    expect(rollouts(join(b.home, '.codex'))).toEqual([rel]);
    await until(() => readFileSync(onA, 'utf8') === readFileSync(onB, 'utf8') && readFileSync(onA, 'utf8').includes('Which word?'), { timeoutMs: 30_000, what: "B's turn in A's rollout" });
    const after = JSON.parse(roamWith(a.env, projA, ['list', '--tool', 'codex', '--json']).out) as Array<{ id: string; messages: number }>;
    expect(after).toEqual([expect.objectContaining({ id, messages: 4 })]);
  }, 180_000);

  it('shared and imported: B resumes the redacted history; a fork made on B shows its parent\'s history', async () => {
    const homeA = join(scratch, 'a');
    const homeB = join(scratch, 'b');
    const projA = join(homeA, 'code', 'app');
    const projB = join(homeB, 'work', 'other');
    for (const [h, p] of [[homeA, projA], [homeB, projB]] as const) {
      mkdirSync(p, { recursive: true });
      writeCodexConfig(join(h, '.codex'), mock.baseUrl);
    }
    const token = `ghp_${'Cx7'.repeat(12)}`;
    const first = await runCodex({ args: ['exec', '--skip-git-repo-check', `Deploy with GITHUB_TOKEN=${token} please`], cwd: projA, home: homeA, timeoutMs: 60_000 });
    expect(first.code, first.stderr).toBe(0);
    const id = sessionIdOf(first.stderr + first.stdout)!;
    const envA = { PATH: process.env.PATH, HOME: homeA, ROAM_HOME: join(homeA, '.roam') };
    const envB = { PATH: process.env.PATH, HOME: homeB, ROAM_HOME: join(homeB, '.roam') };
    const bundle = join(scratch, 'codex.json.gz');
    const shared = roamWith(envA, projA, ['share', id, '--out', bundle]);
    expect(shared.code, shared.err).toBe(0);
    expect(shared.out).toMatch(/secrets? redacted \(.*github/);

    const imported = roamWith(envB, projB, ['import', bundle, '--json']);
    expect(imported.code, imported.err).toBe(0);
    const rep = JSON.parse(imported.out) as { id: string; transcript: string; command: { argv: string[]; cwd: string } };
    expect(rep).toMatchObject({ id, command: { argv: ['codex', 'resume', id], cwd: realpathSync(projB) } });
    expect(readFileSync(rep.transcript, 'utf8')).not.toContain(token);

    let mark = mock.requests.length;
    const resumed = await runCodex({ args: ['exec', '--skip-git-repo-check', 'resume', id, 'Done?'], cwd: projB, home: homeB, timeoutMs: 60_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(conversation(lastResponses(mark))).toEqual([
      ['user', 'Deploy with GITHUB_TOKEN=[REDACTED:github] please'],
      ['assistant', 'Mock answer.'],
      ['user', 'Done?'],
    ]);
    for (const r of mock.requests.slice(mark)) expect(r.rawBody).not.toContain(token);

    // Codex's own fork (`codex exec fork`): a new id whose rollout points at the history it forks.
    const before = readFileSync(rep.transcript);
    mark = mock.requests.length;
    const forked = await runCodex({ args: ['exec', '--skip-git-repo-check', 'fork', id, 'On a branch now.'], cwd: projB, home: homeB, timeoutMs: 60_000 });
    expect(forked.code, forked.stderr).toBe(0);
    const forkId = sessionIdOf(forked.stderr + forked.stdout)!;
    expect(forkId).not.toBe(id);
    expect(readFileSync(rep.transcript).equals(before)).toBe(true);
    const forkFile = rollouts(join(homeB, '.codex')).find((r) => r.includes(forkId))!;
    expect(JSON.parse(readFileSync(join(homeB, '.codex', forkFile), 'utf8').split('\n')[0]!).payload).toMatchObject({
      id: forkId, forked_from_id: id, history_base: { thread_id: id, end_byte_offset: before.length },
    });
    expect(conversation(lastResponses(mark)).slice(0, 4)).toEqual([
      ['user', 'Deploy with GITHUB_TOKEN=[REDACTED:github] please'],
      ['assistant', 'Mock answer.'],
      ['user', 'Done?'],
      ['assistant', 'Mock answer.'],
    ]);
    const show = JSON.parse(roamWith(envB, projB, ['show', forkId, '--json']).out) as Array<{ role: string; text: string; meta?: boolean }>;
    expect(show.filter((e) => !e.meta && e.text).map((e) => e.text)).toEqual([
      'Deploy with GITHUB_TOKEN=[REDACTED:github] please', 'Mock answer.', 'Done?', 'Mock answer.', 'On a branch now.', 'Mock answer.',
    ]);
    const dryFork = roamWith(envB, projB, ['share', forkId, '--out', join(scratch, 'fork.json.gz')]);
    expect(dryFork.code).toBe(2);
    expect(dryFork.err).toMatch(/^ROAM_USAGE: Codex session .* is a fork of/);
  }, 180_000);
});
