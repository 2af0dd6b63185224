/**
 * The Gemini CLI adapter (src/sessions/gemini.ts) over session files generated in a temporary
 * GEMINI home, in the shapes Gemini CLI 0.61.0 writes them (docs/GEMINI.md): metadata lines,
 * messages re-appended with the same id, `$set` updates (also of the whole message list),
 * `$rewindTo`, legacy whole-file `.json` sessions, projects.json slugs and sha256 directories,
 * the stub file a resume in a later minute leaves; and the commands through `roam`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { roam } from './support/roam.js';
import { isolate, sandbox } from './support/sandbox.js';
import { GeminiAdapter, parseGeminiSession, projectHash, slugify } from '../src/tools/gemini/index.js';
import { adaptersFor } from '../src/sessions/index.js';

let base: string;
let home: string;
let project: string;

sandbox('roam-gemini-', (dir) => {
  base = dir;
  home = join(base, 'home');
  project = isolate(base, 'code', 'my app');
  mkdirSync(join(home, '.gemini'), { recursive: true });
});

const adapter = () => new GeminiAdapter({ env: process.env, cacheFile: null });

const ID = '944f3c7b-81c0-4c5b-bfb5-439774683ac9';
const ID2 = '51d257ad-b657-422a-ab7c-6d404044483c';

function context(dir: string): string {
  return `<session_context>\nThis is the Gemini CLI. We are setting up the context for our chat.\n- **Workspace Directories:**\n  - ${dir}\n- **Directory Structure:**\n\n${dir}/\n</session_context>`;
}

/** The lines Gemini CLI 0.61 writes for a prompt, a shell call and two answers (measured shapes). */
function sessionLines(id: string, dir: string, t = '2026-11-21T12:47'): object[] {
  const call = {
    id: 'run_shell_command__1', name: 'run_shell_command', args: { command: 'echo hi', description: 'echo' },
    result: [{ functionResponse: { id: 'run_shell_command__1', name: 'run_shell_command', response: { output: 'Output: hi' } } }],
    status: 'success', timestamp: `${t}:03.000Z`, resultDisplay: 'hi', displayName: 'Shell',
  };
  const g1 = { id: 'g1', timestamp: `${t}:02.000Z`, type: 'gemini', content: 'I will run it.', thoughts: [], model: 'gemini-2.5-flash' };
  return [
    { sessionId: id, projectHash: projectHash(dir), startTime: `${t}:00.000Z`, lastUpdated: `${t}:00.000Z`, kind: 'main' },
    { $set: { messages: [{ id: 'ctx', timestamp: `${t}:00.000Z`, type: 'user', content: [{ text: context(dir) }] }], lastUpdated: `${t}:00.000Z` } },
    { id: 'u1', timestamp: `${t}:01.000Z`, type: 'user', content: [{ text: 'please run the banana check' }] },
    { $set: { lastUpdated: `${t}:01.000Z` } },
    g1,
    { ...g1, toolCalls: [call] },
    { id: 'u1r', timestamp: `${t}:03.000Z`, type: 'user', content: [{ functionResponse: call.result[0]!.functionResponse }] },
    { id: 'g2', timestamp: `${t}:04.000Z`, type: 'gemini', content: 'It printed hi.', thoughts: [{ subject: 'S', description: 'd' }], model: 'gemini-2.5-flash' },
    { $set: { lastUpdated: `${t}:04.000Z` } },
  ];
}

function writeSession(slug: string, name: string, lines: object[]): string {
  const dir = join(home, '.gemini', 'tmp', slug, 'chats');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  return file;
}

function registerProject(path: string, slug: string): void {
  const file = join(home, '.gemini', 'projects.json');
  let projects: Record<string, string> = {};
  try {
    projects = (JSON.parse(readFileSync(file, 'utf8')) as { projects: Record<string, string> }).projects;
  } catch {
    // none yet
  }
  writeFileSync(file, JSON.stringify({ projects: { ...projects, [path]: slug } }));
}

