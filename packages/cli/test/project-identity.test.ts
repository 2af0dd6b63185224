/**
 * One project identity for every tool: a session recorded in A's `~/code/app` (another HOME, so
 * another absolute path) is a session of B's `~/code/app`, for Codex, Gemini CLI and Copilot CLI as
 * for Claude Code; the verbs (`resume` without an id, `list`, the picker, `fork`, `new`) act in B's
 * directory, never in A's recorded one, even where that path also exists here.
 *
 * Both "machines" live under one temp dir: A's home `<base>/a-home`, B's `<base>/b-home`. B learns
 * A's home from A's file in roam's shared folder (what A's roamd publishes), as it would in use.
 */
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { list } from '../src/commands/list.js';
import { ProjectPlaces } from '../src/machine/project-identity.js';
import { ToolExit } from '../src/sessions/exec.js';
import { CodexAdapter } from '../src/tools/codex/index.js';
import { CopilotAdapter } from '../src/tools/copilot/index.js';
import { GeminiAdapter, projectHash } from '../src/tools/gemini/index.js';
import { projectKey as claudeKey } from '../src/tools/claude/index.js';
import { sessionDir } from '../src/sessions/index.js';
import { ClaudeAdapter } from '../src/tools/claude/index.js';
import { Rollout } from './fixtures/codex/codex-lines.js';
import { CopilotSession } from './fixtures/copilot-lines.js';
import { Session } from './fixtures/claude-lines.js';
import { roam, useHome } from './support/roam.js';
import { onPath, sandbox } from './support/sandbox.js';

const CODEX = '0c0d0e00-0000-4000-8000-00000000000c';
const GEMINI = '9e9e0000-0000-4000-8000-00000000000e';
const COPILOT = 'c0c0c0c0-0000-4000-8000-00000000000a';
const CLAUDE = 'c1c1c1c1-0000-4000-8000-00000000000d';
/** Sessions of another project (A's ~/work/app): never B's ~/code/app. */
const OTHER = '0c0d0e00-0000-4000-8000-0000000000ff';

let base: string;
let aHome: string;
let bHome: string;
let projA: string;
let projB: string;

/** A Gemini CLI 0.61 session file's lines, written in `dir` (its `<session_context>` names it). */
function geminiLines(id: string, dir: string): string {
  const ctx = `<session_context>\nThis is the Gemini CLI.\n- **Workspace Directories:**\n  - ${dir}\n- **Directory Structure:**\n\n${dir}/\n</session_context>`;
  return [
    { sessionId: id, projectHash: projectHash(dir), startTime: '2026-11-21T12:47:00.000Z', lastUpdated: '2026-11-21T12:47:02.000Z', kind: 'main' },
    { id: 'ctx', timestamp: '2026-11-21T12:47:00.000Z', type: 'user', content: [{ text: ctx }] },
    { id: 'u1', timestamp: '2026-11-21T12:47:01.000Z', type: 'user', content: [{ text: 'gemini on A' }] },
    { id: 'g1', timestamp: '2026-11-21T12:47:02.000Z', type: 'gemini', content: 'ok', model: 'gemini-2.5-flash' },
  ].map((l) => `${JSON.stringify(l)}\n`).join('');
}

/** What B holds after A's sessions arrived (the tools' folders under B's HOME, as roamd writes them). */
function sessionsOnB(): void {
  const codex = new Rollout(CODEX, projA, Date.UTC(2026, 10, 21, 12, 0, 0)).turnContext().user('codex on A').assistant('ok');
  codex.write(join(bHome, '.codex'));
  const other = new Rollout(OTHER, join(aHome, 'work', 'app'), Date.UTC(2026, 10, 21, 13, 0, 0)).turnContext().user('another project').assistant('ok');
  other.write(join(bHome, '.codex'));
  const chats = join(bHome, '.gemini', 'tmp', 'app', 'chats');
  mkdirSync(chats, { recursive: true });
  writeFileSync(join(chats, `session-2026-11-21T12-47-${GEMINI.slice(0, 8)}.jsonl`), geminiLines(GEMINI, projA));
  const copilot = new CopilotSession(COPILOT, projA).user('copilot on A').assistant('ok');
  copilot.write(join(bHome, '.copilot'));
  // Claude Code: roamd stores A's log under B's own key for the project; its lines keep A's cwd.
  const claude = new Session(CLAUDE, projA);
  claude.user('claude on A');
  claude.write(join(bHome, '.claude', 'projects', claudeKey(projB), `${CLAUDE}.jsonl`));
}

