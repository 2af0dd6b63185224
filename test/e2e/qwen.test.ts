/**
 * Qwen Code sessions end to end with the real Qwen Code (`@qwen-code/qwen-code` 0.15.10, pinned in
 * the root package.json) against the loopback Chat Completions mock (test/support/mock-copilot.ts),
 * and Claude Code against the Anthropic mock (docs/tools/qwen.md):
 *
 * 1. A session written by `qwen -p` on A reaches B (another HOME) through two real roamd daemons
 *    (the `~/.qwen/projects` folder); `roam list --tool qwen`, `search` and `show` read it there;
 *    `roam resume <id>` on B runs the real CLI, which sends A's history; B's turn reaches A's file on
 *    A; `roam resume` with no id on B, from the project, continues the same session.
 * 2. The project at another path on B (`~/code/app` inside each HOME): the CLI resumes a file only
 *    in the directory its first record names, so `roam resume <id>` on B continues A's session as a
 *    new Qwen Code session of B's directory (A's history sent, A's file untouched), which reaches A;
 *    `roam resume` with no id on B resumes that continuation.
 * 3. A Claude Code session (a text, a Bash call that really runs, its output, a text) resumed
 *    `--in qwen`: Qwen Code sends the same texts in order, the call as run_shell_command with its
 *    output; a Qwen Code session (the same shape, its run_shell_command really run) resumed
 *    `--in claude`: Claude Code sends the same texts in order, the call as Bash with its output.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runRoam, runRoamSync } from '../harness/cli.js';
import { until } from '../../packages/core/test/support/poll.js';
import { projectKey } from '../../packages/cli/src/tools/claude/index.js';
import { qwenProjectKey } from '../../packages/cli/src/tools/qwen/index.js';
import { claudeBin, claudeEnv, runClaude } from '../support/claude.js';
import { makeDaemon, stopAll } from '../support/daemons.js';
import { bashCheckReply, claudeConversation, firstToolCall, conversationRequests, startMockAnthropic, type MockAnthropic } from '../support/mock-anthropic.js';
import { chatRequests, chatTools, startMockCopilot, type MockCopilot } from '../support/mock-copilot.js';
import { qwenBinDir, qwenConversation, qwenEnv, qwenSessionId, runQwen, writeQwenSettings } from '../support/qwen.js';

let chat: MockCopilot;
let anthropic: MockAnthropic;
let scratch: string;

type Msg = { role: string; content: unknown; tool_calls?: unknown };

beforeAll(async () => {
  // Qwen's first turn of a prompt asking to "check it": a text and a run_shell_command call; after its output, a text.
  chat = await startMockCopilot({
    text: 'Qwen mock answer.',
    reply: (req) => {
      const msgs = (req.body?.messages ?? []) as Msg[];
      const last = msgs[msgs.length - 1];
      if (last?.role === 'tool') return 'The check printed quokka-ok.';
      if (last?.role === 'user' && JSON.stringify(last.content).includes('then check it')) {
        return { text: 'Let me check.', toolCall: { name: 'run_shell_command', arguments: { command: 'echo quokka-ok' } } };
      }
      return undefined;
    },
  });
  anthropic = await startMockAnthropic({
    text: 'Claude mock answer.',
    reply: bashCheckReply,
  });
  scratch = realpathSync(mkdtempSync(join(tmpdir(), 'roam-qwen-e2e-')));
});
afterAll(async () => {
  await chat.close();
  await anthropic.close();
  rmSync(scratch, { recursive: true, force: true });
});
afterEach(stopAll);

/** The conversation of the last main request since `mark` (the CLI sends one per model turn). */
function lastSent(mark: number): Array<[string, string]> {
  const sent = chatRequests(chat.requests.slice(mark));
  expect(sent.length).toBeGreaterThan(0);
  return qwenConversation(sent[sent.length - 1]!.body);
}

