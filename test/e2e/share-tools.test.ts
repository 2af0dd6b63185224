/**
 * `roam share` → `roam import` of Gemini CLI and Copilot CLI sessions with the real CLIs (pinned in
 * the root package.json) against their loopback mocks (test/support; nothing leaves 127.0.0.1):
 * a session written on A with a token in its first prompt is shared, imported on B (another HOME,
 * a project at another path), and the real CLI resumes it there by the id the import printed, its
 * request carrying the redacted history; imported back on A, where the id is taken, it gets a new id,
 * which A's real CLI resumes too, A's original left as it was.
 */
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRoamSync } from '../harness/cli.js';
import { until } from '../../packages/core/test/support/poll.js';
import { GEMINI_MODEL, geminiSessionId, runGemini, writeGeminiSettings } from '../support/gemini.js';
import { startMockGemini, streamRequests, type GeminiRequest, type MockGemini } from '../support/mock-gemini.js';
import { copilotArgs, copilotBin, runCopilot, sessionIdOf } from '../support/copilot.js';
import { chatMessages, chatRequests, startMockCopilot, type MockCopilot } from '../support/mock-copilot.js';

let gemini: MockGemini;
let copilot: MockCopilot;
let scratch: string;

beforeAll(async () => {
  scratch = realpathSync(mkdtempSync(join(tmpdir(), 'roam-share-tools-')));
  gemini = await startMockGemini({ text: 'Mock answer.' });
  copilot = await startMockCopilot({ text: 'Mock answer.' });
  copilotBin();
});
afterAll(async () => {
  await gemini?.close();
  await copilot?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

function roamWith(home: string, cwd: string, args: string[]): { code: number | null; out: string; err: string } {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, ROAM_HOME: join(home, '.roam') };
  const r = runRoamSync(args, { env, cwd, timeoutMs: 60_000, killSignal: 'SIGKILL' });
  return { code: r.code, out: r.stdout, err: r.stderr };
}

interface Report {
  id: string;
  originalId: string;
  renamed: boolean;
  transcript: string;
  command: { argv: string[]; cwd: string };
}

function machines(tool: string): { homeA: string; homeB: string; projA: string; projB: string } {
  const homeA = join(scratch, tool, 'a');
  const homeB = join(scratch, tool, 'b');
  const projA = join(homeA, 'code', 'app');
  const projB = join(homeB, 'work', 'other');
  mkdirSync(projA, { recursive: true });
  mkdirSync(projB, { recursive: true });
  return { homeA, homeB, projA: realpathSync(projA), projB: realpathSync(projB) };
}

/** The conversation a Gemini request sends: [role, text] per content, without the CLI's own context parts. */
function geminiConversation(req: GeminiRequest): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const c of (req.body?.contents ?? []) as Array<{ role: string; parts: Array<{ text?: string; thought?: boolean }> }>) {
    const text = c.parts.filter((p) => typeof p.text === 'string' && !p.thought && !/^<(session_context|hook_context)>/.test(p.text.trimStart())).map((p) => p.text).join('');
    if (text) out.push([c.role, text]);
  }
  return out;
}