describe('Gemini adapter', () => {
  it('lists a session: id, slug, cwd from its context, title, messages, last activity', async () => {
    const file = writeSession('my-app', `session-2026-11-21T12-47-${ID.slice(0, 8)}.jsonl`, sessionLines(ID, project));
    const a = adapter();
    expect(a.root()).toBe(join(home, '.gemini'));
    const all = await a.list();
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({
      tool: 'gemini', id: ID, file, projectKey: 'my-app', cwd: project, title: 'please run the banana check',
      firstPrompt: 'please run the banana check', lastActivity: '2026-11-21T12:47:04.000Z', messages: 3, messagesExact: true, gitBranch: null,
    });
    expect((await a.find(ID))?.file).toBe(file);
    expect(await a.find(ID.slice(0, 8))).toBeNull();
  });

  it('shows the conversation as the CLI replays it: context as meta, the call with its output, the re-appended record in its first place', async () => {
    writeSession('my-app', `session-2026-11-21T12-47-${ID.slice(0, 8)}.jsonl`, sessionLines(ID, project));
    const entries = await adapter().show(ID);
    expect(entries.map((e) => [e.role, e.text, e.meta ?? false])).toEqual([
      ['user', context(project), true],
      ['user', 'please run the banana check', false],
      ['assistant', 'I will run it.', false],
      ['user', '', false],
      ['assistant', 'It printed hi.', false],
    ]);
    expect(entries[2]!.toolUses).toEqual([{ id: 'run_shell_command__1', name: 'run_shell_command', input: { command: 'echo hi', description: 'echo' } }]);
    expect(entries[3]!.toolResults).toEqual([{ toolUseId: 'run_shell_command__1', text: 'Output: hi', isError: false }]);
    await expect(adapter().show('nope')).rejects.toMatchObject({ code: 'ROAM_SESSION_NOT_FOUND' });
  });

  it('$rewindTo drops that message and the later ones; an unknown id drops all (then it is no session)', async () => {
    const lines = [...sessionLines(ID, project), { $rewindTo: 'g1' }, { id: 'g3', timestamp: '2026-11-21T12:50:00.000Z', type: 'gemini', content: 'after the rewind' }];
    writeSession('my-app', `session-2026-11-21T12-47-${ID.slice(0, 8)}.jsonl`, lines);
    const texts = (await adapter().show(ID)).filter((e) => !e.meta).map((e) => e.text);
    expect(texts).toEqual(['please run the banana check', 'after the rewind']);
    expect(await adapter().search('It printed hi')).toEqual([]);

    writeSession('my-app', `session-2026-11-21T12-47-${ID2.slice(0, 8)}.jsonl`, [...sessionLines(ID2, project), { $rewindTo: 'unknown' }]);
    expect((await adapter().list()).map((s) => s.id)).toEqual([ID]);
  });

  it('a record appended again replaces the earlier one; $set.messages replaces the whole list; $set.summary is the title', async () => {
    const lines = [
      ...sessionLines(ID, project),
      { id: 'u1', timestamp: '2026-11-21T12:47:01.000Z', type: 'user', content: [{ text: 'edited prompt' }] },
      { $set: { summary: 'Checking bananas' } },
    ];
    writeSession('my-app', `session-2026-11-21T12-47-${ID.slice(0, 8)}.jsonl`, lines);
    const [s] = await adapter().list();
    expect(s).toMatchObject({ title: 'Checking bananas', firstPrompt: 'edited prompt' });
    expect((await adapter().show(ID)).filter((e) => !e.meta)[0]!.text).toBe('edited prompt');
    const hits = await adapter().search('bananas');
    expect(hits.map((h) => h.role)).toEqual(['title']);

    const parsed = parseGeminiSession([...lines, { $set: { messages: [{ id: 'x', type: 'user', content: 'compressed history' }] } }].map((l) => JSON.stringify(l)).join('\n'))!;
    expect(parsed.messages.map((m) => m.id)).toEqual(['x']);
  });

  it('reads legacy whole-file .json sessions', async () => {
    const legacy = {
      sessionId: ID2, projectHash: projectHash(project), startTime: '2025-06-01T10:00:00.000Z', lastUpdated: '2025-06-01T10:05:00.000Z',
      messages: [
        { id: 'a', timestamp: '2025-06-01T10:00:00.000Z', type: 'user', content: 'legacy question' },
        { id: 'b', timestamp: '2025-06-01T10:01:00.000Z', type: 'gemini', content: 'legacy answer' },
      ],
    };
    const dir = join(home, '.gemini', 'tmp', projectHash(project), 'chats');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'session-2025-06-01T10-00-51d257ad.json'), JSON.stringify(legacy, null, 2));
    const [s] = await adapter().list({ project });
    expect(s).toMatchObject({ id: ID2, projectKey: projectHash(project), title: 'legacy question', messages: 2, lastActivity: '2025-06-01T10:05:00.000Z' });
    expect((await adapter().show(ID2)).map((e) => e.text)).toEqual(['legacy question', 'legacy answer']);
    const hits = await adapter().search('LEGACY ANSWER');
    expect(hits).toMatchObject([{ role: 'assistant', snippet: 'legacy answer' }]);
  });

  it('scopes by project: the projects.json slug, the old sha256 directory, the recorded directory', async () => {
    const other = join(base, 'code', 'other');
    mkdirSync(other);
    registerProject(project, 'my-app');
    registerProject(other, 'other');
    writeSession('my-app', `session-2026-11-21T12-47-${ID.slice(0, 8)}.jsonl`, sessionLines(ID, project));
    writeSession('other', `session-2026-11-21T12-48-${ID2.slice(0, 8)}.jsonl`, sessionLines(ID2, other, '2026-11-21T12:48'));
    const a = adapter();
    expect(a.projectKey(project)).toBe('my-app');
    expect(a.projectKey(join(base, 'New Dir'))).toBe('new-dir');
    expect(slugify('My App!')).toBe('my-app');
    expect((await a.list()).map((s) => s.id)).toEqual([ID2, ID]);
    expect((await a.list({ project })).map((s) => s.id)).toEqual([ID]);
    expect((await a.list({ project: other })).map((s) => s.id)).toEqual([ID2]);
    expect((await a.search('banana', { project: other })).every((h) => h.session.id === ID2)).toBe(true);
    expect(await a.list({ project: join(base, 'code') })).toEqual([]);
  });

  it('ignores the stub a resume in a later minute leaves (same id, no conversation), sub-agents and non-session files', async () => {
    const file = writeSession('my-app', `session-2026-11-21T12-47-${ID.slice(0, 8)}.jsonl`, sessionLines(ID, project));
    writeSession('my-app', `session-2026-11-21T12-51-${ID.slice(0, 8)}.jsonl`, sessionLines(ID, project, '2026-11-21T12:51').slice(0, 2));
    writeSession('my-app', 'logs.json', [{}]);
    writeSession(join('my-app', 'chats', ID), `${ID2}.jsonl`, [{ ...sessionLines(ID2, project)[0]!, kind: 'subagent' }, ...sessionLines(ID2, project).slice(1)]);
    const all = await adapter().list();
    expect(all.map((s) => s.file)).toEqual([file]);
    expect((await adapter().find(ID))?.file).toBe(file);
  });

  it('GEMINI_CLI_HOME stands for the home directory: sessions are under $GEMINI_CLI_HOME/.gemini', async () => {
    process.env.GEMINI_CLI_HOME = join(base, 'gh');
    expect(adapter().root()).toBe(join(base, 'gh', '.gemini'));
  });

  it('resume, fork (--session-file) and new', async () => {
    const file = writeSession('my-app', `session-2026-11-21T12-47-${ID.slice(0, 8)}.jsonl`, sessionLines(ID, project));
    const a = adapter();
    expect(a.resumeCommand(ID, { cwd: project })).toEqual({ argv: ['gemini', '--resume', ID], cwd: project });
    // The CLI's session cleanup (on by default) deletes a --session-file copy on its next run: no fork then.
    expect(() => a.forkCommand(ID, { cwd: project })).toThrow(/no fork that lasts.*sessionRetention/);
    writeFileSync(join(home, '.gemini', 'settings.json'), JSON.stringify({ general: { sessionRetention: { enabled: false } } }));
    expect(a.forkCommand(ID, { cwd: project })).toEqual({ argv: ['gemini', '--session-file', file], cwd: project });
    expect(() => a.forkCommand(ID2)).toThrow(/no Gemini CLI session/);
    expect(() => a.newCommand('release notes')).toThrow(/gemini cannot name a new session/);
  });

  it('prepareResume registers this directory for the session\'s slug, and refuses to take another project\'s', async () => {
    // The slug's marker names a path that does not exist here (e.g. copied from another device).
    writeSession('app', `session-2026-11-21T12-47-${ID.slice(0, 8)}.jsonl`, sessionLines(ID, '/home/alice/app'));
    writeFileSync(join(home, '.gemini', 'tmp', 'app', '.project_root'), '/home/alice/app');
    const a = adapter();
    const s = (await a.find(ID))!;
    const did = await a.prepareResume(s, project);
    expect(did.join('\n')).toMatch(/registered .*my app as Gemini CLI project "app"/);
    expect(JSON.parse(readFileSync(join(home, '.gemini', 'projects.json'), 'utf8'))).toEqual({ projects: { [project]: 'app' } });
    expect(readFileSync(join(home, '.gemini', 'tmp', 'app', '.project_root'), 'utf8')).toBe(project);
    expect(readFileSync(join(home, '.gemini', 'history', 'app', '.project_root'), 'utf8')).toBe(project);
    expect(did.join('\n')).toMatch(/rewrote .*tmp\/app\/\.project_root, which named \/home\/alice\/app \(a directory that does not exist here\)/);
    expect(await a.prepareResume(s, project)).toEqual([]); // done already
    expect((await a.list({ project })).map((x) => x.id)).toEqual([ID]);

    // This directory belongs to another slug here: refused, nothing changed.
    const other = join(base, 'code', 'other');
    mkdirSync(other);
    registerProject(other, 'other');
    await expect(a.prepareResume(s, other)).rejects.toMatchObject({ code: 'ROAM_USAGE', message: expect.stringMatching(/under its project "other"/) });
    // The slug belongs to another existing directory here: refused.
    const third = join(base, 'code', 'third');
    mkdirSync(third);
    await expect(a.prepareResume(s, third)).rejects.toMatchObject({ code: 'ROAM_USAGE', message: expect.stringMatching(/belongs to .*my app/) });
    expect(JSON.parse(readFileSync(join(home, '.gemini', 'projects.json'), 'utf8')).projects).toEqual({ [project]: 'app', [other]: 'other' });
  });

  it('through roam: list --tool gemini --json, search, show', async () => {
    registerProject(project, 'my-app');
    writeSession('my-app', `session-2026-11-21T12-47-${ID.slice(0, 8)}.jsonl`, sessionLines(ID, project));
    const list = await roam('list', '--tool', 'gemini', '--json');
    expect(list.code).toBe(0);
    expect(JSON.parse(list.out)).toMatchObject([{ tool: 'gemini', id: ID, title: 'please run the banana check' }]);
    expect(adaptersFor('gemini').map((x) => x.tool)).toEqual(['gemini']);
    const search = await roam('search', 'banana', '--tool', 'gemini', '--json');
    expect(search.code).toBe(0);
    expect(search.out).toContain(ID);
    const show = await roam('show', ID);
    expect(show.code).toBe(0);
    expect(show.out).toContain('It printed hi.');
  });
});
