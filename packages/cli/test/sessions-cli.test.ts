/**
 * `roam list`, `search`, `show`, `new`, `fork` through the command table (run() of main.ts), with
 * HOME, CLAUDE_CONFIG_DIR and ROAM_HOME in temporary directories.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run, type Io } from '../src/main.js';
import { list } from '../src/commands/list.js';
import { ToolExit } from '../src/sessions/exec.js';
import { projectKey } from '../src/sessions/claude.js';
import type { SessionInfo } from '../src/sessions/types.js';
import { Session } from './fixtures/claude-lines.js';

let base: string;
let project: string; // a real directory: the current directory of the tests
let projects: string; // CLAUDE_CONFIG_DIR/projects
const saved = { env: { ...process.env }, cwd: process.cwd() };

const ID_A = 'aaaa1111-0000-4000-8000-000000000001';
const ID_B = 'aaaa2222-0000-4000-8000-000000000002';
const ID_C = 'cccc3333-0000-4000-8000-000000000003';

beforeEach(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'roam-sessions-cli-')));
  project = join(base, 'code', 'my_app.v2');
  mkdirSync(project, { recursive: true });
  projects = join(base, 'claude', 'projects');
  process.env.HOME = join(base, 'home');
  process.env.CLAUDE_CONFIG_DIR = join(base, 'claude');
  process.env.ROAM_HOME = join(base, 'roam');
  process.chdir(project);

  const here = join(projects, projectKey(project));
  const a = new Session(ID_A, project);
  a.user('Fix the login bug');
  a.assistant([{ type: 'text', text: 'Looking at the Zebracorn auth module.' }]);
  a.lines.forEach((l, i) => typeof l.timestamp === 'string' && (l.timestamp = `2026-01-0${1 + (i % 2)}T10:00:00.000Z`));
  a.write(join(here, `${ID_A}.jsonl`));
  const b = new Session(ID_B, project);
  b.user('Write the release notes');
  b.customTitle('Release notes');
  b.lines[0]!.timestamp = '2026-02-01T10:00:00.000Z';
  b.write(join(here, `${ID_B}.jsonl`));
  const c = new Session(ID_C, '/somewhere/else');
  c.user('Other project, zebracorn too');
  c.lines[0]!.timestamp = '2026-03-01T10:00:00.000Z';
  c.write(join(projects, '-somewhere-else', `${ID_C}.jsonl`));
});

afterEach(() => {
  process.chdir(saved.cwd);
  for (const k of Object.keys(process.env)) if (!(k in saved.env)) delete process.env[k];
  Object.assign(process.env, saved.env);
  rmSync(base, { recursive: true, force: true });
});

async function roam(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (l) => out.push(l), err: (l) => err.push(l) };
  const code = await run('roam', args, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('roam list', () => {
  it("--json: the current directory's sessions, newest first; --all: every project", async () => {
    const r = await roam('list', '--json');
    expect(r.code).toBe(0);
    const here = JSON.parse(r.out) as SessionInfo[];
    expect(here.map((s) => s.id)).toEqual([ID_B, ID_A]);
    expect(here[0]).toMatchObject({ tool: 'claude', title: 'Release notes', firstPrompt: 'Write the release notes', cwd: project, messages: 1, messagesExact: true, projectKey: '-' + project.slice(1).replace(/[^a-zA-Z0-9]/g, '-') });
    expect(here[1]).toMatchObject({ title: 'Fix the login bug', messages: 2, lastActivity: '2026-01-02T10:00:00.000Z' });
    const all = JSON.parse((await roam('list', '--json', '--all')).out) as SessionInfo[];
    expect(all.map((s) => s.id)).toEqual([ID_C, ID_B, ID_A]);
    expect(JSON.parse((await roam('list', '--json', '--all', '--limit', '1')).out)).toHaveLength(1);
    expect(existsSync(join(base, 'roam', 'state', 'sessions-cache.json'))).toBe(true);
    // warm: the same answer from the cache
    expect(JSON.parse((await roam('list', '--json', '--all')).out)).toEqual(all);
  });

  it('prints a table when not on a terminal', async () => {
    const out: string[] = [];
    await list({ all: true }, { out: (l) => out.push(l), err: () => {} }, { interactive: false, now: Date.parse('2026-03-01T12:00:00.000Z') });
    expect(out).toHaveLength(3);
    expect(out[0]).toMatch(new RegExp(`^${ID_C}  2 h ago\\s+1  /somewhere/else\\s+Other project, zebracorn too$`));
    expect(out[2]).toMatch(/^aaaa1111-\S+ {2}\d+ d ago\s+2 {2}.*Fix the login bug$/);
  });

  it('on a terminal: the picker resumes the picked session, and roam exits with the tool\'s code', async () => {
    const offered: string[] = [];
    let resumed: string | null = null;
    const err = await list({}, { out: () => {}, err: () => {} }, {
      interactive: true,
      pick: async (sessions) => {
        offered.push(...sessions.map((s) => s.id));
        return sessions[1]!;
      },
      resume: async (s) => {
        resumed = s.id;
        return 3;
      },
    }).catch((e: unknown) => e);
    expect(offered).toEqual([ID_B, ID_A]);
    expect(resumed).toBe(ID_A);
    expect(err).toBeInstanceOf(ToolExit);
    expect((err as ToolExit).code).toBe(3);
  });

  it('says so when the directory has no sessions, and refuses unknown tools', async () => {
    process.chdir(base);
    expect((await roam('list')).out).toMatch(/^no sessions in /);
    expect(JSON.parse((await roam('list', '--json')).out)).toEqual([]);
    const gemini = await roam('list', '--tool', 'gemini');
    expect(gemini.code).toBe(0);
    expect(gemini.out).toMatch(/^no sessions in /);
    expect((await roam('list', '--tool', 'vim')).err).toMatch(/^ROAM_USAGE: unknown tool: vim/);
    expect((await roam('list', '--limit', 'many')).code).toBe(2);
  });
});

describe('roam search', () => {
  it('finds text across projects, newest session first', async () => {
    const r = await roam('search', 'ZEBRACORN', '--json');
    expect(r.code).toBe(0);
    const hits = JSON.parse(r.out) as { session: SessionInfo; line: number; role: string; snippet: string }[];
    expect(hits.map((h) => [h.session.id, h.line, h.role])).toEqual([[ID_C, 1, 'user'], [ID_A, 2, 'assistant']]);
    expect(hits[1]!.snippet).toBe('Looking at the Zebracorn auth module.');
    const text = await roam('search', 'zebracorn');
    expect(text.out.split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^${ID_C}  .*Other project, zebracorn too  \\[/somewhere/else\\]$`)),
      '       1 user      Other project, zebracorn too',
      expect.stringMatching(new RegExp(`^${ID_A}  .*Fix the login bug  \\[${project}\\]$`)),
      '       2 assistant Looking at the Zebracorn auth module.',
    ]);
    const one = await roam('search', 'zebracorn', '--limit', '1');
    expect(one.out).toContain('more hits not shown');
    expect((await roam('search', 'no such words')).out).toBe('no session mentions "no such words"');
  });
});

describe('roam show', () => {
  it('prints markdown, or JSON entries, by id or unique prefix', async () => {
    const md = await roam('show', ID_A);
    expect(md.code).toBe(0);
    expect(md.out).toContain('# Fix the login bug');
    expect(md.out).toContain('## User\n\nFix the login bug\n\n## Assistant\n\nLooking at the Zebracorn auth module.');
    const json = await roam('show', 'cccc', '--json');
    expect(JSON.parse(json.out)).toEqual([expect.objectContaining({ role: 'user', text: 'Other project, zebracorn too', toolUses: [], toolResults: [] })]);
  });

  it('unknown id: ROAM_SESSION_NOT_FOUND (exit 1); ambiguous prefix: ROAM_USAGE with the candidates (exit 2)', async () => {
    const none = await roam('show', 'ffff');
    expect(none.code).toBe(1);
    expect(none.err).toBe('ROAM_SESSION_NOT_FOUND: no session ffff');
    const both = await roam('show', 'aaaa');
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/^ROAM_USAGE: 2 sessions start with aaaa: /);
    expect(both.err).toContain(ID_A);
    expect(both.err).toContain(ID_B);
  });
});

describe('roam new and roam fork', () => {
  it('new --dry-run: claude --name <name> in the current directory', async () => {
    const r = await roam('new', 'payments refactor', '--dry-run');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ cwd: project, command: ['claude', '--name', 'payments refactor'] });
  });

  it("fork --dry-run: the tool's own fork of a session, or of this directory's latest", async () => {
    const latest = await roam('fork', '--dry-run');
    expect(JSON.parse(latest.out)).toEqual({ cwd: project, command: ['claude', '--resume', ID_B, '--fork-session'] });
    const byPrefix = await roam('fork', 'aaaa1', '--dry-run');
    expect(JSON.parse(byPrefix.out)).toEqual({ cwd: project, command: ['claude', '--resume', ID_A, '--fork-session'] });
    // a session whose directory does not exist here runs in the current directory
    const other = await roam('fork', ID_C, '--dry-run');
    expect(JSON.parse(other.out)).toEqual({ cwd: project, command: ['claude', '--resume', ID_C, '--fork-session'] });
    process.chdir(base);
    const none = await roam('fork', '--dry-run');
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/^ROAM_SESSION_NOT_FOUND: no session in /);
  });

  it('runs the tool on PATH and exits with its code; a missing tool says how to install it', async () => {
    const bin = join(base, 'bin');
    mkdirSync(bin);
    const record = join(base, 'args.txt');
    writeFileSync(join(bin, 'claude'), `#!/bin/sh\necho "$PWD $*" > '${record}'\nexit 7\n`);
    chmodSync(join(bin, 'claude'), 0o755);
    process.env.PATH = `${bin}:${saved.env.PATH ?? ''}`;
    const r = await roam('fork', ID_A);
    expect(r).toEqual({ code: 7, out: '', err: '' });
    expect(readFileSync(record, 'utf8').trim()).toBe(`${project} --resume ${ID_A} --fork-session`);
    writeFileSync(join(bin, 'claude'), `#!/bin/sh\necho "$PWD $*" > '${record}'\n`);
    expect((await roam('new', 'x')).code).toBe(0);
    expect(readFileSync(record, 'utf8').trim()).toBe(`${project} --name x`);

    process.env.PATH = join(base, 'empty');
    const missing = await roam('new', 'x');
    expect(missing.code).toBe(1);
    expect(missing.err).toBe('ROAM_TOOL_NOT_FOUND: claude is not on PATH (install it: npm i -g @anthropic-ai/claude-code)');
  });
});
