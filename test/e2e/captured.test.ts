/**
 * Captured tools end to end: the task folders of the Cline, Roo Code and Kilo Code VS Code
 * extensions (tools/common/tasks.ts), which cannot run here, written on A in the format their
 * public sources write (docs/tools/cline.md; the tasks below are made for this test), reach B
 * through two real roamd daemons (each extension's `globalStorage/<id>/tasks` folder); on B,
 * `roam list --tool`, `search` and `show` read them, and `roam resume <id> --in claude` makes the
 * real Claude Code send their texts, in order, to the Anthropic mock. `roam resume <id>` alone says
 * the tool is captured.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runRoam, runRoamSync } from '../harness/cli.js';
import { until } from '../../packages/core/test/support/poll.js';
import { claudeBin, claudeEnv } from '../support/claude.js';
import { makeDaemon, stopAll } from '../support/daemons.js';
import { claudeConversation, conversationRequests, startMockAnthropic, type MockAnthropic } from '../support/mock-anthropic.js';

let anthropic: MockAnthropic;
let scratch: string;

beforeAll(async () => {
  anthropic = await startMockAnthropic({ text: 'Claude mock answer.' });
  scratch = realpathSync(mkdtempSync(join(tmpdir(), 'roam-captured-e2e-')));
});
afterAll(async () => {
  await anthropic.close();
  rmSync(scratch, { recursive: true, force: true });
});
afterEach(stopAll);

const env = (dir: string) => `<environment_details>\n# VSCode Visible Files\n(No visible files)\n\n# Current Time\n12/8/2026, 3:00:00 AM (UTC)\n\n# Current Working Directory (${dir}) Files\nREADME.md\n</environment_details>`;

/** A Cline task (3.x: no `ts` in the api history; ui_messages.json holds the times). */
function clineTask(dir: string): { api: unknown[]; ui: unknown[] } {
  return {
    api: [
      { role: 'user', content: [{ type: 'text', text: '<task>\nRemember the word zebracorn.\n</task>' }, { type: 'text', text: env(dir) }] },
      { role: 'assistant', content: [{ type: 'text', text: 'I will remember zebracorn.' }] },
      { role: 'user', content: [{ type: 'text', text: 'And the colour teal.' }, { type: 'text', text: env(dir) }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Noted: teal.' }] },
    ],
    ui: [{ ts: 1796698000000, type: 'say', say: 'task', text: 'Remember the word zebracorn.' }, { ts: 1796698060000, type: 'say', say: 'text', text: 'Noted: teal.' }],
  };
}

/** A Roo Code / Kilo Code task: `ts` on each message, a native execute_command call and its result. */
function rooTask(dir: string, word: string): unknown[] {
  const t = 1796698000000;
  return [
    { role: 'user', content: [{ type: 'text', text: `<task>\nRemember the word ${word}, then check it.\n</task>` }, { type: 'text', text: env(dir) }], ts: t },
    { role: 'assistant', content: [{ type: 'text', text: 'Let me check.' }, { type: 'tool_use', id: 'toolu_01', name: 'execute_command', input: { command: `echo ${word}-ok` } }], ts: t + 1000 },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01', content: `${word}-ok` }, { type: 'text', text: env(dir) }], ts: t + 2000 },
    { role: 'assistant', content: [{ type: 'text', text: `The check printed ${word}-ok.` }], ts: t + 3000 },
  ];
}

describe('captured tools: Cline, Roo Code, Kilo Code task folders', () => {
  it('reach B; B lists, searches and shows them, and roam resume --in claude sends their texts in order', async () => {
    const a = makeDaemon('tasks-a');
    const b = makeDaemon('tasks-b');
    const project = join(scratch, 'srv', 'app');
    mkdirSync(project, { recursive: true });
    const storage = (home: string, ext: string) => join(home, '.config', 'Code', 'User', 'globalStorage', ext, 'tasks');
    const tasks = [
      { tool: 'cline', ext: 'saoudrizwan.claude-dev', id: '1796698000000', files: { 'api_conversation_history.json': clineTask(project).api, 'ui_messages.json': clineTask(project).ui } },
      { tool: 'roo', ext: 'rooveterinaryinc.roo-cline', id: '0b1c2d3e-4f50-4617-8283-94a5b6c7d8e9', files: { 'api_conversation_history.json': rooTask(project, 'quokka') } },
      { tool: 'kilocode', ext: 'kilocode.kilo-code', id: '5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d', files: { 'api_conversation_history.json': rooTask(project, 'axolotl') } },
    ];
    for (const t of tasks) {
      mkdirSync(join(storage(a.home, t.ext), t.id), { recursive: true });
      for (const [name, v] of Object.entries(t.files)) writeFileSync(join(storage(a.home, t.ext), t.id, name), JSON.stringify(v));
    }
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);
    for (const t of tasks) {
      const onB = join(storage(b.home, t.ext), t.id, 'api_conversation_history.json');
      await until(() => existsSync(onB) && readFileSync(onB, 'utf8') === JSON.stringify(t.files['api_conversation_history.json']), { timeoutMs: 30_000, what: `A's ${t.tool} task on B` });
    }

    const roamB = (args: string[]) => runRoamSync(args, { env: b.env, cwd: project, timeoutMs: 60_000 });
    const listed = roamB(['list', '--all', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as Array<{ tool: string; id: string; cwd: string; title: string }>).map((s) => [s.tool, s.id, s.cwd, s.title]).sort()).toEqual([
      ['cline', '1796698000000', project, 'Remember the word zebracorn.'],
      ['kilocode', tasks[2]!.id, project, 'Remember the word axolotl, then check it.'],
      ['roo', tasks[1]!.id, project, 'Remember the word quokka, then check it.'],
    ]);
    const cline = JSON.parse(roamB(['list', '--tool', 'cline', '--json']).stdout) as Array<{ lastActivity: string; messages: number }>;
    expect(cline).toEqual([expect.objectContaining({ lastActivity: new Date(1796698060000).toISOString(), messages: 4 })]);
    const found = roamB(['search', 'teal', '--json']);
    expect(found.code, found.stderr).toBe(0);
    expect((JSON.parse(found.stdout) as Array<{ session: { tool: string; id: string }; role: string; snippet: string }>).map((h) => [h.session.tool, h.session.id, h.role, h.snippet])).toEqual([
      ['cline', '1796698000000', 'user', 'And the colour teal.'],
      ['cline', '1796698000000', 'assistant', 'Noted: teal.'],
    ]);
    const shown = roamB(['show', tasks[1]!.id]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('Remember the word quokka, then check it.');
    expect(shown.stdout).toContain('The check printed quokka-ok.');
    expect(shown.stdout).not.toContain('environment_details');

    // roam export and roam share read it too (a bundle of its api history).
    const exported = roamB(['export', tasks[2]!.id, '--format', 'json']);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toContain('The check printed axolotl-ok.');
    const bundle = join(scratch, 'cline.json.gz');
    const shared = roamB(['share', '1796698000000', '--out', bundle, '--json']);
    expect(shared.code, shared.stderr).toBe(0);
    expect(existsSync(bundle)).toBe(true);

    // roam resume alone: captured, not resumable in the extension.
    const alone = roamB(['resume', '1796698000000', '--dry-run']);
    expect(alone.code).toBe(2); // a usage error: the tool cannot resume it
    expect(alone.stderr).toContain('Cline runs inside VS Code, so roam only reads its tasks');

    // roam resume --in claude on B: Claude Code sends each task's texts in order.
    const bin = join(b.home, 'bin');
    mkdirSync(bin, { recursive: true });
    symlinkSync(claudeBin(), join(bin, 'claude'));
    const base = claudeEnv({ home: b.home, baseUrl: anthropic.url });
    const envB = { ...base, PATH: `${bin}:${base.PATH}`, ROAM_HOME: b.roamHome, ROAM_GROUP_KEY: b.env.ROAM_GROUP_KEY };
    const expected: Record<string, Array<[string, string]>> = {
      cline: [['user', 'Remember the word zebracorn.'], ['assistant', 'I will remember zebracorn.'], ['user', 'And the colour teal.'], ['assistant', 'Noted: teal.']],
      roo: [['user', 'Remember the word quokka, then check it.'], ['assistant', 'Let me check.'], ['assistant', 'The check printed quokka-ok.']],
      kilocode: [['user', 'Remember the word axolotl, then check it.'], ['assistant', 'Let me check.'], ['assistant', 'The check printed axolotl-ok.']],
    };
    for (const t of tasks) {
      const mark = anthropic.requests.length;
      const r = await runRoam(['resume', t.id, '--in', 'claude', '--', '-p', 'Which word?'], { env: envB, cwd: project, timeoutMs: 120_000, group: true });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('Claude mock answer.');
      expect(r.stderr).toMatch(/converted to Claude Code session [0-9a-f-]{36}/);
      const [req] = conversationRequests(anthropic.requests.slice(mark));
      expect(claudeConversation(req!), t.tool).toEqual([...expected[t.tool]!, ['user', 'Which word?']]);
      if (t.tool !== 'cline') {
        const msgs = req!.body.messages as Array<{ role: string; content: Array<Record<string, any>> }>;
        const use = msgs.flatMap((m) => (Array.isArray(m.content) ? m.content : [])).find((x) => x.type === 'tool_use');
        expect(use, t.tool).toMatchObject({ name: 'Bash', input: { command: t.tool === 'roo' ? 'echo quokka-ok' : 'echo axolotl-ok' } });
      }
    }
  }, 240_000);

  it('Aider: a project\'s .aider.chat.history.md, in a folder both devices sync, is listed, searched and shown on B, and roam resume --in claude sends its texts in order', async () => {
    const a = makeDaemon('aider-a');
    const b = makeDaemon('aider-b');
    // The projects folder each device syncs (config.json), at its own path; the history as Aider writes it.
    for (const d of [a, b]) {
      mkdirSync(join(d.home, 'projects'), { recursive: true });
      mkdirSync(d.roamHome, { recursive: true, mode: 0o700 });
      writeFileSync(join(d.roamHome, 'config.json'), JSON.stringify({ folders: [{ id: 'projects', path: join(d.home, 'projects') }] }));
    }
    const history = [
      '', '# aider chat started at 2026-12-08 03:00:00', '',
      '> /usr/local/bin/aider --model gpt-4o  ', '> Aider v0.86.2  ', '',
      '#### Remember the word zebracorn.  ', '',
      'I will remember zebracorn.', '',
      '#### And the colour  ', '#### teal.  ', '',
      'Noted: zebracorn and teal.', '',
      '> Tokens: 1.2k sent, 20 received.  ', '',
    ].join('\n');
    mkdirSync(join(a.home, 'projects', 'app'), { recursive: true });
    writeFileSync(join(a.home, 'projects', 'app', '.aider.chat.history.md'), history);
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);
    const onB = join(b.home, 'projects', 'app', '.aider.chat.history.md');
    await until(() => existsSync(onB) && readFileSync(onB, 'utf8') === history, { timeoutMs: 30_000, what: "A's Aider history on B" });

    const projectB = join(b.home, 'projects', 'app');
    const roamB = (args: string[]) => runRoamSync(args, { env: b.env, cwd: projectB, timeoutMs: 60_000 });
    const listed = roamB(['list', '--tool', 'aider', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ tool: 'aider', id: 'aider-20261208T030000', cwd: projectB, title: 'Remember the word zebracorn.', messages: 4 })]);
    const found = roamB(['search', 'teal', '--tool', 'aider', '--json']);
    expect((JSON.parse(found.stdout) as Array<{ role: string; snippet: string }>).map((h) => [h.role, h.snippet])).toEqual([['user', 'And the colour teal.'], ['assistant', 'Noted: zebracorn and teal.']]);
    const shown = roamB(['show', 'aider-20261208T030000']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).not.toContain('Tokens:');

    const bin = join(b.home, 'bin');
    mkdirSync(bin, { recursive: true });
    symlinkSync(claudeBin(), join(bin, 'claude'));
    const base = claudeEnv({ home: b.home, baseUrl: anthropic.url });
    const mark = anthropic.requests.length;
    const r = await runRoam(['resume', 'aider-20261208T030000', '--in', 'claude', '--', '-p', 'Which word?'], { env: { ...base, PATH: `${bin}:${base.PATH}`, ROAM_HOME: b.roamHome, ROAM_GROUP_KEY: b.env.ROAM_GROUP_KEY }, cwd: projectB, timeoutMs: 120_000, group: true });
    expect(r.code, r.stderr).toBe(0);
    const [req] = conversationRequests(anthropic.requests.slice(mark));
    expect(claudeConversation(req!)).toEqual([
      ['user', 'Remember the word zebracorn.'], ['assistant', 'I will remember zebracorn.'], ['user', 'And the colour\nteal.'], ['assistant', 'Noted: zebracorn and teal.'], ['user', 'Which word?'],
    ]);
  }, 180_000);
});