describe('Qwen Code sessions with the real CLI', () => {
  it('synced by roamd: B lists, searches, shows and resumes (with and without an id) a session A wrote, and B\'s turn reaches A', async () => {
    const a = makeDaemon('qwen-a');
    const b = makeDaemon('qwen-b');
    for (const d of [a, b]) {
      writeQwenSettings(d.home);
      mkdirSync(join(d.home, '.qwen', 'projects'), { recursive: true });
    }
    // The project at one path on both (outside both HOMEs): Qwen Code resumes a session only from the directory it recorded.
    const project = join(scratch, 'srv', 'app');
    mkdirSync(project, { recursive: true });
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);

    const first = await runQwen({ args: ['-p', 'Remember the word zebracorn.', '--output-format', 'json'], cwd: project, home: a.home, baseUrl: chat.baseUrl, timeoutMs: 90_000 });
    expect(first.code, first.stderr).toBe(0);
    const id = qwenSessionId(first.stdout)!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const rel = join(qwenProjectKey(project), 'chats', `${id}.jsonl`);
    expect(readdirSync(join(a.home, '.qwen', 'projects', qwenProjectKey(project), 'chats'))).toEqual([`${id}.jsonl`]);
    const onA = join(a.home, '.qwen', 'projects', rel);
    const onB = join(b.home, '.qwen', 'projects', rel);
    await until(() => existsSync(onB) && readFileSync(onB, 'utf8') === readFileSync(onA, 'utf8'), { timeoutMs: 30_000, what: "A's session on B" });

    const roamB = (args: string[]) => runRoamSync(args, { env: b.env, cwd: project, timeoutMs: 60_000 });
    const listed = roamB(['list', '--tool', 'qwen', '--all', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ tool: 'qwen', id, cwd: project, title: 'Remember the word zebracorn.', messages: 2 })]);
    const found = roamB(['search', 'zebracorn', '--json']);
    expect(found.code, found.stderr).toBe(0);
    expect(JSON.parse(found.stdout)).toEqual([expect.objectContaining({ session: expect.objectContaining({ id }), role: 'user', snippet: 'Remember the word zebracorn.' })]);
    const shown = roamB(['show', id]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/## User\n\nRemember the word zebracorn\.\n\n## Assistant\n\nQwen mock answer\.\n$/);

    // roam resume <id> on B: the real CLI sends A's history.
    const envB = { ...b.env, ...qwenEnv({ home: b.home, baseUrl: chat.baseUrl }), PATH: `${qwenBinDir(join(b.home, 'bin'))}:${process.env.PATH}`, ROAM_HOME: b.roamHome, ROAM_GROUP_KEY: b.env.ROAM_GROUP_KEY };
    let mark = chat.requests.length;
    const resumed = await runRoam(['resume', id, '--', '-p', 'Which word?', '--output-format', 'json'], { env: envB, cwd: project, timeoutMs: 120_000, group: true });
    expect(resumed.code, resumed.stderr + resumed.stdout).toBe(0);
    expect(qwenSessionId(resumed.stdout)).toBe(id);
    expect(lastSent(mark)).toEqual([
      ['user', 'Remember the word zebracorn.'],
      ['assistant', 'Qwen mock answer.'],
      ['user', 'Which word?'],
    ]);
    // B's turn, appended to the session's file on B, reaches A.
    await until(() => readFileSync(onA, 'utf8') === readFileSync(onB, 'utf8') && readFileSync(onA, 'utf8').includes('Which word?'), { timeoutMs: 30_000, what: "B's turn in A's session file" });
    const after = runRoamSync(['list', '--tool', 'qwen', '--json'], { env: a.env, cwd: project, timeoutMs: 60_000 });
    expect(JSON.parse(after.stdout)).toEqual([expect.objectContaining({ id, messages: 4 })]);

    // roam resume with no id on B, from the project: the newest session here, the same one.
    mark = chat.requests.length;
    const again = await runRoam(['resume', '--', '-p', 'And now?', '--output-format', 'json'], { env: envB, cwd: project, timeoutMs: 120_000, group: true });
    expect(again.code, again.stderr + again.stdout).toBe(0);
    expect(qwenSessionId(again.stdout)).toBe(id);
    expect(lastSent(mark)).toEqual([
      ['user', 'Remember the word zebracorn.'],
      ['assistant', 'Qwen mock answer.'],
      ['user', 'Which word?'],
      ['assistant', 'Qwen mock answer.'],
      ['user', 'And now?'],
    ]);

    // From another directory on B: roam runs the CLI in the session's own directory (the CLI resumes it only from there).
    const elsewhere = join(scratch, 'elsewhere');
    mkdirSync(elsewhere, { recursive: true });
    mark = chat.requests.length;
    const fromElsewhere = await runRoam(['resume', id, '--', '-p', 'Still there?', '--output-format', 'json'], { env: envB, cwd: elsewhere, timeoutMs: 120_000, group: true });
    expect(fromElsewhere.code, fromElsewhere.stderr + fromElsewhere.stdout).toBe(0);
    expect(qwenSessionId(fromElsewhere.stdout)).toBe(id);
    expect(lastSent(mark).map(([, t]) => t)).toEqual(['Remember the word zebracorn.', 'Qwen mock answer.', 'Which word?', 'Qwen mock answer.', 'And now?', 'Qwen mock answer.', 'Still there?']);
    expect(chat.unknown).toEqual([]);
  }, 300_000);

  it('the project at another path on B (inside each HOME): roam resume, with and without an id, continues A\'s session on B as a new Qwen Code session for B\'s directory, A\'s file untouched, and B\'s turn reaches A', async () => {
    const a = makeDaemon('qwen-pa');
    const b = makeDaemon('qwen-pb');
    for (const d of [a, b]) {
      writeQwenSettings(d.home);
      mkdirSync(join(d.home, '.qwen', 'projects'), { recursive: true });
    }
    // One project, ~/code/app on each device: /…/qwen-pa/home/code/app on A, /…/qwen-pb/home/code/app on B.
    const projectA = join(a.home, 'code', 'app');
    const projectB = join(b.home, 'code', 'app');
    for (const p of [projectA, projectB]) mkdirSync(p, { recursive: true });
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);

    const first = await runQwen({ args: ['-p', 'Remember the word zebracorn.', '--output-format', 'json'], cwd: projectA, home: a.home, baseUrl: chat.baseUrl, timeoutMs: 90_000 });
    expect(first.code, first.stderr).toBe(0);
    const id = qwenSessionId(first.stdout)!;
    const rel = join(qwenProjectKey(projectA), 'chats', `${id}.jsonl`);
    const onA = join(a.home, '.qwen', 'projects', rel);
    const onB = join(b.home, '.qwen', 'projects', rel);
    await until(() => existsSync(onB) && readFileSync(onB, 'utf8') === readFileSync(onA, 'utf8'), { timeoutMs: 30_000, what: "A's session on B" });
    const original = readFileSync(onB);

    // roam resume <id> on B, from B's project: the real CLI sends A's history, in a session whose first record names B's directory.
    const envB = { ...b.env, ...qwenEnv({ home: b.home, baseUrl: chat.baseUrl }), PATH: `${qwenBinDir(join(b.home, 'bin'))}:${process.env.PATH}`, ROAM_HOME: b.roamHome, ROAM_GROUP_KEY: b.env.ROAM_GROUP_KEY };
    let mark = chat.requests.length;
    const resumed = await runRoam(['resume', id, '--', '-p', 'Which word?', '--output-format', 'json'], { env: envB, cwd: projectB, timeoutMs: 120_000, group: true });
    expect(resumed.code, resumed.stderr + resumed.stdout).toBe(0);
    const newId = new RegExp(`continuing ${id} here as a new Qwen Code session ([0-9a-f-]{36})`).exec(resumed.stderr)?.[1];
    expect(newId, resumed.stderr).toBeDefined();
    expect(newId).not.toBe(id);
    expect(qwenSessionId(resumed.stdout)).toBe(newId);
    expect(lastSent(mark)).toEqual([
      ['user', 'Remember the word zebracorn.'],
      ['assistant', 'Qwen mock answer.'],
      ['user', 'Which word?'],
    ]);
    // A's transcript is not rewritten on B; the continuation is B's directory's own file.
    expect(readFileSync(onB).equals(original)).toBe(true);
    const relB = join(qwenProjectKey(projectB), 'chats', `${newId}.jsonl`);
    const copyB = join(b.home, '.qwen', 'projects', relB);
    expect(JSON.parse(readFileSync(copyB, 'utf8').split('\n')[0]!)).toMatchObject({ sessionId: newId, cwd: projectB });

    // B's turn reaches A, as that new session.
    const copyA = join(a.home, '.qwen', 'projects', relB);
    await until(() => existsSync(copyA) && readFileSync(copyA, 'utf8') === readFileSync(copyB, 'utf8') && readFileSync(copyA, 'utf8').includes('Which word?'), { timeoutMs: 30_000, what: "B's turn on A" });
    const onAList = runRoamSync(['list', '--tool', 'qwen', '--all', '--json'], { env: a.env, cwd: projectA, timeoutMs: 60_000 });
    expect(JSON.parse(onAList.stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ id: newId, messages: 4 }), expect.objectContaining({ id, messages: 2 })]));

    // roam resume with no id on B, from B's project: the newest session of the project, the continuation, resumed as it is.
    mark = chat.requests.length;
    const again = await runRoam(['resume', '--', '-p', 'And now?', '--output-format', 'json'], { env: envB, cwd: projectB, timeoutMs: 120_000, group: true });
    expect(again.code, again.stderr + again.stdout).toBe(0);
    expect(qwenSessionId(again.stdout)).toBe(newId);
    expect(lastSent(mark).map(([, t]) => t)).toEqual(['Remember the word zebracorn.', 'Qwen mock answer.', 'Which word?', 'Qwen mock answer.', 'And now?']);
    expect(readFileSync(onB).equals(original)).toBe(true);
    expect(chat.unknown).toEqual([]);
  }, 240_000);

  describe('conversion to and from Claude Code (one HOME)', () => {
    let home: string;
    let project: string;
    let env: NodeJS.ProcessEnv;
    beforeAll(() => {
      home = join(scratch, 'convert-home');
      project = join(home, 'code', 'app');
      mkdirSync(project, { recursive: true });
      writeQwenSettings(home);
      const bin = qwenBinDir(join(scratch, 'convert-bin'));
      symlinkSync(claudeBin(), join(bin, 'claude'));
      const base = claudeEnv({ home, baseUrl: anthropic.url });
      env = { ...qwenEnv({ home, baseUrl: chat.baseUrl }), ...base, PATH: `${bin}:${base.PATH}`, ROAM_HOME: join(home, '.roam') };
    });
    const roam = (args: string[]) => runRoam(args, { env, cwd: project, timeoutMs: 120_000, group: true });

    it('a Claude Code session resumed --in qwen: Qwen Code sends its texts in order, and the Bash call as run_shell_command with its output', async () => {
      const made = await runClaude({ args: ['-p', '--allowedTools', 'Bash', '--', 'Remember the word zebracorn, then check it.'], cwd: project, home, baseUrl: anthropic.url, timeoutMs: 60_000 });
      expect(made.code, made.stderr).toBe(0);
      const dir = join(home, '.claude', 'projects', projectKey(project));
      const name = readdirSync(dir).find((n) => n.endsWith('.jsonl'))!;
      const id = name.slice(0, -'.jsonl'.length);
      const before = readFileSync(join(dir, name));

      const mark = chat.requests.length;
      const r = await roam(['resume', id, '--in', 'qwen', '--', '-p', 'Which word?', '--output-format', 'json']);
      expect(r.code, r.stderr).toBe(0);
      const newId = /converted to Qwen Code session ([0-9a-f-]{36})/.exec(r.stderr)?.[1];
      expect(newId, r.stderr).toBeDefined();
      expect(qwenSessionId(r.stdout)).toBe(newId);
      const sent = chatRequests(chat.requests.slice(mark));
      expect(sent).toHaveLength(1);
      expect(qwenConversation(sent[0]!.body)).toEqual([
        ['user', 'Remember the word zebracorn, then check it.'],
        ['assistant', 'Let me check.'],
        ['assistant', 'The check printed zebracorn-ok.'],
        ['user', 'Which word?'],
      ]);
      const tools = chatTools(sent[0]!);
      expect(tools).toEqual([['call', 'run_shell_command', JSON.stringify({ command: 'echo zebracorn-ok' })], ['tool', expect.any(String), expect.stringContaining('zebracorn-ok')]]);
      expect(readFileSync(join(dir, name)).equals(before)).toBe(true);
      const converted = join(home, '.qwen', 'projects', qwenProjectKey(project), 'chats', `${newId}.jsonl`);
      expect(readFileSync(converted, 'utf8')).toContain('Which word?');
    }, 180_000);

    it('a Qwen Code session resumed --in claude: Claude Code sends its texts in order, and run_shell_command as a Bash call with its output', async () => {
      const made = await runQwen({ args: ['--yolo', '-p', 'Remember the word quokka, then check it.', '--output-format', 'json'], cwd: project, home, baseUrl: chat.baseUrl, timeoutMs: 90_000 });
      expect(made.code, made.stderr).toBe(0);
      const id = qwenSessionId(made.stdout)!;
      const source = join(home, '.qwen', 'projects', qwenProjectKey(project), 'chats', `${id}.jsonl`);
      expect(readFileSync(source, 'utf8')).toContain('quokka-ok');
      const before = readFileSync(source);

      const mark = anthropic.requests.length;
      const r = await roam(['resume', id, '--in', 'claude', '--', '-p', 'Which word?']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('Claude mock answer.');
      const newId = /converted to Claude Code session ([0-9a-f-]{36})/.exec(r.stderr)?.[1];
      expect(newId, r.stderr).toBeDefined();
      const [req] = conversationRequests(anthropic.requests.slice(mark));
      expect(claudeConversation(req!)).toEqual([
        ['user', 'Remember the word quokka, then check it.'],
        ['assistant', 'Let me check.'],
        ['assistant', 'The check printed quokka-ok.'],
        ['user', 'Which word?'],
      ]);
      const { use, result } = firstToolCall(req!);
      expect(use).toMatchObject({ name: 'Bash', input: { command: 'echo quokka-ok' } });
      expect(result).toMatchObject({ tool_use_id: use.id, content: expect.stringContaining('quokka-ok') });
      expect(readFileSync(source).equals(before)).toBe(true);
    }, 180_000);
  });
});
