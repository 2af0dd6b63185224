/**
 * Cline CLI sessions end to end with the real CLI (`cline` 3.0.65, pinned in the root
 * package.json) against the loopback Chat Completions mock (test/support/mock-copilot.ts), and
 * Claude Code against the Anthropic mock (docs/tools/cline.md, "The Cline CLI"):
 *
 * 1. A session written by `cline --json` on A reaches B (another HOME) through two real roamd
 *    daemons (`~/.cline/data/sessions`); `roam list --tool cline-cli`, `search` and `show` read it
 *    there; `roam resume <id>` on B, in a pty, opens the CLI's terminal UI on it: the prompt typed
 *    there makes the CLI send A's history; B's turn reaches A's file.
 * 2. That Cline CLI session resumed `--in claude`: Claude Code sends its texts in order; a Claude
 *    Code session resumed `--in cline-cli` (in a pty): the Cline CLI sends its texts in order.
 * Each HOME's CLI gets a hub port of its own, and the hubs it leaves are killed at the end.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runRoam, runRoamSync } from '../harness/cli.js';
import { ROAM } from '../harness/roamd.js';
import { until } from '../../packages/core/test/support/poll.js';
import { claudeBin, claudeEnv, runClaude } from '../support/claude.js';
import { clineCliBinDir, clineCliConversation, clineCliEnv, clineHubs, freePort, killClineHubs, runClineCli, startPty, writeClineCliProviders, type Pty } from '../support/cline-cli.js';
import { makeDaemon, stopAll } from '../support/daemons.js';
import { claudeConversation, conversationRequests, startMockAnthropic, type MockAnthropic } from '../support/mock-anthropic.js';
import { chatRequests, startMockCopilot, type MockCopilot } from '../support/mock-copilot.js';

let chat: MockCopilot;
let anthropic: MockAnthropic;
let scratch: string;
const homes: string[] = [];
const ptys: Pty[] = [];

beforeAll(async () => {
  chat = await startMockCopilot({ text: 'Cline mock answer.' });
  anthropic = await startMockAnthropic({ text: 'Claude mock answer.' });
  scratch = realpathSync(mkdtempSync(join(tmpdir(), 'roam-cline-cli-e2e-')));
});
afterAll(async () => {
  await chat.close();
  await anthropic.close();
  rmSync(scratch, { recursive: true, force: true });
});
afterEach(async () => {
  for (const p of ptys.splice(0)) p.kill();
  for (const h of homes.splice(0)) killClineHubs(h);
  await stopAll();
});

/** The conversation of the last chat request since `mark`. */
function lastSent(mark: number): Array<[string, string]> {
  const sent = chatRequests(chat.requests.slice(mark));
  expect(sent.length).toBeGreaterThan(0);
  return clineCliConversation(sent[sent.length - 1]!.body);
}

/** In the CLI's terminal UI once it shows `shown`: types `prompt`, Enter, and waits for its request to reach the mock. */
async function typeTurn(pty: Pty, shown: string, prompt: string, mark: number): Promise<void> {
  await pty.waitFor(shown, 60_000);
  await pty.waitFor('Ask anything', 30_000);
  pty.write(prompt);
  await pty.waitFor(prompt, 10_000, pty.screen().length - 2000 > 0 ? pty.screen().length - 2000 : 0);
  pty.write('\r');
  await until(() => chatRequests(chat.requests.slice(mark)).length > 0, { timeoutMs: 60_000, what: 'a request of the resumed CLI' });
}

