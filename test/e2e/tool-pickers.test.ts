/**
 * The tools' own ways back to a session, on the device a session was synced to (docs/CODEX.md,
 * GEMINI.md, COPILOT.md "Beyond the transcript"): two real roamd with different HOME paths, the
 * real CLIs against the loopback mocks, one session of each tool written on A in `~/code/app`.
 *
 * - Gemini: on B, in `~/code/app`, `gemini --list-sessions` lists A's session and
 *   `gemini --resume latest` resumes it.
 * - Copilot: on B, `copilot --continue` resumes A's session.
 * - Codex: on B, `codex exec resume --last --all` picks A's session; `--last` alone filters by the
 *   directory the rollout last recorded (A's), which roam never rewrites: once resumed by id on B
 *   (what `roam resume` runs), `--last` in B's directory picks it.
 * - `roam resume --dry-run` on B says, for each tool, what it could not carry.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../packages/core/test/support/poll.js';
import { runRoamSync } from '../harness/cli.js';
import { runCodex, sessionIdOf as codexId, writeCodexConfig } from '../support/codex.js';
import { copilotArgs, runCopilot, sessionIdOf as copilotId } from '../support/copilot.js';
import { GEMINI_MODEL, geminiSessionId, runGemini, writeGeminiSettings } from '../support/gemini.js';
import { chatMessages, chatRequests, startMockCopilot, type MockCopilot } from '../support/mock-copilot.js';
import { contentTexts, startMockGemini, streamRequests, type MockGemini } from '../support/mock-gemini.js';
import { inputMessages, responsesRequests, startMockOpenAI, type MockOpenAI } from '../support/mock-openai.js';
import { makeDaemon, stopAll, type DaemonHandle } from '../support/daemons.js';

let openai: MockOpenAI;
let gemini: MockGemini;
let copilot: MockCopilot;
let a: DaemonHandle;
let b: DaemonHandle;
let projA: string;
let projB: string;
/** On B, A's `~/code/zoo` lives at `~/work/zoo-here` (config.json `map`). */
let zooA: string;
let zooB: string;

function project(d: DaemonHandle): string {
  const dir = join(d.home, 'code', 'app');
  mkdirSync(dir, { recursive: true });
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: dir });
  return realpathSync(dir);
}

function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of existsSync(d) ? readdirSync(d) : []) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(dir);
  return out;
}

function dryRun(id: string): { cwd: string; notCarried: string[] } {
  const r = runRoamSync(['resume', id, '--dry-run'], { env: b.env, cwd: projB, timeoutMs: 60_000 });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { cwd: string; notCarried: string[] };
}

beforeAll(async () => {
  openai = await startMockOpenAI({ text: 'Mock answer.' });
  gemini = await startMockGemini({ text: 'Mock answer.' });
  copilot = await startMockCopilot({ text: 'Mock answer.' });
  a = makeDaemon('alpha');
  b = makeDaemon('beta');
  for (const d of [a, b]) {
    mkdirSync(join(d.home, '.codex', 'sessions'), { recursive: true });
    writeCodexConfig(join(d.home, '.codex'), openai.baseUrl);
    writeGeminiSettings(d.home);
    mkdirSync(join(d.home, '.gemini', 'tmp'), { recursive: true });
    mkdirSync(join(d.home, '.copilot', 'session-state'), { recursive: true });
  }
  projA = project(a);
  projB = project(b);
  zooA = join(a.home, 'code', 'zoo');
  zooB = join(b.home, 'work', 'zoo-here');
  for (const d of [zooA, zooB]) mkdirSync(d, { recursive: true });
  mkdirSync(b.roamHome, { recursive: true });
  writeFileSync(join(b.roamHome, 'config.json'), JSON.stringify({ map: { '~code%2Fzoo': zooB } }));
  await a.start();
  await b.start(['--peer', a.addresses[0]!]);
});
afterAll(async () => {
  await stopAll();
  await Promise.all([openai.close(), gemini.close(), copilot.close()]);
});

