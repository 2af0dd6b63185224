/**
 * The Copilot CLI adapter (src/sessions/copilot.ts) on generated session directories shaped as
 * Copilot CLI 1.0.102 writes them (fixtures/copilot-lines.ts), directly and through the commands
 * (`roam list --tool copilot`, `search`, `show`, `resume --dry-run`), with COPILOT_HOME, HOME and
 * ROAM_HOME in temporary directories.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { roam } from './support/roam.js';
import { isolate, sandbox } from './support/sandbox.js';
import { CopilotAdapter, copilotTranscript, parseWorkspaceYaml, yamlScalar } from '../src/tools/copilot/index.js';
import { adaptersFor } from '../src/sessions/index.js';
import { CopilotSession } from './fixtures/copilot-lines.js';

const A = 'aaaaaaaa-1111-4222-8333-444444444444';
const B = 'bbbbbbbb-1111-4222-8333-444444444444';

let base: string;
let copilotHome: string;
let project: string;

sandbox('roam-copilot-', (dir) => {
  base = dir;
  copilotHome = join(base, 'copilot');
  project = isolate(base, 'code', 'app');
});

const adapter = () => new CopilotAdapter({ env: process.env, cacheFile: null });

/** Session A in `project`: a question, a bash call and its output, an answer; session B elsewhere, later. */
function twoSessions(): { a: CopilotSession; b: CopilotSession } {
  const a = new CopilotSession(A, project, 'main')
    .user('Find the zebracorn config')
    .assistant('Looking.', [{ toolCallId: 'call_1', name: 'bash', arguments: { command: 'grep -r zebracorn .', description: 'search' } }])
    .tool('call_1', 'bash', { command: 'grep -r zebracorn .' }, './app.conf: zebracorn=1')
    .assistant('It is in app.conf.');
  a.write(copilotHome);
  const b = new CopilotSession(B, '/srv/other', null).user('Something else entirely').assistant('Sure.');
  // B's events are later than A's.
  for (const l of b.lines) l.timestamp = l.timestamp.replace('2026-01-03', '2026-01-04');
  b.write(copilotHome, { name: 'My named session', user_named: 'true' });
  return { a, b };
}

