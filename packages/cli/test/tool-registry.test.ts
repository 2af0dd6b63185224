/**
 * Adding a tool is one folder and one registry line: the made-up tool "notes" lives in one folder
 * (test/fixtures/tools/notes/: its adapter on the shared base, and its Tool), is registered with
 * one call, and from then on `roam list`, `search`, `show`, `resume --dry-run`, the daemon's folders
 * (machine/config.ts) and its activity (daemon/activity.ts) have it, with no other file touched.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultFolders, folderList, toolFolders } from '../src/machine/config.js';
import { sessionOfItem } from '../src/daemon/activity.js';
import { registerTool } from '../src/tools/registry.js';
import type { SessionInfo } from '../src/sessions/types.js';
import { notes } from './fixtures/tools/notes/index.js';
import { roam, useHome } from './support/roam.js';
import { sandbox } from './support/sandbox.js';

const ID = 'note-0001';
let base: string;
let home: string;
let project: string;
let unregister: (() => void) | null = null;

sandbox('roam-tool-registry-', (dir) => {
  base = dir;
  home = join(base, 'home');
  project = join(base, 'code', 'app');
  mkdirSync(project, { recursive: true });
  useHome(home, project);
  delete process.env.NOTES_HOME;
  const sessions = join(home, '.notes', 'sessions');
  mkdirSync(sessions, { recursive: true });
  writeFileSync(join(sessions, `${ID}.jsonl`), [
    { role: 'user', text: 'Plan the Quokkafest release', ts: '2026-05-01T10:00:00.000Z', cwd: project },
    { role: 'assistant', text: 'First the changelog, then the quokkafest banner.', ts: '2026-05-01T10:01:00.000Z' },
  ].map((l) => JSON.stringify(l)).join('\n') + '\n');
});

afterEach(() => {
  unregister?.();
  unregister = null;
});

describe('a tool registered from its own folder', () => {
  it('is unknown before its registry line', async () => {
    expect((await roam('list', '--tool', 'notes')).err).toMatch(/^ROAM_USAGE: unknown tool: notes \(one of claude, codex, gemini, copilot, opencode, kilo, crush, cursor\)/);
    expect(toolFolders().map((f) => f.id)).not.toContain('notes');
  });

  it('shows in roam list, search, show and resume --dry-run', async () => {
    unregister = registerTool(notes);
    const list = await roam('list', '--json');
    expect(list.code).toBe(0);
    expect((JSON.parse(list.out) as SessionInfo[]).map((s) => [s.tool, s.id, s.title, s.cwd])).toEqual([['notes', ID, 'Plan the Quokkafest release', project]]);
    expect((JSON.parse((await roam('list', '--tool', 'notes', '--json')).out) as SessionInfo[]).map((s) => s.id)).toEqual([ID]);

    const search = await roam('search', 'QUOKKAFEST', '--json');
    expect(search.code).toBe(0);
    expect((JSON.parse(search.out) as Array<{ session: SessionInfo; line: number; role: string }>).map((h) => [h.session.id, h.line, h.role])).toEqual([[ID, 1, 'user'], [ID, 2, 'assistant']]);

    const show = await roam('show', 'note-0', '--json');
    expect(show.code).toBe(0);
    expect((JSON.parse(show.out) as Array<{ role: string; text: string }>).map((e) => [e.role, e.text])).toEqual([
      ['user', 'Plan the Quokkafest release'],
      ['assistant', 'First the changelog, then the quokkafest banner.'],
    ]);

    const resume = await roam('resume', ID, '--dry-run');
    expect(resume.code, resume.err).toBe(0);
    expect(JSON.parse(resume.out)).toMatchObject({ cwd: project, command: ['notes', '--continue', ID], session: ID });
    // The latest session of this directory, whichever tool wrote it: this one.
    expect(JSON.parse((await roam('resume', '--dry-run')).out)).toMatchObject({ session: ID });
  });

  it("is one of the daemon's folders, and its log's growth is its session's activity", () => {
    unregister = registerTool(notes);
    const folder = { id: 'notes', path: join(home, '.notes', 'sessions'), conflict: 'fork', logDeletes: 'local' };
    expect(toolFolders()).toContainEqual(folder);
    expect(defaultFolders()).toContainEqual(folder);
    expect(folderList({})).toContainEqual(folder);
    expect(folderList({ exclude: ['notes'] }).map((f) => f.id)).not.toContain('notes');
    process.env.NOTES_HOME = join(base, 'elsewhere');
    expect(toolFolders()).toContainEqual({ ...folder, path: join(base, 'elsewhere', 'sessions') });
    expect(sessionOfItem('notes', folder.path, `${ID}.jsonl`)).toEqual({ tool: 'notes', session: ID, project: null });
    expect(sessionOfItem('notes', folder.path, `sub/${ID}.jsonl`)).toBeNull();
  });

  it('takes no name twice', () => {
    unregister = registerTool(notes);
    expect(() => registerTool(notes)).toThrow(/registered already/);
    expect(() => registerTool({ ...notes, name: 'claude' })).toThrow(/registered already/);
  });
});