/** A's file in B's copy of roam's shared folder: what A's roamd publishes about itself. */
function publishedByA(): void {
  const dir = join(bHome, '.roam', 'state', 'shared');
  mkdirSync(dir, { recursive: true });
  const info = { v: 1, device: 'aaaaaaa', name: 'alpha', updatedAt: Date.now(), leases: [], projects: {}, home: aHome };
  writeFileSync(join(dir, 'aaaaaaa.json'), JSON.stringify(info));
}

sandbox('roam-identity-', (dir) => {
  base = dir;
  aHome = join(base, 'a-home');
  bHome = join(base, 'b-home');
  projA = join(aHome, 'code', 'app');
  projB = join(bHome, 'code', 'app');
  // A's path exists here too (one file system): the verbs must still act in B's directory.
  for (const d of [projA, projB, join(aHome, 'work', 'app')]) mkdirSync(d, { recursive: true });
  sessionsOnB();
  publishedByA();
  useHome(bHome, projB);
});

describe("a session recorded in A's ~/code/app is a session of B's ~/code/app", () => {
  it('Codex, Gemini CLI and Copilot CLI list it among the sessions of B\'s directory, and not another project\'s', async () => {
    const env = process.env;
    const codex = await new CodexAdapter({ env, cacheFile: null }).list({ project: projB });
    expect(codex.map((s) => s.id)).toEqual([CODEX]);
    const gemini = await new GeminiAdapter({ env, cacheFile: null }).list({ project: projB });
    expect(gemini.map((s) => s.id)).toEqual([GEMINI]);
    const copilot = await new CopilotAdapter({ env, cacheFile: null }).list({ project: projB });
    expect(copilot.map((s) => s.id)).toEqual([COPILOT]);
    // The other project of A is B's ~/work/app, even though A's path for it exists here.
    const work = join(bHome, 'work', 'app');
    mkdirSync(work, { recursive: true });
    expect((await new CodexAdapter({ env, cacheFile: null }).list({ project: work })).map((s) => s.id)).toEqual([OTHER]);
  });

  it('names a path under a conventional home (/home/<user>, /Users/<user>) by its home-relative path when the writer published none', async () => {
    rmSync(join(bHome, '.roam', 'state', 'shared'), { recursive: true, force: true });
    const rollout = new Rollout('0c0d0e00-0000-4000-8000-0000000000aa', '/Users/alice/code/app', Date.UTC(2026, 10, 22)).user('mac').assistant('ok');
    rollout.write(join(bHome, '.codex'));
    const linux = new Rollout('0c0d0e00-0000-4000-8000-0000000000bb', '/home/alice/code/app/', Date.UTC(2026, 10, 23)).user('linux').assistant('ok');
    linux.write(join(bHome, '.codex'));
    const elsewhere = new Rollout('0c0d0e00-0000-4000-8000-0000000000cc', '/srv/code/app', Date.UTC(2026, 10, 24)).user('srv').assistant('ok');
    elsewhere.write(join(bHome, '.codex'));
    const ids = (await new CodexAdapter({ env: process.env, cacheFile: null }).list({ project: projB })).map((s) => s.id);
    expect(ids).toEqual(['0c0d0e00-0000-4000-8000-0000000000bb', '0c0d0e00-0000-4000-8000-0000000000aa']);
  });

  it("places every tool's session in B's directory (sessionDir), never in A's recorded one that also exists here", async () => {
    const env = process.env;
    const elsewhere = join(base, 'elsewhere');
    mkdirSync(elsewhere);
    const sessions = [
      await new CodexAdapter({ env, cacheFile: null }).find(CODEX),
      await new GeminiAdapter({ env, cacheFile: null }).find(GEMINI),
      await new CopilotAdapter({ env, cacheFile: null }).find(COPILOT),
      await new ClaudeAdapter({ env, cacheFile: null }).find(CLAUDE),
    ];
    for (const s of sessions) {
      expect(s?.cwd).toBe(projA);
      expect(sessionDir(s!, elsewhere, env), s!.tool).toBe(projB);
    }
  });

  it('honours a `roam map` entry (config.json map): the project lives in another directory here', async () => {
    const moved = join(bHome, 'src', 'app-here');
    mkdirSync(moved, { recursive: true });
    writeFileSync(join(bHome, '.roam', 'config.json'), JSON.stringify({ map: { '~code%2Fapp': moved } }));
    const env = process.env;
    expect((await new CodexAdapter({ env, cacheFile: null }).list({ project: moved })).map((s) => s.id)).toEqual([CODEX]);
    expect(await new CodexAdapter({ env, cacheFile: null }).list({ project: projB })).toEqual([]);
    expect(sessionDir((await new CopilotAdapter({ env, cacheFile: null }).find(COPILOT))!, projB, env)).toBe(moved);
  });
});

