/**
 * Continue CLI sessions end to end with the real CLI (`@continuedev/cli` 1.5.47, pinned in the root
 * package.json) against the loopback Chat Completions mock (docs/tools/continue.md): a session `cn -p`
 * made on A reaches B (another HOME) through two real roamd; `roam list --tool continue`, `search`
 * and `show` read it there; `roam resume <id>` on B, after a newer session of B's own, makes the
 * real CLI send A's history (not B's newer session's); B's turn reaches A's file; `roam resume <id>
 * --in claude` makes Claude Code send the same texts.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runRoam, runRoamSync } from '../harness/cli.js';
import { until } from '../../packages/core/test/support/poll.js';
import { claudeBin, claudeEnv } from '../support/claude.js';
import { clineCliConversation } from '../support/cline-cli.js';
import { continueBinDir, continueEnv, runContinue, writeContinueConfig } from '../support/continue.js';
import { makeDaemon, stopAll } from '../support/daemons.js';
import { conversationRequests, startMockAnthropic, type MockAnthropic } from '../support/mock-anthropic.js';
import { chatRequests, startMockCopilot, type MockCopilot } from '../support/mock-copilot.js';

let chat: MockCopilot;
let anthropic: MockAnthropic;
let scratch: string;

beforeAll(async () => {
  chat = await startMockCopilot({ text: 'Continue mock answer.' });
  anthropic = await startMockAnthropic({ text: 'Claude mock answer.' });
  scratch = realpathSync(mkdtempSync(join(tmpdir(), 'roam-continue-e2e-')));
});
afterAll(async () => {
  await chat.close();
  await anthropic.close();
  rmSync(scratch, { recursive: true, force: true });
});
afterEach(stopAll);

describe('Continue CLI sessions with the real CLI', () => {
  it("synced by roamd: B lists, searches, shows and resumes a session A wrote; B's turn reaches A; --in claude sends its texts", async () => {
    const a = makeDaemon('continue-a');
    const b = makeDaemon('continue-b');
    const configA = writeContinueConfig(a.home, chat.baseUrl);
    const configB = writeContinueConfig(b.home, chat.baseUrl);
    const project = join(scratch, 'srv', 'app');
    mkdirSync(project, { recursive: true });
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);

    const first = await runContinue({ args: ['--config', configA, '-p', 'Remember the word zebracorn.'], cwd: project, home: a.home, timeoutMs: 90_000 });
    expect(first.code, first.stderr).toBe(0);
    const sessionsA = join(a.home, '.continue', 'sessions');
    const name = readdirSync(sessionsA).find((n) => n !== 'sessions.json')!;
    const id = name.slice(0, -'.json'.length);
    const onA = join(sessionsA, name);
    const onB = join(b.home, '.continue', 'sessions', name);
    await until(() => existsSync(onB) && readFileSync(onB, 'utf8') === readFileSync(onA, 'utf8'), { timeoutMs: 30_000, what: "A's session on B" });

    const roamB = (args: string[]) => runRoamSync(args, { env: b.env, cwd: project, timeoutMs: 60_000 });
    const listed = roamB(['list', '--tool', 'continue', '--all', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ tool: 'continue', id, cwd: project, title: 'Remember the word zebracorn.', messages: 2 })]);
    const found = roamB(['search', 'zebracorn', '--json']);
    expect(JSON.parse(found.stdout)).toEqual([expect.objectContaining({ session: expect.objectContaining({ id }), role: 'user', snippet: 'Remember the word zebracorn.' })]);
    const shown = roamB(['show', id]);
    expect(shown.stdout).toMatch(/## User\n\nRemember the word zebracorn\.\n\n## Assistant\n\nContinue mock answer\.\n$/);

    // A newer session of B's own: `cn --resume` alone would pick it; roam resume <id> makes A's the one.
    const own = await runContinue({ args: ['--config', configB, '-p', 'Something else.'], cwd: project, home: b.home, timeoutMs: 90_000 });
    expect(own.code, own.stderr).toBe(0);
    const bin = join(b.home, 'bin');
    continueBinDir(bin);
    symlinkSync(claudeBin(), join(bin, 'claude'));
    const base = claudeEnv({ home: b.home, baseUrl: anthropic.url });
    const envB = { ...base, ...continueEnv(b.home), PATH: `${bin}:${process.env.PATH}`, ROAM_HOME: b.roamHome, ROAM_GROUP_KEY: b.env.ROAM_GROUP_KEY! };
    let mark = chat.requests.length;
    const resumed = await runRoam(['resume', id, '--', '--config', configB, '-p', 'Which word?'], { env: envB, cwd: project, timeoutMs: 120_000, group: true });
    expect(resumed.code, resumed.stderr + resumed.stdout).toBe(0);
    const sent = chatRequests(chat.requests.slice(mark));
    expect(clineCliConversation(sent[sent.length - 1]!.body)).toEqual([
      ['user', 'Remember the word zebracorn.'],
      ['assistant', 'Continue mock answer.'],
      ['user', 'Which word?'],
    ]);
    await until(() => readFileSync(onA, 'utf8').includes('Which word?'), { timeoutMs: 30_000, what: "B's turn in A's session file" });

    mark = anthropic.requests.length;
    const inClaude = await runRoam(['resume', id, '--in', 'claude', '--', '-p', 'And now?'], { env: envB, cwd: project, timeoutMs: 120_000, group: true });
    expect(inClaude.code, inClaude.stderr).toBe(0);
    const [req] = conversationRequests(anthropic.requests.slice(mark));
    const texts = (req!.body.messages as Array<{ role: string; content: unknown }>).map((m) => [m.role, typeof m.content === 'string' ? m.content : (m.content as Array<{ type: string; text?: string }>).filter((x) => x.type === 'text' && !x.text!.trim().startsWith('<system-reminder>') && !x.text!.includes('deferred tools are now available')).map((x) => x.text!.trim()).join('\n')]).filter(([, t]) => t);
    expect(texts).toEqual([['user', 'Remember the word zebracorn.'], ['assistant', 'Continue mock answer.'], ['user', 'Which word?'], ['assistant', 'Continue mock answer.'], ['user', 'And now?']]);
  }, 240_000);
});
