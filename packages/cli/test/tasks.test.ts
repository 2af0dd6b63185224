/**
 * The task folders of Cline, Roo Code and Kilo Code (src/tools/common/tasks.ts), over tasks in the
 * shapes their public sources write (docs/tools/cline.md), made here: the `<task>` wrapper and the
 * `<environment_details>` blocks, native tool calls, `ts` (Roo) or ui_messages.json (Cline) for
 * times, a file that is not a task; the registry entries and their captured-only errors.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isolate, sandbox } from './support/sandbox.js';
import { Notes } from '../src/convert/ir.js';
import { fromTask, parseTask, taskCwd, userText } from '../src/tools/common/tasks.js';
import { cline } from '../src/tools/cline/index.js';
import { roo } from '../src/tools/roo/index.js';
import { parseAider } from '../src/tools/aider/index.js';

let base: string;
sandbox('roam-tasks-', (dir) => {
  base = dir;
  isolate(base, 'code');
  process.env.ROAM_VSCODE_USER_DIR = join(base, 'vscode');
});

const ENV = '<environment_details>\n# Current Working Directory (/work/app) Files\nREADME.md\n</environment_details>';
const TASK = [
  { role: 'user', content: [{ type: 'text', text: '<task>\nFix the build.\n</task>' }, { type: 'text', text: ENV }], ts: 1796698000000 },
  { role: 'assistant', content: [{ type: 'thinking', thinking: 'hmm' }, { type: 'text', text: 'Running it.' }, { type: 'tool_use', id: 't1', name: 'execute_command', input: { command: 'npm run build' } }, { type: 'tool_use', id: 't2', name: 'read_file', input: { path: 'a.ts' } }], ts: 1796698001000 },
  { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'ok' }] }, { type: 'tool_result', tool_use_id: 't2', content: 'x', is_error: true }, { type: 'image', source: {} }], ts: 1796698002000 },
  { role: 'assistant', content: 'Built.', ts: 1796698003000 },
];

describe('Cline-family task folders', () => {
  it('reads the conversation: the prompt unwrapped, environment details left out, calls and outputs in order', () => {
    expect(userText('<task>\nA\nB\n</task>')).toBe('A\nB');
    expect(userText(ENV)).toBeNull();
    expect(userText('plain')).toBe('plain');
    expect(taskCwd(parseTask(JSON.stringify(TASK))!)).toBe('/work/app');
    expect(parseTask('{"not": "an array"}')).toBeNull();
    const notes = new Notes();
    const conv = fromTask('roo', JSON.stringify(TASK), 'id1', notes);
    expect(conv.items.map((i) => (i.type === 'text' ? `${i.role}: ${i.text}` : i.type === 'call' ? `call ${i.name} ${i.shell?.command ?? '-'}` : `result ${i.id}${i.isError ? ' error' : ''}: ${i.text}`))).toEqual([
      'user: Fix the build.', 'assistant: Running it.', 'call execute_command npm run build', 'call read_file -', 'result t1: ok', 'result t2 error: x', 'user: [image not carried over by roam]', 'assistant: Built.',
    ]);
    expect(conv.started).toBe(new Date(1796698000000).toISOString());
    expect(notes.list().map((d) => d.kind).sort()).toEqual(['context', 'image', 'thoughts']);
  });

  it('lists, finds and shows the tasks under VS Code\'s globalStorage; a folder without the api history is no task', async () => {
    const tasks = join(base, 'vscode', 'globalStorage', 'rooveterinaryinc.roo-cline', 'tasks');
    mkdirSync(join(tasks, 'abc'), { recursive: true });
    mkdirSync(join(tasks, 'empty'), { recursive: true });
    writeFileSync(join(tasks, 'abc', 'api_conversation_history.json'), JSON.stringify(TASK));
    expect(roo.sessionsDir!(process.env)).toBe(tasks);
    const a = roo.adapter({ env: process.env, cacheFile: null });
    const [s] = await a.list();
    expect(s).toMatchObject({ tool: 'roo', id: 'abc', cwd: '/work/app', title: 'Fix the build.', messages: 3, lastActivity: new Date(1796698003000).toISOString() });
    expect((await a.list()).length).toBe(1);
    expect((await a.show('abc')).map((e) => [e.role, e.text, e.toolUses.length, e.toolResults.length])).toEqual([
      ['user', 'Fix the build.', 0, 0], ['assistant', 'Running it.', 2, 0], ['user', '', 0, 2], ['assistant', 'Built.', 0, 0],
    ]);
    expect(roo.sessionOfItem('abc/api_conversation_history.json', tasks, () => null)).toEqual({ tool: 'roo', session: 'abc', project: null });
    expect(roo.sessionOfItem('abc/ui_messages.json', tasks, () => null)).toBeNull();
  });

  it('is captured: no resume, fork or new in the extension, and nothing converted into it', () => {
    const a = cline.adapter({ env: process.env, cacheFile: null });
    expect(() => a.resumeCommand('1')).toThrow(/Cline runs inside VS Code, so roam only reads its tasks and cannot resume one there/);
    expect(() => a.forkCommand('1')).toThrow(/cannot fork one/);
    expect(() => cline.format!.write({ tool: 'claude', id: 'x', items: [], started: null, model: null, gitBranch: null }, { id: 'x', cwd: '/', fallbackTime: '' }, new Notes())).toThrow(/captured only/);
    expect(cline.about.does).toEqual(['sync', 'capture', 'convert-from']);
  });

  it('Aider: headings skipped, `#### ` lines the user\'s (one message per run of them), `> ` lines left out, the rest the model\'s', () => {
    const h = parseAider(['# aider chat started at 2026-12-08 03:00:00', '> aider --model x  ', '#### first  ', '#### second  ', 'answer', '', 'more', '> Tokens: 1k  ', '# aider chat started at 2026-12-09 10:00:00', '#### again', 'ok'].join('\n'));
    expect(h.runs).toEqual(['2026-12-08T03:00:00', '2026-12-09T10:00:00']);
    expect(h.messages.map((m) => [m.role, m.text, m.run])).toEqual([
      ['user', 'first\nsecond', '2026-12-08T03:00:00'], ['assistant', 'answer\n\nmore', '2026-12-08T03:00:00'], ['user', 'again', '2026-12-09T10:00:00'], ['assistant', 'ok', '2026-12-09T10:00:00'],
    ]);
  });
});