describe("the verbs on B, in B's ~/code/app", () => {
  it('roam resume --tool <codex|gemini|copilot> --dry-run plans A\'s session in B\'s directory', async () => {
    for (const [tool, id, argv] of [['codex', CODEX, ['codex', 'resume', CODEX]], ['gemini', GEMINI, ['gemini', '--resume', GEMINI]], ['copilot', COPILOT, ['copilot', '--resume', COPILOT, '-C', projB]]] as const) {
      const r = await roam('resume', '--tool', tool, '--dry-run');
      expect(r.err, tool).not.toMatch(/ROAM_SESSION_NOT_FOUND/);
      expect(r.code, r.err).toBe(0);
      expect(JSON.parse(r.out), tool).toMatchObject({ cwd: projB, command: argv, session: id });
    }
  });

  it("roam list: this project's sessions of every tool", async () => {
    const r = await roam('list', '--json');
    expect(r.code, r.err).toBe(0);
    expect((JSON.parse(r.out) as Array<{ id: string }>).map((s) => s.id).sort()).toEqual([CLAUDE, CODEX, COPILOT, GEMINI].sort());
  });

  it("roam fork --dry-run plans the fork in B's directory", async () => {
    const r = await roam('fork', '--tool', 'codex', '--dry-run');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ cwd: projB, command: ['codex', 'fork', CODEX] });
    const byId = await roam('fork', CLAUDE, '--dry-run');
    expect(JSON.parse(byId.out)).toEqual({ cwd: projB, command: ['claude', '--resume', CLAUDE, '--fork-session'] });
  });

  it("roam new --tool copilot --dry-run starts it in B's directory; the picker resumes in B's directory", async () => {
    const n = await roam('new', 'payments', '--tool', 'copilot', '--dry-run');
    expect(n.code, n.err).toBe(0);
    expect(JSON.parse(n.out)).toEqual({ cwd: projB, command: ['copilot', '--name', 'payments'] });

    const record = join(base, 'ran.txt');
    onPath(join(base, 'bin'), { codex: `#!/bin/sh\necho "$PWD $*" > '${record}'\nexit 5\n` });
    const err = await list({}, { out: () => {}, err: () => {} }, { interactive: true, pick: async (ss) => ss.find((s) => s.id === CODEX) ?? null }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolExit);
    expect(readFileSync(record, 'utf8').trim()).toBe(`${projB} resume ${CODEX}`);
  });

  it("the picker registers B's directory under a Gemini session's slug, and refuses naming both directories when another one owns it", async () => {
    onPath(join(base, 'bin'), { gemini: '#!/bin/sh\nexit 0\n' });
    const pick = async (ss: readonly { id: string }[]) => (ss.find((s) => s.id === GEMINI) ?? null) as never;
    const lines: string[] = [];
    await list({}, { out: () => {}, err: (l) => lines.push(l) }, { interactive: true, pick });
    const projects = JSON.parse(readFileSync(join(bHome, '.gemini', 'projects.json'), 'utf8')) as { projects: Record<string, string> };
    expect(projects.projects).toEqual({ [projB]: 'app' });

    // Another directory here owns the slug: refused, both named.
    const owner = join(bHome, 'other', 'app');
    mkdirSync(owner, { recursive: true });
    writeFileSync(join(bHome, '.gemini', 'projects.json'), JSON.stringify({ projects: { [owner]: 'app' } }));
    writeFileSync(join(bHome, '.gemini', 'tmp', 'app', '.project_root'), owner);
    const r = await roam('resume', '--tool', 'gemini');
    expect(r.code).toBe(2);
    expect(r.err).toContain(owner);
    expect(r.err).toContain(projB);
  });
});

describe('ProjectPlaces', () => {
  it('names a recorded path against the longest published home, a conventional home, or this home (through a symlink)', () => {
    const link = join(base, 'b-link');
    symlinkSync(bHome, link);
    const places = new ProjectPlaces({ home: link, homes: [base, aHome] });
    expect(places.wireOf(join(aHome, 'code', 'app'))).toBe('~code%2Fapp');
    expect(places.wireOf('/Users/alice/code/app')).toBe('~code%2Fapp');
    expect(places.wireOf('/var/home/alice')).toBe('~');
    expect(places.wireOf('/srv/app')).toBe('=%2Fsrv%2Fapp');
    expect(places.wireOf(join(link, 'code', 'app'))).toBe('~code%2Fapp');
    expect(places.wireOf('relative/path')).toBeNull();
    expect(places.dirOf(join(aHome, 'code', 'app'))).toBe(projB);
    expect(places.dirOf('/home/alice/nowhere-here')).toBeNull();
    // With no place here, the same name is the same project.
    expect(places.belongs('/home/alice/gone', join(bHome, 'gone'))).toBe(true);
    expect(places.belongs('/home/alice/gone', projB)).toBe(false);
  });
});