describe('roam share / import with the real Gemini and Copilot CLIs', () => {
  it('Gemini CLI: B resumes the imported session with the redacted history; imported again on A it gets a new id A resumes', async () => {
    const { homeA, homeB, projA, projB } = machines('gemini');
    for (const h of [homeA, homeB]) writeGeminiSettings(h);
    const token = `ghp_${'Gx7'.repeat(12)}`;
    const first = await runGemini({ args: ['-m', GEMINI_MODEL, '-p', `Deploy with GITHUB_TOKEN=${token} please`, '--output-format', 'json'], cwd: projA, home: homeA, baseUrl: gemini.baseUrl, timeoutMs: 90_000 });
    expect(first.code, first.stderr).toBe(0);
    const id = geminiSessionId(first.stdout)!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    const bundle = join(scratch, 'gemini.json.gz');
    const shared = roamWith(homeA, projA, ['share', id, '--out', bundle]);
    expect(shared.code, shared.err).toBe(0);
    expect(shared.out).toMatch(/secrets? redacted \(.*github/);

    const imported = roamWith(homeB, projB, ['import', bundle, '--json']);
    expect(imported.code, imported.err).toBe(0);
    const rep = JSON.parse(imported.out) as Report;
    expect(rep).toMatchObject({ id, renamed: false, command: { argv: ['gemini', '--resume', id], cwd: projB } });
    expect(rep.transcript.startsWith(join(homeB, '.gemini', 'tmp', 'other', 'chats', 'session-'))).toBe(true);
    expect(readFileSync(rep.transcript, 'utf8')).not.toContain(token);

    // The real CLI on B, in B's directory, by the printed command.
    let mark = gemini.requests.length;
    const resumed = await runGemini({ args: ['-m', GEMINI_MODEL, ...rep.command.argv.slice(1), '-p', 'Done?', '--output-format', 'json'], cwd: rep.command.cwd, home: homeB, baseUrl: gemini.baseUrl, timeoutMs: 90_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(geminiSessionId(resumed.stdout)).toBe(id);
    const reqs = streamRequests(gemini.requests.slice(mark));
    expect(reqs.length).toBeGreaterThan(0);
    expect(geminiConversation(reqs[reqs.length - 1]!)).toEqual([
      ['user', 'Deploy with GITHUB_TOKEN=[REDACTED:github] please'],
      ['model', 'Mock answer.'],
      ['user', 'Done?'],
    ]);
    for (const r of gemini.requests.slice(mark)) expect(r.rawBody).not.toContain(token);
    // B's turn is appended to the imported file.
    await until(() => readFileSync(rep.transcript, 'utf8').includes('Done?'), { timeoutMs: 10_000, what: "B's turn in the imported file" });

    // Back on A, where the id is taken: a new id, which A's CLI resumes; A's original untouched.
    const originalA = roamWith(homeA, projA, ['list', '--tool', 'gemini', '--json']);
    const fileA = (JSON.parse(originalA.out) as Array<{ id: string; file: string }>).find((s) => s.id === id)!.file;
    const before = readFileSync(fileA);
    const again = roamWith(homeA, projA, ['import', bundle, '--json']);
    expect(again.code, again.err).toBe(0);
    const rep2 = JSON.parse(again.out) as Report;
    expect(rep2.renamed).toBe(true);
    expect(rep2.id).not.toBe(id);
    mark = gemini.requests.length;
    const resumedA = await runGemini({ args: ['-m', GEMINI_MODEL, '--resume', rep2.id, '-p', 'Again?', '--output-format', 'json'], cwd: projA, home: homeA, baseUrl: gemini.baseUrl, timeoutMs: 90_000 });
    expect(resumedA.code, resumedA.stderr).toBe(0);
    expect(geminiSessionId(resumedA.stdout)).toBe(rep2.id);
    const reqsA = streamRequests(gemini.requests.slice(mark));
    expect(geminiConversation(reqsA[reqsA.length - 1]!)).toEqual([
      ['user', 'Deploy with GITHUB_TOKEN=[REDACTED:github] please'],
      ['model', 'Mock answer.'],
      ['user', 'Again?'],
    ]);
    expect(readFileSync(fileA).equals(before)).toBe(true);
    expect(gemini.unknown).toEqual([]);
  }, 300_000);

  it('Copilot CLI: B resumes the imported session with the redacted history in B\'s directory; imported again on A it gets a new id A resumes', async () => {
    const { homeA, homeB, projA, projB } = machines('copilot');
    const token = `ghp_${'Kc3'.repeat(12)}`;
    const first = await runCopilot({ args: copilotArgs(`Deploy with GITHUB_TOKEN=${token} please`), cwd: projA, home: homeA, baseUrl: copilot.baseUrl, timeoutMs: 120_000 });
    expect(first.code, first.stderr + first.stdout).toBe(0);
    const id = sessionIdOf(first.stdout + first.stderr)!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    const bundle = join(scratch, 'copilot.json.gz');
    const shared = roamWith(homeA, projA, ['share', id, '--out', bundle, '--json']);
    expect(shared.code, shared.err).toBe(0);
    const manifest = (JSON.parse(shared.out) as { manifest: { files: Array<{ name: string }>; redactions: Record<string, number> } }).manifest;
    expect(manifest.files.map((f) => f.name)).toContain('workspace.yaml');
    expect(manifest.files.map((f) => f.name).filter((n) => /session\.db|lock|rewind/.test(n))).toEqual([]);
    expect(manifest.redactions.github).toBeGreaterThan(0);

    const imported = roamWith(homeB, projB, ['import', bundle, '--json']);
    expect(imported.code, imported.err).toBe(0);
    const rep = JSON.parse(imported.out) as Report;
    expect(rep).toMatchObject({ id, renamed: false, transcript: join(homeB, '.copilot', 'session-state', id, 'events.jsonl'), command: { argv: ['copilot', '--resume', id, '-C', projB], cwd: projB } });
    expect(readFileSync(rep.transcript, 'utf8')).not.toContain(token);

    let mark = copilot.requests.length;
    const resumed = await runCopilot({ args: [...rep.command.argv.slice(1), ...copilotArgs('Done?')], cwd: rep.command.cwd, home: homeB, baseUrl: copilot.baseUrl, timeoutMs: 120_000 });
    expect(resumed.code, resumed.stderr + resumed.stdout).toBe(0);
    expect(sessionIdOf(resumed.stdout + resumed.stderr)).toBe(id);
    const reqs = chatRequests(copilot.requests.slice(mark));
    expect(reqs.length).toBeGreaterThan(0);
    expect(chatMessages(reqs[reqs.length - 1]!)).toEqual([
      ['user', 'Deploy with GITHUB_TOKEN=[REDACTED:github] please'],
      ['assistant', 'Mock answer.'],
      ['user', 'Done?'],
    ]);
    for (const r of copilot.requests.slice(mark)) expect(r.rawBody).not.toContain(token);
    // Appended to the imported log; the CLI worked in B's directory.
    await until(() => readFileSync(rep.transcript, 'utf8').includes('Done?'), { timeoutMs: 10_000, what: "B's turn in the imported events.jsonl" });
    const resume = readFileSync(rep.transcript, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; data: { context?: { cwd?: string } } }).filter((e) => e.type === 'session.resume');
    expect(resume.at(-1)?.data.context?.cwd).toBe(projB);

    // Back on A, where the id is taken: a new id, which A's CLI resumes; A's original untouched.
    const fileA = join(homeA, '.copilot', 'session-state', id, 'events.jsonl');
    const before = readFileSync(fileA);
    const again = roamWith(homeA, projA, ['import', bundle, '--json']);
    expect(again.code, again.err).toBe(0);
    const rep2 = JSON.parse(again.out) as Report;
    expect(rep2.renamed).toBe(true);
    expect(rep2.id).not.toBe(id);
    mark = copilot.requests.length;
    const resumedA = await runCopilot({ args: ['--resume', rep2.id, ...copilotArgs('Again?')], cwd: projA, home: homeA, baseUrl: copilot.baseUrl, timeoutMs: 120_000 });
    expect(resumedA.code, resumedA.stderr + resumedA.stdout).toBe(0);
    expect(sessionIdOf(resumedA.stdout + resumedA.stderr)).toBe(rep2.id);
    const reqsA = chatRequests(copilot.requests.slice(mark));
    expect(chatMessages(reqsA[reqsA.length - 1]!)).toEqual([
      ['user', 'Deploy with GITHUB_TOKEN=[REDACTED:github] please'],
      ['assistant', 'Mock answer.'],
      ['user', 'Again?'],
    ]);
    expect(readFileSync(fileA).equals(before)).toBe(true);
    expect(copilot.unknown).toEqual([]);
  }, 300_000);
});