describe('Cline CLI sessions with the real CLI', () => {
  it("synced by roamd: B lists, searches, shows and resumes (in the CLI's terminal UI) a session A wrote, and B's turn reaches A", async () => {
    const a = makeDaemon('cline-a');
    const b = makeDaemon('cline-b');
    homes.push(a.home, b.home);
    const [hubA, hubB] = [await freePort(), await freePort()];
    for (const d of [a, b]) writeClineCliProviders(d.home, chat.baseUrl);
    const project = join(scratch, 'srv', 'app');
    mkdirSync(project, { recursive: true });
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);

    const first = await runClineCli({ args: ['--json', 'Remember the word zebracorn.'], cwd: project, home: a.home, hubPort: hubA, timeoutMs: 90_000 });
    expect(first.code, first.stderr).toBe(0);
    const sessionsA = join(a.home, '.cline', 'data', 'sessions');
    const [id] = readdirSync(sessionsA);
    expect(id).toMatch(/^\d{13}_[0-9a-z]{5}$/);
    expect(clineHubs(a.home).length).toBeGreaterThan(0); // the hub the run left behind
    const rel = join(id!, `${id}.messages.json`);
    const onA = join(sessionsA, rel);
    const onB = join(b.home, '.cline', 'data', 'sessions', rel);
    const metaB = join(b.home, '.cline', 'data', 'sessions', id!, `${id}.json`);
    await until(() => existsSync(onB) && existsSync(metaB) && readFileSync(onB, 'utf8') === readFileSync(onA, 'utf8'), { timeoutMs: 30_000, what: "A's session on B" });

    const roamB = (args: string[]) => runRoamSync(args, { env: b.env, cwd: project, timeoutMs: 60_000 });
    const listed = roamB(['list', '--tool', 'cline-cli', '--all', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ tool: 'cline-cli', id, cwd: project, title: 'Remember the word zebracorn.', messages: 2 })]);
    const found = roamB(['search', 'zebracorn', '--json']);
    expect(found.code, found.stderr).toBe(0);
    expect(JSON.parse(found.stdout)).toEqual([expect.objectContaining({ session: expect.objectContaining({ id }), role: 'user', snippet: 'Remember the word zebracorn.' })]);
    const shown = roamB(['show', id!]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/## User\n\nRemember the word zebracorn\.\n\n## Assistant\n\nCline mock answer\.\n$/);

    // The CLI reads the messages from the path the metadata names: A's file, until roam resume points it at B's copy.
    const messagesPath = () => (JSON.parse(readFileSync(metaB, 'utf8')) as { messages_path?: string }).messages_path;
    expect(messagesPath()).toBe(onA);

    // roam resume <id> on B, in a terminal: the CLI's UI shows A's history; the prompt typed sends it.
    const envB = { ...b.env, ...clineCliEnv({ home: b.home, hubPort: hubB }), PATH: `${clineCliBinDir(join(b.home, 'bin'))}:${process.env.PATH}`, ROAM_HOME: b.roamHome, ROAM_GROUP_KEY: b.env.ROAM_GROUP_KEY! };
    const mark = chat.requests.length;
    const pty = startPty([process.execPath, ROAM, 'resume', id!], { env: envB, cwd: project, timeoutMs: 120_000 });
    ptys.push(pty);
    await typeTurn(pty, 'Remember the word zebracorn.', 'Which word?', mark);
    expect(messagesPath()).toBe(onB);
    expect(lastSent(mark)).toEqual([
      ['user', 'Remember the word zebracorn.'],
      ['assistant', 'Cline mock answer.'],
      ['user', 'Which word?'],
    ]);
    // B's turn, in the session's file on B, reaches A.
    await until(() => readFileSync(onB, 'utf8').includes('Which word?') && readFileSync(onA, 'utf8') === readFileSync(onB, 'utf8'), { timeoutMs: 30_000, what: "B's turn in A's session file" });
    pty.kill();
    await pty.exited;
    const after = runRoamSync(['list', '--tool', 'cline-cli', '--json'], { env: a.env, cwd: project, timeoutMs: 60_000 });
    expect(JSON.parse(after.stdout)).toEqual([expect.objectContaining({ id, messages: 4 })]);
    expect(killClineHubs(b.home)).toBeGreaterThan(0);
    await until(() => clineHubs(b.home).length === 0, { timeoutMs: 10_000, what: "B's hub gone" });
  }, 240_000);

  it('converted: a Cline CLI session resumed --in claude, and a Claude Code session resumed --in cline-cli, send the same texts in order', async () => {
    const d = makeDaemon('cline-convert');
    homes.push(d.home);
    const hub = await freePort();
    writeClineCliProviders(d.home, chat.baseUrl);
    const project = join(scratch, 'convert');
    mkdirSync(project, { recursive: true });
    const bin = join(d.home, 'bin');
    clineCliBinDir(bin);
    symlinkSync(claudeBin(), join(bin, 'claude'));
    const base = claudeEnv({ home: d.home, baseUrl: anthropic.url });
    const env = { ...base, ...clineCliEnv({ home: d.home, hubPort: hub }), PATH: `${bin}:${base.PATH}`, ROAM_HOME: d.roamHome, ROAM_GROUP_KEY: d.env.ROAM_GROUP_KEY! };

    // Cline CLI → Claude Code.
    const made = await runClineCli({ args: ['--json', 'Remember the word quokka.'], cwd: project, home: d.home, hubPort: hub, timeoutMs: 90_000 });
    expect(made.code, made.stderr).toBe(0);
    const [id] = readdirSync(join(d.home, '.cline', 'data', 'sessions'));
    let mark = anthropic.requests.length;
    const r = await runRoam(['resume', id!, '--in', 'claude', '--', '-p', 'Which word?'], { env, cwd: project, timeoutMs: 120_000, group: true });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/converted to Claude Code session [0-9a-f-]{36}/);
    const [req] = conversationRequests(anthropic.requests.slice(mark));
    expect(claudeConversation(req!)).toEqual([['user', 'Remember the word quokka.'], ['assistant', 'Cline mock answer.'], ['user', 'Which word?']]);

    // Claude Code → Cline CLI, resumed in its terminal UI.
    const claudeMade = await runClaude({ args: ['-p', '--', 'Remember the word axolotl.'], cwd: project, home: d.home, baseUrl: anthropic.url, timeoutMs: 60_000 });
    expect(claudeMade.code, claudeMade.stderr).toBe(0);
    const claudeList = runRoamSync(['list', '--tool', 'claude', '--json'], { env, cwd: project, timeoutMs: 60_000 });
    const source = (JSON.parse(claudeList.stdout) as Array<{ id: string; title: string }>).find((s) => s.title === 'Remember the word axolotl.');
    expect(source, claudeList.stdout).toBeDefined();
    mark = chat.requests.length;
    const pty = startPty([process.execPath, ROAM, 'resume', source!.id, '--in', 'cline-cli'], { env, cwd: project, timeoutMs: 120_000 });
    ptys.push(pty);
    await typeTurn(pty, 'Remember the word axolotl.', 'Which word?', mark);
    expect(lastSent(mark)).toEqual([['user', 'Remember the word axolotl.'], ['assistant', 'Claude mock answer.'], ['user', 'Which word?']]);
  }, 240_000);
});