describe("the tools' own pickers on the device a session was synced to", () => {
  it('Gemini: --list-sessions and --resume latest on B find the session A wrote', async () => {
    const first = await runGemini({ args: ['-m', GEMINI_MODEL, '-p', 'Remember the word walrus.', '--output-format', 'json'], cwd: projA, home: a.home, baseUrl: gemini.baseUrl, timeoutMs: 90_000 });
    expect(first.code, first.stderr).toBe(0);
    const id = geminiSessionId(first.stdout)!;
    const chats = (home: string) => files(join(home, '.gemini', 'tmp')).filter((f) => f.includes(id.slice(0, 8)));
    await until(() => chats(b.home).length === 1, { timeoutMs: 30_000, what: "A's Gemini session on B" });
    const listed = await runGemini({ args: ['--list-sessions'], cwd: projB, home: b.home, baseUrl: gemini.baseUrl, timeoutMs: 60_000 });
    expect(listed.stdout + listed.stderr).toContain(`[${id}]`);
    const mark = gemini.requests.length;
    const again = await runGemini({ args: ['-m', GEMINI_MODEL, '--resume', 'latest', '-p', 'Which word?', '--output-format', 'json'], cwd: projB, home: b.home, baseUrl: gemini.baseUrl, timeoutMs: 90_000 });
    expect(again.code, again.stderr).toBe(0);
    const sent = streamRequests(gemini.requests.slice(mark)).map((r) => contentTexts(r).map(([, t]) => t).join('\n')).join('\n');
    expect(sent).toContain('Remember the word walrus.');
    expect(dryRun(id).notCarried.join('\n')).toMatch(/\/restore checkpoints/);
  }, 200_000);

  it("Gemini: a session of a project kept at another directory here is registered by roamd in the CLI's projects.json, so --list-sessions there lists it", async () => {
    const first = await runGemini({ args: ['-m', GEMINI_MODEL, '-p', 'Remember the word zebu.', '--output-format', 'json'], cwd: zooA, home: a.home, baseUrl: gemini.baseUrl, timeoutMs: 90_000 });
    expect(first.code, first.stderr).toBe(0);
    const id = geminiSessionId(first.stdout)!;
    const projects = () => (existsSync(join(b.home, '.gemini', 'projects.json')) ? (JSON.parse(readFileSync(join(b.home, '.gemini', 'projects.json'), 'utf8')) as { projects: Record<string, string> }).projects : {});
    await until(() => projects()[realpathSync(zooB)] === 'zoo', { timeoutMs: 30_000, what: "B's roamd to register ~/work/zoo-here as Gemini's project zoo", detail: () => projects() });
    const listed = await runGemini({ args: ['--list-sessions'], cwd: zooB, home: b.home, baseUrl: gemini.baseUrl, timeoutMs: 60_000 });
    expect(listed.stdout + listed.stderr).toContain(`[${id}]`);
  }, 200_000);

  it('Copilot: --continue on B resumes the session A wrote', async () => {
    const first = await runCopilot({ args: copilotArgs('Remember the word narwhal.'), cwd: projA, home: a.home, baseUrl: copilot.baseUrl, timeoutMs: 90_000 });
    expect(first.code, first.stderr + first.stdout).toBe(0);
    const id = copilotId(first.stdout + first.stderr)!;
    await until(() => existsSync(join(b.home, '.copilot', 'session-state', id, 'workspace.yaml')) && existsSync(join(b.home, '.copilot', 'session-state', id, 'events.jsonl')), { timeoutMs: 30_000, what: "A's Copilot session on B" });
    const mark = copilot.requests.length;
    const again = await runCopilot({ args: ['--continue', ...copilotArgs('Which word?')], cwd: projB, home: b.home, baseUrl: copilot.baseUrl, timeoutMs: 90_000 });
    expect(again.code, again.stderr + again.stdout).toBe(0);
    const sent = chatRequests(copilot.requests.slice(mark));
    expect(chatMessages(sent.at(-1)!).map(([, t]) => t)).toContain('Remember the word narwhal.');
    expect(dryRun(id).notCarried.join('\n')).toMatch(/session-store\.db/);
  }, 200_000);

  it('Codex: --last --all on B picks the session A wrote; --last alone once it has run in B\'s directory', async () => {
    const first = await runCodex({ args: ['exec', '--skip-git-repo-check', 'Remember the word okapi.'], cwd: projA, home: a.home, timeoutMs: 90_000 });
    expect(first.code, first.stderr).toBe(0);
    const id = codexId(first.stdout + first.stderr)!;
    await until(() => files(join(b.home, '.codex', 'sessions')).some((f) => f.endsWith(`${id}.jsonl`)), { timeoutMs: 30_000, what: "A's rollout on B" });
    const said = dryRun(id).notCarried.join('\n');
    expect(said).toContain('`codex resume --last`');
    expect(said).toContain(projA);
    const run = (args: string[]) => runCodex({ args: ['exec', '--skip-git-repo-check', 'resume', ...args], cwd: projB, home: b.home, timeoutMs: 90_000 });
    const all = await run(['--last', '--all', 'Which word?']);
    expect(codexId(all.stdout + all.stderr)).toBe(id);
    let mark = openai.requests.length;
    const last = await run(['--last', 'And now?']);
    expect(codexId(last.stdout + last.stderr)).toBe(id);
    const sent = responsesRequests(openai.requests.slice(mark));
    expect(inputMessages(sent.at(-1)!).map(([, t]) => t).join('\n')).toContain('Remember the word okapi.');
    mark = openai.requests.length;
  }, 200_000);
});
