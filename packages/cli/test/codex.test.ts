/**
 * The Codex CLI adapter (src/sessions/codex.ts) on two real Codex 0.34 rollouts (MIT, see
 * fixtures/codex/SOURCES.md) and on generated ones, directly and through the commands (`roam list
 * --tool codex`, `search`, `show`, `export`, `share`/`import`), with CODEX_HOME, HOME and ROAM_HOME in
 * temporary directories.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { beforeEach, describe, expect, it } from 'vitest';
import { roam } from './support/roam.js';
import { isolate, sandbox } from './support/sandbox.js';
import { CodexAdapter, hasZstd, ZSTD_TITLE, codexTranscript } from '../src/tools/codex/index.js';
import { adaptersFor } from '../src/sessions/index.js';
import type { SessionInfo, TranscriptEntry } from '../src/sessions/types.js';
import { Rollout } from './fixtures/codex/codex-lines.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'codex');
const BIG = '97b66f6c-a160-40e0-bd0f-1fdcbbb9498b';
const SMALL = 'fa1ac8bf-348e-4b9a-a06d-767050fa1e10';
const OPK = '/home/randy/projects/python-3/OpenPrintKit';

let base: string;
let codexHome: string;
let project: string;

function copyFixture(id: string, date: string[]): string {
  const name = id === BIG ? `rollout-2025-11-01T11-34-37-${BIG}.jsonl` : `rollout-2025-10-31T18-36-16-${SMALL}.jsonl`;
  const dir = join(codexHome, 'sessions', ...date);
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(FIXTURES, name), join(dir, name));
  return join(dir, name);
}

sandbox('roam-codex-', (dir) => {
  base = dir;
  codexHome = join(base, 'codex');
  project = isolate(base, 'code', 'app');
  copyFixture(BIG, ['2025', '11', '01']);
  copyFixture(SMALL, ['2025', '10', '31']);
});

const adapter = (opts: { zstd?: boolean } = {}) => new CodexAdapter({ env: process.env, cacheFile: null, ...opts });

describe('Codex adapter on real rollouts', () => {
  it('lists them newest first, with what the rollout says', async () => {
    const a = adapter();
    expect(a.root()).toBe(codexHome);
    const all = await a.list();
    expect(all.map((s) => s.id)).toEqual([BIG, SMALL]);
    expect(all[0]).toMatchObject({
      tool: 'codex', cwd: OPK, projectKey: OPK, title: 'continue', firstPrompt: 'continue', gitBranch: 'main',
      lastActivity: '2025-11-02T16:17:26.404Z', messages: 107, messagesExact: true, bytes: 1_732_888,
    });
    // Only the session_meta and the environment context: a session, with no message of the user's.
    expect(all[1]).toMatchObject({ id: SMALL, title: null, firstPrompt: null, messages: 0, lastActivity: '2025-11-01T00:36:16.609Z' });
    expect(await a.list({ project: OPK, limit: 1 })).toHaveLength(1);
    expect(await a.list({ project })).toEqual([]);
    expect((await a.find(BIG))?.file).toContain(`rollout-2025-11-01T11-34-37-${BIG}.jsonl`);
    expect(await a.find('97b66f6c')).toBeNull(); // find is exact; prefixes go through resolveSession
  });

  it('shows the conversation: messages, the context as meta, shell calls and their outputs', async () => {
    const entries = await adapter().show(BIG);
    expect(entries).toHaveLength(108 + 329 + 329);
    expect(entries[0]).toMatchObject({ role: 'user', meta: true, timestamp: '2025-11-01T17:34:37.954Z' });
    expect(entries[0]!.text).toMatch(/^<environment_context>/);
    expect(entries[1]).toMatchObject({ role: 'user', text: 'continue', toolUses: [], toolResults: [] });
    expect(entries[1]!.meta).toBeUndefined();
    expect(entries[2]).toMatchObject({ role: 'assistant', text: 'I’ll quickly scan the repo to recall context and open key files to pick up where we left off.' });
    expect(entries[3]).toMatchObject({ role: 'assistant', text: '', toolUses: [{ id: 'call_ZXVzbLtT0CaTm3nYrN4vnCBP', name: 'shell', input: { command: ['bash', '-lc', 'ls -la'] } }] });
    expect(entries[4]!.toolResults[0]).toMatchObject({ toolUseId: 'call_ZXVzbLtT0CaTm3nYrN4vnCBP', isError: false });
    expect(entries[4]!.toolResults[0]!.text).toMatch(/^total 804\ndrwxrwxr-x/);
    expect(entries.filter((e) => e.role === 'user' && !e.meta && e.text).map((e) => e.text)[1]).toMatch(/^Yes, commit the changes/);
    await expect(adapter().show('nope')).rejects.toMatchObject({ code: 'ROAM_SESSION_NOT_FOUND' });
  });

  it('searches user and assistant text, not tool output or the environment context', async () => {
    const hits = await adapter().search('ideaMaker export');
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.every((h) => h.session.id === BIG && h.role === 'assistant')).toBe(true);
    expect(hits[0]!.snippet).toMatch(/ideaMaker export/);
    expect(await adapter().search('approval_policy')).toEqual([]); // only in the environment context
    expect(await adapter().search('drwxrwxr-x')).toEqual([]); // only in tool output
    expect(await adapter().search('CONTINUE', { limit: 1 })).toHaveLength(1);
  });

  it('resume, fork and new commands', () => {
    const a = adapter();
    expect(a.resumeCommand(BIG, { cwd: OPK })).toEqual({ argv: ['codex', 'resume', BIG], cwd: OPK });
    expect(a.forkCommand(BIG)).toEqual({ argv: ['codex', 'fork', BIG] });
    expect(() => a.newCommand('release notes')).toThrow(/codex cannot name a new session.*\/rename release notes/);
  });
});

describe('Codex adapter on generated rollouts', () => {
  it('titles from session_index.jsonl (the last name wins), archived sessions, cwd from turn_context, project filtering through symlinks', async () => {
    const real = join(base, 'real');
    mkdirSync(real);
    const link = join(base, 'link');
    symlinkSync(real, link);
    const r = new Rollout('0199aaaa-0000-7000-8000-000000000001', link).turnContext().user('Fix the flaky test').reasoning().assistant('Done.').tokens();
    r.write(codexHome);
    const old = new Rollout('0199aaaa-0000-7000-8000-000000000002', '/elsewhere', Date.UTC(2025, 5, 1)).user('archived one').assistant('ok');
    old.write(codexHome, 'archived_sessions');
    const moved = new Rollout('0199aaaa-0000-7000-8000-000000000003', '/first/place', Date.UTC(2026, 0, 6)).user('moved').turnContext('/second/place');
    moved.write(codexHome);
    writeFileSync(join(codexHome, 'session_index.jsonl'), [
      { id: r.id, thread_name: 'Flaky test', updated_at: '2026-01-05T09:00:10Z' },
      { id: r.id, thread_name: 'Flaky test, for real', updated_at: '2026-01-05T09:00:20Z' },
      { id: BIG, thread_name: '', updated_at: '2026-01-05T09:00:20Z' },
    ].map((l) => JSON.stringify(l)).join('\n') + '\n');
    const a = adapter();
    const all = await a.list();
    expect(all.map((s) => s.id)).toEqual([moved.id, r.id, BIG, SMALL, old.id]);
    expect(all[1]).toMatchObject({ title: 'Flaky test, for real', firstPrompt: 'Fix the flaky test', messages: 2, cwd: link });
    expect(all[0]).toMatchObject({ cwd: '/second/place', projectKey: '/first/place', gitBranch: 'main' });
    expect((await a.list({ project: '/first/place' })).map((s) => s.id)).toEqual([moved.id]);
    expect((await a.list({ project: '/second/place' })).map((s) => s.id)).toEqual([moved.id]);
    expect(all[4]!.file).toContain(join(codexHome, 'archived_sessions'));
    expect((await a.list({ project: realpathSync(real) })).map((s) => s.id)).toEqual([r.id]);
    expect((await a.search('flaky', { project: realpathSync(real) })).map((h) => h.session.title)).toEqual(['Flaky test, for real']);
  });

  it('apply_patch as a custom tool, failed commands, compaction, and a rollout with only event messages', () => {
    const r = new Rollout('0199bbbb-0000-7000-8000-000000000001').user('patch it')
      .patch('*** Begin Patch\n*** Update File: a.ts\n@@\n-x\n+y\n*** End Patch', 'Success. Updated the following files:\nM a.ts')
      .shell('npm test', 'FAIL 1 test', 1)
      .push('compacted', { message: 'The user asked for a patch; it was applied.' })
      .assistant('Patched; one test fails.');
    const e = codexTranscript(r.text());
    expect(e.map((x) => [x.role, x.text.slice(0, 12), x.toolUses[0]?.name ?? null, x.toolResults[0]?.isError ?? null, x.meta ?? false])).toEqual([
      ['user', '<environment', null, null, true],
      ['user', 'patch it', null, null, false],
      ['assistant', '', 'apply_patch', null, false],
      ['user', '', null, false, false],
      ['assistant', '', 'shell', null, false],
      ['user', '', null, true, false],
      ['user', '[compacted] ', null, null, true],
      ['assistant', 'Patched; one', null, null, false],
    ]);
    expect(e[2]!.toolUses[0]!.input).toMatch(/^\*\*\* Begin Patch/);
    expect(e[5]!.toolResults[0]!.text).toBe('FAIL 1 test');
    const events = [
      { timestamp: '2026-01-01T00:00:00Z', type: 'session_meta', payload: { id: 'x', cwd: '/a' } },
      { timestamp: '2026-01-01T00:00:01Z', type: 'event_msg', payload: { type: 'user_message', message: 'hi' } },
      { timestamp: '2026-01-01T00:00:02Z', type: 'event_msg', payload: { type: 'agent_message', message: 'hello' } },
    ].map((l) => JSON.stringify(l)).join('\n');
    expect(codexTranscript(events).map((x: TranscriptEntry) => [x.role, x.text])).toEqual([['user', 'hi'], ['assistant', 'hello']]);
  });

  it('a fork (Codex 0.16x) shows the history it inherits from its parent up to the fork point; sharing it is refused', async () => {
    const parent = new Rollout('0199ffff-0000-7000-8000-000000000001', project).user('parent question').assistant('parent answer');
    const cut = Buffer.byteLength(parent.text());
    parent.user('after the fork point').assistant('not inherited');
    parent.write(codexHome);
    const fork = new Rollout('0199ffff-0000-7000-8000-000000000002', project, Date.UTC(2026, 0, 6));
    fork.lines.splice(1); // a fork starts with its session_meta alone
    Object.assign(fork.lines[0]!.payload, { forked_from_id: parent.id, history_mode: 'paginated', history_base: { thread_id: parent.id, end_ordinal_exclusive: 6, end_byte_offset: cut } });
    fork.user('fork question').assistant('fork answer');
    fork.write(codexHome);
    const texts = (await adapter().show(fork.id)).filter((e) => !e.meta).map((e) => e.text);
    expect(texts).toEqual(['parent question', 'parent answer', 'fork question', 'fork answer']);
    const shared = await roam('share', fork.id, '--out', join(base, 'fork.json.gz'));
    expect(shared.code).toBe(2);
    expect(shared.err).toMatch(new RegExp(`^ROAM_USAGE: Codex session ${fork.id} is a fork of ${parent.id}`));
    rmSync(parent.path(codexHome));
    const orphan = await adapter().show(fork.id);
    expect(orphan[0]).toMatchObject({ meta: true, text: expect.stringContaining(`in Codex session ${parent.id}, which is not on this machine`) });
    expect(orphan.filter((e) => !e.meta).map((e) => e.text)).toEqual(['fork question', 'fork answer']);
  });

  it('a large rollout is read in two windows and its messages estimated; a cut last line and junk lines are skipped', async () => {
    const r = new Rollout('0199cccc-0000-7000-8000-000000000001', project).user('first of many');
    const blob = 'x'.repeat(80_000);
    for (let i = 0; i < 120; i++) r.shell(`cat big${i}`, blob).assistant(`step ${i}`);
    r.user('the last question');
    const file = r.write(codexHome, 'sessions', 'not json\n{"timestamp":"2030-01-01T00:00:00Z","type":"response_item","payload":{"type":"mess');
    const info = (await adapter().list({ project: realpathSync(project) }))[0]!;
    expect(info.bytes).toBeGreaterThan(8 * 1024 * 1024);
    expect(info).toMatchObject({ id: r.id, file, firstPrompt: 'first of many', messagesExact: false, lastActivity: r.lines[r.lines.length - 1]!.timestamp });
    expect(info.messages).toBeGreaterThan(60);
    expect(info.messages).toBeLessThan(500);
    const shown = await adapter().show(r.id);
    expect(shown.filter((x) => x.role === 'assistant' && x.text).length).toBe(120);
  });

  it('a .jsonl.zst rollout is listed; without zstd it says it cannot be read, and show says why', async () => {
    const r = new Rollout('0199dddd-0000-7000-8000-000000000001', project).user('compressed session');
    const file = `${r.path(codexHome)}.zst`;
    mkdirSync(join(file, '..'), { recursive: true });
    const z = zlib as unknown as { zstdCompressSync?: (b: Buffer) => Buffer };
    writeFileSync(file, z.zstdCompressSync ? z.zstdCompressSync(Buffer.from(r.text())) : Buffer.from('(zstd frame)'));
    utimesSync(file, new Date('2027-01-01T00:00:00Z'), new Date('2027-01-01T00:00:00Z'));
    const none = adapter({ zstd: false });
    const listed = (await none.list())[0]!;
    expect(listed).toMatchObject({ id: r.id, file, title: ZSTD_TITLE, messages: 0, messagesExact: false, lastActivity: '2027-01-01T00:00:00.000Z' });
    await expect(none.show(r.id)).rejects.toMatchObject({ code: 'ROAM_SESSION_UNREADABLE', message: expect.stringMatching(/zstd.*Node 22\.15/) });
    expect(await none.search('compressed')).toEqual([]);
    if (hasZstd()) {
      const withZstd = adapter();
      expect((await withZstd.find(r.id))?.title).toBe('compressed session');
      expect((await withZstd.show(r.id)).map((e) => e.text)).toContain('compressed session');
      expect((await withZstd.search('compressed')).map((h) => h.session.id)).toEqual([r.id]);
    }
  });
});

describe('roam commands with Codex sessions', () => {
  beforeEach(() => {
    new Rollout('0199eeee-0000-7000-8000-000000000001', realpathSync(project), Date.UTC(2026, 1, 1)).user('Zebracorn codex question').assistant('Zebracorn codex answer').write(codexHome);
  });

  it('roam list --tool codex: this directory; --all: every project, both tools; the table names it', async () => {
    const here = JSON.parse((await roam('list', '--tool', 'codex', '--json')).out) as SessionInfo[];
    expect(here.map((s) => s.id)).toEqual(['0199eeee-0000-7000-8000-000000000001']);
    const all = JSON.parse((await roam('list', '--all', '--json')).out) as SessionInfo[];
    expect(all.map((s) => s.id)).toEqual(['0199eeee-0000-7000-8000-000000000001', BIG, SMALL]);
    const table = (await roam('list', '--tool', 'codex')).out;
    expect(table).toMatch(/^0199eeee-0000-7000-8000-000000000001 .* 2 {2}Zebracorn codex question$/);
    expect(adaptersFor('codex').map((a) => a.tool)).toEqual(['codex']);
    expect((await roam('list', '--tool', 'vim')).err).toMatch(/^ROAM_USAGE: unknown tool: vim \(one of claude, codex, gemini, copilot[,)]/);
    // roam fork drives Codex's own fork too, by id or as this directory's latest of --tool codex.
    expect(JSON.parse((await roam('fork', '0199eeee', '--dry-run')).out).command).toEqual(['codex', 'fork', '0199eeee-0000-7000-8000-000000000001']);
    expect(JSON.parse((await roam('fork', '--tool', 'codex', '--dry-run')).out).command).toEqual(['codex', 'fork', '0199eeee-0000-7000-8000-000000000001']);
  });

  it('roam resume picks the Codex session by id prefix, runs codex resume in its directory, and needs no --tool', async () => {
    // No roamd here: resume says so and goes on with what this machine has.
    const r = await roam('resume', BIG.slice(0, 8), '--dry-run');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ command: ['codex', 'resume', BIG], session: BIG });
    expect(r.err).toMatch(/roamd is not running/);
    // --in another tool converts it (docs/CONVERT.md, test/convert*.test.ts): a dry run writes nothing.
    const other = await roam('resume', BIG, '--in', 'claude', '--dry-run');
    expect(other.code, other.err).toBe(0);
    expect(JSON.parse(other.out)).toMatchObject({ command: ['claude', '--resume', expect.any(String)], exists: false, convertedFrom: { tool: 'codex', session: BIG } });
  });

  it('roam search and roam show by prefix, and roam export', async () => {
    const s = await roam('search', 'zebracorn', '--tool', 'codex');
    expect(s.out.split('\n')).toEqual([
      expect.stringMatching(/^0199eeee-0000-7000-8000-000000000001 .* Zebracorn codex question {2}\[.*code\/app\]$/),
      expect.stringMatching(/^ +\d+ user {6}Zebracorn codex question$/),
      expect.stringMatching(/^ +\d+ assistant Zebracorn codex answer$/),
    ]);
    const shown = await roam('show', '0199ee');
    expect(shown.code, shown.err).toBe(0);
    expect(shown.out).toContain('- session: 0199eeee-0000-7000-8000-000000000001 (codex)');
    expect(shown.out).toMatch(/## User\n\nZebracorn codex question\n\n## Assistant\n\nZebracorn codex answer$/);
    const big = await roam('show', '97b66f6c');
    expect(big.out).toContain('```tool_use shell\n{"command":["bash","-lc","ls -la"]}\n```');
    const json = JSON.parse((await roam('show', BIG, '--json')).out) as TranscriptEntry[];
    expect(json).toHaveLength(766);
    const exported = await roam('export', BIG, '--format', 'json');
    expect(exported.code, exported.err).toBe(0);
    expect(JSON.parse(exported.out)).toHaveLength(766);
  });

  it('roam share and roam import a Codex session: a rollout of its date, cwd here, a new id when taken', async () => {
    const file = join(base, 'codex.json.gz');
    const shared = await roam('share', BIG, '--out', file);
    expect(shared.code, shared.err).toBe(0);
    // Into another CODEX_HOME: the same id, a rollout of the session's first day (local time).
    process.env.CODEX_HOME = join(base, 'codex-b');
    const imp = await roam('import', file, '--json');
    expect(imp.code, imp.err).toBe(0);
    const rep = JSON.parse(imp.out) as { id: string; renamed: boolean; transcript: string; command: { argv: string[]; cwd: string } };
    expect(rep).toMatchObject({ id: BIG, renamed: false, command: { argv: ['codex', 'resume', BIG], cwd: realpathSync(project) } });
    expect(rep.transcript).toMatch(new RegExp(`/codex-b/sessions/2025/11/0[12]/rollout-2025-11-0[12]T\\d\\d-\\d\\d-\\d\\d-${BIG}\\.jsonl$`));
    const b = adapter();
    const info = (await b.list({ project: realpathSync(project) }))[0]!;
    expect(info).toMatchObject({ id: BIG, messages: 107, cwd: realpathSync(project) });
    expect(await b.show(BIG)).toHaveLength(766);
    // Back into the first CODEX_HOME: the id is taken, so a new one, in session_meta too.
    process.env.CODEX_HOME = codexHome;
    const again = JSON.parse((await roam('import', file, '--json')).out) as { id: string; renamed: boolean; transcript: string };
    expect(again.renamed).toBe(true);
    expect(again.transcript).toContain(again.id);
    expect(JSON.parse(readFileSync(again.transcript, 'utf8').split('\n')[0]!).payload).toMatchObject({ id: again.id, cwd: realpathSync(project) });
    expect((await adapter().find(again.id))?.messages).toBe(107);
    expect(existsSync(again.transcript)).toBe(true);
  });
});