describe('Copilot CLI adapter', () => {
  it('root is COPILOT_HOME itself, else ~/.copilot; projectKey is the path', () => {
    expect(adapter().root()).toBe(copilotHome);
    expect(new CopilotAdapter({ env: { HOME: '/home/x' }, cacheFile: null }).root()).toBe('/home/x/.copilot');
    expect(adapter().projectKey('/a/b')).toBe('/a/b');
    expect(adaptersFor('copilot', { env: process.env, cacheFile: null }).map((x) => x.tool)).toEqual(['copilot']);
  });

  it('lists sessions newest first with what events.jsonl and workspace.yaml say', async () => {
    twoSessions();
    const all = await adapter().list();
    expect(all.map((s) => s.id)).toEqual([B, A]);
    expect(all[1]).toMatchObject({
      tool: 'copilot', id: A, file: join(copilotHome, 'session-state', A, 'events.jsonl'), projectKey: project, cwd: project,
      title: 'Find the zebracorn config', firstPrompt: 'Find the zebracorn config', gitBranch: 'main', messages: 3, messagesExact: true,
    });
    // A name the user gave (workspace.yaml user_named: true) is the title.
    expect(all[0]).toMatchObject({ id: B, title: 'My named session', firstPrompt: 'Something else entirely', cwd: '/srv/other', messages: 2, gitBranch: null });
    expect(all[0]!.lastActivity > all[1]!.lastActivity).toBe(true);
    expect((await adapter().list({ project })).map((s) => s.id)).toEqual([A]);
    expect(await adapter().list({ limit: 1 })).toHaveLength(1);
    expect((await adapter().find(A))?.id).toBe(A);
    expect(await adapter().find('nope')).toBeNull();
    expect(await adapter().find('../x')).toBeNull();
  });

  it('a resume elsewhere moves cwd but not the project; directories without events.jsonl, dot-dirs and lock files are not sessions', async () => {
    const a = new CopilotSession(A, project).user('first').assistant('ok').resume('/elsewhere/b').user('second').assistant('ok again');
    a.write(copilotHome, null);
    mkdirSync(join(copilotHome, 'session-state', 'empty-dir'), { recursive: true });
    mkdirSync(join(copilotHome, 'session-state', '.session-operation-locks'), { recursive: true });
    writeFileSync(join(copilotHome, 'session-state', '.session-operation-locks', `${A}.lock`), '');
    const [s, ...rest] = await adapter().list();
    expect(rest).toEqual([]);
    expect(s).toMatchObject({ id: A, projectKey: project, cwd: '/elsewhere/b', messages: 4, title: 'first' });
    expect((await adapter().list({ project: '/elsewhere/b' })).map((x) => x.id)).toEqual([A]);
  });

  it('a cd inside the session (session.context_changed: the context is its data) moves cwd and branch', async () => {
    const a = new CopilotSession(A, project, 'main').user('first').assistant('ok');
    a.event('session.context_changed', { cwd: '/elsewhere/c', gitRoot: '/elsewhere', branch: 'feature' });
    a.user('second').assistant('ok again').write(copilotHome, null);
    const [s] = await adapter().list();
    expect(s).toMatchObject({ id: A, projectKey: project, cwd: '/elsewhere/c', gitBranch: 'feature' });
  });

  it('skips blank, malformed and foreign lines, and a torn last line', async () => {
    const a = new CopilotSession(A, project).user('hello there').assistant('hi');
    a.write(copilotHome, {}, '\n   \nnot json\n[1,2]\n{"no":"type"}\n{"type":"user.message","data":{"content":"torn');
    const [s] = await adapter().list();
    expect(s).toMatchObject({ id: A, messages: 2, firstPrompt: 'hello there' });
    expect((await adapter().show(A)).map((e) => [e.role, e.text])).toEqual([['user', 'hello there'], ['assistant', 'hi']]);
  });

  it('show: the conversation with tool calls and results; sub-agents left out; a rewind removes events; compaction as a hidden note', () => {
    const s = new CopilotSession(A, project).user('Find it').assistant('Looking.', [{ toolCallId: 'c1', name: 'bash', arguments: { command: 'ls' } }]);
    s.event('assistant.message', { messageId: 'x', content: 'sub-agent talk', parentToolCallId: 'c9' });
    s.event('user.message', { content: 'sub-agent prompt' }, { agentId: 'agent-1' });
    s.tool('c1', 'bash', { command: 'ls' }, 'permission denied', false);
    s.assistant('Done.');
    const gone = s.event('user.message', { content: 'rewound away' });
    s.assistant('never mind');
    s.event('session.snapshot_rewind', { upToEventId: gone, eventsRemoved: 3 });
    s.event('session.compaction_complete', { success: true, summaryContent: 'We looked for it.' });
    s.user('After compaction').assistant('Yes.');
    const t = copilotTranscript(s.text());
    expect(t.map((e) => [e.role, e.text, e.meta ?? false])).toEqual([
      ['user', 'Find it', false],
      ['assistant', 'Looking.', false],
      ['user', '', false],
      ['assistant', 'Done.', false],
      ['user', '[compacted] We looked for it.', true],
      ['user', 'After compaction', false],
      ['assistant', 'Yes.', false],
    ]);
    expect(t[1]!.toolUses).toEqual([{ id: 'c1', name: 'bash', input: { command: 'ls' } }]);
    expect(t[2]!.toolResults).toEqual([{ toolUseId: 'c1', text: 'permission denied', isError: true }]);
  });

  it('searches user and assistant text (not tool output), case-insensitively, with line numbers', async () => {
    twoSessions();
    const hits = await adapter().search('ZEBRACORN');
    expect(hits.map((h) => [h.session.id, h.role, h.snippet])).toEqual([
      [A, 'user', 'Find the zebracorn config'],
    ]);
    expect(hits[0]!.line).toBe(2);
    expect((await adapter().search('app.conf')).map((h) => h.role)).toEqual(['assistant']);
    expect(await adapter().search('zebracorn', { project: '/srv/other' })).toEqual([]);
    await expect(adapter().search('')).rejects.toMatchObject({ code: 'ROAM_USAGE' });
  });

  it('resume, fork and new commands', () => {
    const a = adapter();
    expect(a.resumeCommand(A, { cwd: project })).toEqual({ argv: ['copilot', '--resume', A, '-C', project], cwd: project });
    expect(a.newCommand('my work')).toEqual({ argv: ['copilot', '--name', 'my work'] });
    expect(() => a.forkCommand(A)).toThrow(/copilot cannot fork a session from the command line: run `copilot --resume .*` and type \/fork/);
  });

  it('through the commands: list --tool copilot --json, show, search, resume --dry-run', async () => {
    twoSessions();
    const listed = await roam('list', '--tool', 'copilot', '--all', '--json');
    expect(listed.code, listed.err).toBe(0);
    expect((JSON.parse(listed.out) as Array<{ id: string; tool: string }>).map((s) => [s.tool, s.id])).toEqual([['copilot', B], ['copilot', A]]);
    const shown = await roam('show', A.slice(0, 8));
    expect(shown.code, shown.err).toBe(0);
    expect(shown.out).toContain('Find the zebracorn config');
    expect(shown.out).toContain('./app.conf: zebracorn=1');
    const found = await roam('search', 'zebracorn', '--tool', 'copilot', '--json');
    expect(found.code, found.err).toBe(0);
    expect(found.out).toContain(A);
    const dry = await roam('resume', A, '--dry-run');
    expect(dry.code, dry.err).toBe(0);
    expect(JSON.parse(dry.out)).toMatchObject({ cwd: project, command: ['copilot', '--resume', A, '-C', project], session: A });
  });

  it('the metadata cache follows the file: an appended turn is counted', async () => {
    const a = new CopilotSession(A, project).user('one').assistant('two');
    const file = a.write(copilotHome);
    const cached = new CopilotAdapter({ env: process.env, cacheFile: join(base, 'cache.json') });
    expect((await cached.list())[0]!.messages).toBe(2);
    appendFileSync(file, `${JSON.stringify({ type: 'user.message', data: { content: 'three' }, id: 'z', timestamp: '2026-02-01T00:00:00.000Z', parentId: null })}\n`);
    expect((await cached.list())[0]).toMatchObject({ messages: 3, lastActivity: '2026-02-01T00:00:00.000Z' });
  });
});

describe('workspace.yaml', () => {
  it('parses the scalars the CLI writes, and yamlScalar round-trips', () => {
    expect(parseWorkspaceYaml('id: x\ncwd: /a b/c\nname: "quoted: yes"\nsummary: \'it\'\'s\'\nuser_named: false\nempty:\nnested:\n  k: v\nlong: |\n  line one\n  line two\n')).toEqual({
      id: 'x', cwd: '/a b/c', name: 'quoted: yes', summary: "it's", user_named: 'false', long: 'line one\nline two',
    });
    for (const s of ['/home/dev/app', 'a: b', 'true', '123', ' lead', 'trail ', 'quote"s', 'new\nline', 'plain words']) {
      expect(parseWorkspaceYaml(`k: ${yamlScalar(s)}\n`).k).toBe(s);
    }
  });
});
