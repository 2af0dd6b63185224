/**
 * `roam list`, `search`, `show`, `new`, `fork` through the command table (run() of main.ts), with
 * HOME, CLAUDE_CONFIG_DIR and ROAM_HOME in temporary directories.
 */
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run, quickCommand, type Io } from '../src/main.js';
import { roam } from './support/roam.js';
import { isolate, onPath, sandbox } from './support/sandbox.js';
import { isoKey, list, listSessions, newestFirstRows } from '../src/commands/list.js';
import { ToolExit } from '../src/sessions/exec.js';
import { projectKey } from '../src/tools/claude/index.js';
import type { SessionInfo } from '../src/sessions/types.js';
import { Session } from './fixtures/claude-lines.js';

let base: string;
let project: string; // a real directory: the current directory of the tests
let projects: string; // CLAUDE_CONFIG_DIR/projects
const PATH = process.env.PATH;

const ID_A = 'aaaa1111-0000-4000-8000-000000000001';
const ID_B = 'aaaa2222-0000-4000-8000-000000000002';
const ID_C = 'cccc3333-0000-4000-8000-000000000003';

sandbox('roam-sessions-cli-', (dir) => {
  base = dir;
  project = isolate(base, 'code', 'my_app.v2');
  projects = join(base, 'claude', 'projects');

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

describe('roam list --json from the cache', () => {
  /** What `roam list --json` prints through an Io that takes bytes, and through one that does not. */
  async function printed(...args: string[]): Promise<string> {
    const chunks: Buffer[] = [];
    const io: Io = { out: (l) => chunks.push(Buffer.from(`${l}\n`)), err: () => {}, outBytes: (b) => chunks.push(Buffer.from(b), Buffer.from('\n')) };
    expect(await run('roam', ['list', '--json', ...args], io)).toBe(0);
    const bytes = Buffer.concat(chunks).toString('utf8');
    expect(`${(await roam('list', '--json', ...args)).out}\n`).toBe(bytes);
    return bytes.slice(0, -1);
  }
  /** JSON.stringify of the SessionInfo objects as read from the files (no cache), as `roam list --json` printed them before it printed cached bytes. */
  async function expected(flags: { all?: boolean; limit?: number }): Promise<string> {
    const fresh = mkdtempSync(join(base, 'roam-home-'));
    return JSON.stringify((await listSessions(flags, { env: { ...process.env, ROAM_HOME: fresh } })).sessions, null, 2);
  }
  const old = new Date(Date.now() - 3600_000);
  const dirs = () => [join(projects, projectKey(project)), join(projects, '-somewhere-else'), join(projects, '-third')];

  it('prints exactly JSON.stringify of the sessions, cold, warm and after changes', async () => {
    // Ties (the same last activity, and the same mtime too), titles cut with '…', other scripts,
    // a line that is no session, and a directory named like a transcript.
    const third = join(projects, '-third');
    for (let i = 0; i < 12; i++) {
      const s = new Session(`dddd${String(i).padStart(4, '0')}-0000-4000-8000-000000000000`, i % 2 ? '/third' : project);
      s.user(i % 3 ? `prompt ${i} café 東京 ${'x'.repeat(i * 30)}` : `same time ${i}`);
      s.lines.forEach((l) => typeof l.timestamp === 'string' && (l.timestamp = i % 3 ? `2026-0${1 + (i % 4)}-1${i % 7}T10:00:00.000Z` : '2026-02-02T02:02:02.000Z'));
      const file = s.write(join(i % 2 ? third : dirs()[0]!, `${s.id}.jsonl`));
      if (i % 3 === 0) utimesSync(file, old, old);
    }
    writeFileSync(join(third, 'not-a-session.jsonl'), '{"type":"file-history-snapshot"}\n');
    mkdirSync(join(third, 'a-directory.jsonl'));
    for (const d of dirs()) utimesSync(d, old, old);
    for (const round of ['cold', 'warm', 'warm again']) {
      expect(await printed('--all'), round).toBe(await expected({ all: true }));
      expect(await printed()).toBe(await expected({}));
      expect(await printed('--all', '--limit', '5')).toBe(await expected({ all: true, limit: 5 }));
    }
    // A session grows, one is added, one removed.
    appendFileSync(join(projects, projectKey(project), `${ID_A}.jsonl`), `${JSON.stringify({ type: 'custom-title', customTitle: 'Renamed…', sessionId: ID_A })}\n`);
    const d = new Session('eeee0000-0000-4000-8000-000000000000', '/third');
    d.user('new one');
    d.write(join(third, `${d.id}.jsonl`));
    rmSync(join(projects, '-somewhere-else', `${ID_C}.jsonl`));
    const after = await printed('--all');
    expect(after).toBe(await expected({ all: true }));
    expect(after).toContain('Renamed…');
    expect(after).toContain(d.id);
    expect(after).not.toContain(ID_C);
    expect(await printed('--all')).toBe(await expected({ all: true }));
    rmSync(join(base, 'roam', 'state', 'sessions-cache.json'));
    expect(await printed('--all')).toBe(after);
  });

  it('reads a project directory again only when its mtime moved, or was recent when it was read', async () => {
    const here = dirs()[0]!;
    utimesSync(here, old, old);
    expect(JSON.parse(await printed()).map((s: SessionInfo) => s.id)).toEqual([ID_B, ID_A]);
    // A file added behind the cache's back, the directory's mtime put back: the listing is trusted.
    const hidden = new Session('ffff0000-0000-4000-8000-000000000000', project);
    hidden.user('hidden');
    hidden.write(join(here, `${hidden.id}.jsonl`));
    utimesSync(here, old, old);
    expect(JSON.parse(await printed()).map((s: SessionInfo) => s.id)).toEqual([ID_B, ID_A]);
    // Its mtime moves: read again.
    const now = new Date();
    utimesSync(here, now, now);
    const listedAt = statSync(here).mtimeMs;
    expect(JSON.parse(await printed()).map((s: SessionInfo) => s.id)).toContain(hidden.id);
    // Listed while its mtime was recent: not trusted, so the same trick is seen at once.
    const racy = new Session('ffff1111-0000-4000-8000-000000000000', project);
    racy.user('racy');
    racy.write(join(here, `${racy.id}.jsonl`));
    utimesSync(here, now, now);
    expect(statSync(here).mtimeMs).toBe(listedAt);
    expect(JSON.parse(await printed()).map((s: SessionInfo) => s.id)).toContain(racy.id);
  });

  it('sorts by ISO times as numbers exactly as by the strings', () => {
    let seed = 3;
    const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
    const times = ['2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.001Z', '2025-12-31T23:59:59.999Z', '0000-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z'];
    for (let i = 0; i < 300; i++) times.push(new Date(Date.UTC(2020 + rnd(8), rnd(12), 1 + rnd(28), rnd(24), rnd(60), rnd(60), rnd(1000))).toISOString());
    const rows = (list: string[]) => list.map((t, i) => ({ lastActivity: t, mtimeMs: rnd(3), json: `${i}` }));
    const byString = <T extends { lastActivity: string; mtimeMs: number }>(r: T[]) => [...r].sort((a, b) => (a.lastActivity < b.lastActivity ? 1 : a.lastActivity > b.lastActivity ? -1 : b.mtimeMs - a.mtimeMs));
    const some = rows([...times, ...times.slice(0, 50)]);
    expect(newestFirstRows([...some]).map((r) => r.json)).toEqual(byString(some).map((r) => r.json));
    const sorted = [...times].sort();
    for (let i = 1; i < sorted.length; i++) expect(isoKey(sorted[i - 1]!)).toBeLessThanOrEqual(isoKey(sorted[i]!));
    for (const odd of ['2026-13-01T00:00:00.000Z', '+012026-01-01T00:00:00.000Z', '2026-01-01T00:00:00Z', 'x']) expect(isoKey(odd)).toBe(-1);
    // Rows whose bytes lie in one buffer (as the cache gives them): in the buffer's order only when
    // that is the order itself, ties included.
    const buf = Buffer.alloc(64);
    for (let round = 0; round < 50; round++) {
      const base = Array.from({ length: 40 }, (_, i) => ({ lastActivity: times[rnd(4)]!, mtimeMs: rnd(3), json: buf, start: 0, end: 0, id: i }));
      const want = byString(base).map((r) => r.id);
      const laOnly = [...base].sort((a, b) => (a.lastActivity < b.lastActivity ? 1 : a.lastActivity > b.lastActivity ? -1 : 0)).reverse().sort((a, b) => (a.lastActivity < b.lastActivity ? 1 : a.lastActivity > b.lastActivity ? -1 : 0));
      const tiesReversed = [...base].sort((a, b) => (a.lastActivity < b.lastActivity ? 1 : a.lastActivity > b.lastActivity ? -1 : b.mtimeMs - a.mtimeMs || b.id - a.id));
      for (const order of [want.map((id) => base[id]!), laOnly, tiesReversed, [...base].sort(() => rnd(3) - 1)]) {
        const rows2 = base.map((r) => ({ ...r, start: order.indexOf(r) }));
        expect(newestFirstRows([...rows2]).map((r) => (r as (typeof rows2)[number]).id)).toEqual(want);
      }
    }
    // Any string that is not of that form: the string order itself.
    const mixed = rows(['b', '2026-01-01T00:00:00.000Z', 'a', '2026-13-01T00:00:00.000Z']);
    expect(newestFirstRows([...mixed]).map((r) => r.json)).toEqual(byString(mixed).map((r) => r.json));
  });
});

describe('roam list and roam search without commander', () => {
  it('parse their plain forms themselves, and leave every other form to commander', async () => {
    expect(quickCommand(['list'])).toEqual({ name: 'list', flags: {} });
    expect(quickCommand(['list', '--json', '--all', '--tool', 'claude', '--limit', '3'])).toEqual({ name: 'list', flags: { json: true, all: true, tool: 'claude', limit: 3 } });
    expect(quickCommand(['search', '--limit', '0', 'zebra corn', '--json'])).toEqual({ name: 'search', text: 'zebra corn', flags: { limit: 0, json: true } });
    const others = [['list', '--help'], ['list', '-h'], ['list', '--limit=1', '--json', '--all'], ['list', '--json', '--json'], ['list', 'extra'], ['list', '--tool'], ['list', '--tool', '--json'], ['search'], ['search', '-x'], ['search', 'a', 'b'], ['search', 'a', '--all'], ['status'], []];
    for (const argv of others) expect(quickCommand(argv), argv.join(' ')).toBeNull();
    expect(() => quickCommand(['list', '--limit', 'many'])).toThrow(/not a count: many/);
    // Through commander, as before.
    expect(JSON.parse((await roam('list', '--limit=1', '--json', '--all')).out)).toHaveLength(1);
    const help = await roam('list', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toContain('--limit <n>');
    expect((await roam('search', 'a', '--all')).code).toBe(2);
    expect(await roam('list', '--limit', 'many')).toMatchObject({ code: 2, err: 'ROAM_USAGE: not a count: many' });
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
    const record = join(base, 'args.txt');
    onPath(bin, { claude: `#!/bin/sh\necho "$PWD $*" > '${record}'\nexit 7\n` }, PATH);
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
