/**
 * `roam share` and `roam import` of Gemini CLI sessions through the command table (run() of
 * main.ts), each "machine" a HOME / ROAM_HOME in a temporary directory, the sessions generated in
 * the shapes Gemini CLI 0.61 writes (docs/GEMINI.md): a session with a sub-agent and secrets leaves
 * redacted (every line still JSON), lands on another machine under the slug of the directory it is
 * imported into, which gets registered without touching another project's slug; an id taken there
 * gets a new UUID everywhere the CLI reads it; damaged or foreign bundles are refused before
 * anything is written, and nothing is overwritten.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { roam, tree } from './support/roam.js';
import { on, twoMachines, type ToolMachine } from './support/sandbox.js';
import { bundleFiles, imported, importedAgain, readBundle, withAdded, withEdited } from './support/bundle.js';
import { GeminiAdapter, projectHash } from '../src/tools/gemini/index.js';
import { sha256 } from '../src/share/bundle.js';

const ID = '944f3c7b-81c0-4c5b-bfb5-439774683ac9';
const SUB = '0b5e1d2a-1111-4222-8333-444455556666';
// Fabricated, of the real shapes; built at run time so the source holds no token-shaped string.
const GH = `ghp_${'Gm4'.repeat(12)}`;
const PW = 'Sup3rS3cretPw';
const SECRETS = [GH, PW];

let base: string;

type Machine = ToolMachine<'gemini'>;

function context(dir: string): string {
  return `<session_context>\nThis is the Gemini CLI. We are setting up the context for our chat.\n- **Workspace Directories:**\n  - ${dir}\n- **Directory Structure:**\n\n${dir}/\n</session_context>`;
}

/** What Gemini CLI 0.61 writes for a prompt with a secret, a shell call, two answers, then a resume. */
function sessionLines(id: string, dir: string, t = '2026-11-21T12:47'): object[] {
  const call = {
    id: 'run_shell_command__1', name: 'run_shell_command', args: { command: `psql postgres://app:${PW}@db/app`, description: 'db' },
    result: [{ functionResponse: { id: 'run_shell_command__1', name: 'run_shell_command', response: { output: `Output: GITHUB_TOKEN=${GH}` } } }],
    status: 'success', timestamp: `${t}:03.000Z`,
  };
  const g1 = { id: 'g1', timestamp: `${t}:02.000Z`, type: 'gemini', content: 'I will run it.', thoughts: [], model: 'gemini-2.5-flash' };
  return [
    { sessionId: id, projectHash: projectHash(dir), startTime: `${t}:00.000Z`, lastUpdated: `${t}:00.000Z`, kind: 'main' },
    { $set: { messages: [{ id: 'ctx', timestamp: `${t}:00.000Z`, type: 'user', content: [{ text: context(dir) }] }], lastUpdated: `${t}:00.000Z` } },
    { id: 'u1', timestamp: `${t}:01.000Z`, type: 'user', content: [{ text: `deploy with my token ${GH}` }] },
    g1,
    { ...g1, toolCalls: [call] },
    { id: 'g2', timestamp: `${t}:04.000Z`, type: 'gemini', content: 'Deployed.', thoughts: [], model: 'gemini-2.5-flash' },
    { $set: { lastUpdated: `${t}:04.000Z` } },
    { $set: { sessionId: id } }, // what a resume appends
  ];
}

function write(file: string, lines: object[]): string {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  return file;
}

function projects(m: Machine): Record<string, string> {
  try {
    return (JSON.parse(readFileSync(join(m.gemini, 'projects.json'), 'utf8')) as { projects: Record<string, string> }).projects;
  } catch {
    return {};
  }
}

/** Every file under a directory, relative, sorted. */
const lines = (file: string) => readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, any>);

let a: Machine;
let b: Machine;
let fileA: string;

twoMachines('roam-share-gemini-', 'gemini', (w) => {
  ({ base, a, b } = w);
  for (const m of [a, b]) mkdirSync(m.gemini, { recursive: true });
  writeFileSync(join(a.gemini, 'projects.json'), JSON.stringify({ projects: { [a.project]: 'app' } }));
  fileA = write(join(a.gemini, 'tmp', 'app', 'chats', `session-2026-11-21T12-47-${ID.slice(0, 8)}.jsonl`), sessionLines(ID, a.project));
  write(join(a.gemini, 'tmp', 'app', 'chats', ID, `${SUB}.jsonl`), [
    { sessionId: SUB, projectHash: projectHash(a.project), startTime: '2026-11-21T12:47:02.000Z', lastUpdated: '2026-11-21T12:47:02.000Z', kind: 'subagent', directories: [a.project] },
    { id: 's1', timestamp: '2026-11-21T12:47:02.500Z', type: 'user', content: [{ text: `sub-agent sees DB_PASSWORD=${PW}` }] },
  ]);
  on(a);
});

async function shareA(out = join(base, 'gemini.json.gz')): Promise<string> {
  on(a);
  const r = await roam('share', ID.slice(0, 8), '--out', out);
  expect(r.code, r.err).toBe(0);
  expect(r.out).toMatch(/gemini session .*2 files/);
  expect(r.out).toMatch(/secrets? redacted \(.*github.*\)/);
  return out;
}

describe('roam share / import of Gemini CLI sessions', () => {
  it('the bundle: the session and its sub-agent, redacted, every line still JSON', async () => {
    const file = await shareA();
    const doc = readBundle(file);
    expect(doc.manifest).toMatchObject({ tool: 'gemini', sessionId: ID, cwd: a.project, title: `deploy with my token [REDACTED:github]`, created: '2026-11-21T12:47:01.000Z' });
    expect(doc.manifest.files.map((f: { name: string }) => f.name)).toEqual(['session.jsonl', `subagents/${SUB}.jsonl`]);
    for (const { sha256: hash, data: bytes } of bundleFiles(doc)) {
      expect(sha256(bytes)).toBe(hash);
      for (const s of SECRETS) expect(bytes.toString('utf8')).not.toContain(s);
      for (const l of bytes.toString('utf8').trimEnd().split('\n')) JSON.parse(l);
    }
    expect(doc.manifest.redactions).toMatchObject({ github: 2, 'url-password': 1, env: 1 });
  });

  it('imported on another machine: under the slug of the directory, registered, listed, shown, resumable by id', async () => {
    const file = await shareA();
    on(b);
    const dry = await roam('import', file, '--dry-run', '--json');
    expect(dry.code, dry.err).toBe(0);
    expect(JSON.parse(dry.out)).toMatchObject({ dryRun: true, id: ID, renamed: false, then: `${b.project} filed under Gemini CLI project "elsewhere"` });
    expect(tree(b.gemini)).toEqual([]);

    const before = Date.now();
    const r = await roam('import', file, '--json');
    expect(r.code, r.err).toBe(0);
    const rep = JSON.parse(r.out) as { id: string; renamed: boolean; transcript: string; files: string[]; command: { argv: string[]; cwd: string }; did: string[]; warnings?: string[] };
    expect(rep).toMatchObject({ id: ID, renamed: false, command: { argv: ['gemini', '--resume', ID], cwd: b.project } });
    const stamp = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace(/:/g, '-');
    const chats = join(b.gemini, 'tmp', 'elsewhere', 'chats');
    expect([`session-${stamp(before)}-${ID.slice(0, 8)}.jsonl`, `session-${stamp(Date.now())}-${ID.slice(0, 8)}.jsonl`]).toContain(rep.transcript.slice(chats.length + 1));
    expect(rep.files).toEqual([join(chats, ID, `${SUB}.jsonl`), rep.transcript]);
    // Registered as the CLI would: projects.json and both ownership markers.
    expect(projects(b)).toEqual({ [b.project]: 'elsewhere' });
    for (const d of ['tmp', 'history']) expect(readFileSync(join(b.gemini, d, 'elsewhere', '.project_root'), 'utf8')).toBe(b.project);
    expect(rep.did).toHaveLength(3);
    // The metadata now says this project; everything else is the bundle's.
    const got = lines(rep.transcript);
    expect(got[0]).toMatchObject({ sessionId: ID, projectHash: projectHash(b.project), kind: 'main' });
    for (const s of SECRETS) expect(readFileSync(rep.transcript, 'utf8')).not.toContain(s);

    const adapter = new GeminiAdapter({ env: process.env, cacheFile: null });
    const listed = await adapter.list({ project: b.project });
    expect(listed).toEqual([expect.objectContaining({ id: ID, projectKey: 'elsewhere', messages: 3, file: rep.transcript })]);
    const shown = await roam('show', ID);
    expect(shown.out).toContain('deploy with my token [REDACTED:github]');
    expect(shown.out).toContain('Deployed.');
    const again = await roam('resume', ID, '--dry-run', '--timeout', '1');
    expect(again.code, again.err).toBe(0);
    expect(JSON.parse(again.out.split('\n').pop()!)).toMatchObject({ cwd: b.project, command: ['gemini', '--resume', ID] });
  });

  it('an id taken here: a new UUID in every record and in the file name, the original untouched; a third import finds it and writes nothing', async () => {
    const file = await shareA();
    const before = readFileSync(fileA);
    const subBefore = readFileSync(join(a.gemini, 'tmp', 'app', 'chats', ID, `${SUB}.jsonl`));
    const rep = await imported(file);
    expect(rep.renamed).toBe(true);
    expect(rep.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(rep.id).not.toBe(ID);
    expect(rep.transcript).toMatch(new RegExp(`/tmp/app/chats/session-[0-9T-]+-${rep.id.slice(0, 8)}\\.jsonl$`));
    expect(rep.command.argv).toEqual(['gemini', '--resume', rep.id]);
    const got = lines(rep.transcript);
    expect(got[0]!.sessionId).toBe(rep.id);
    expect(got.filter((l) => l.$set?.sessionId !== undefined).map((l) => l.$set.sessionId)).toEqual([rep.id]);
    expect(readFileSync(rep.transcript, 'utf8')).not.toContain(ID);
    expect(existsSync(join(a.gemini, 'tmp', 'app', 'chats', rep.id, `${SUB}.jsonl`))).toBe(true);
    expect(readFileSync(fileA).equals(before)).toBe(true);
    expect(readFileSync(join(a.gemini, 'tmp', 'app', 'chats', ID, `${SUB}.jsonl`)).equals(subBefore)).toBe(true);
    expect(projects(a)).toEqual({ [a.project]: 'app' });
    const adapter = new GeminiAdapter({ env: process.env, cacheFile: null });
    expect((await adapter.list({ project: a.project })).map((s) => s.id).sort()).toEqual([ID, rep.id].sort());
    await importedAgain(file, rep.id);
    expect((await adapter.list({ project: a.project })).map((s) => s.id).sort()).toEqual([ID, rep.id].sort());
  });

  it('a file of the slug ending in the id\'s first 8 characters (which the CLI\'s cleanup takes for one session) counts as taken', async () => {
    const file = await shareA();
    on(b);
    const stub = write(join(b.gemini, 'tmp', 'elsewhere', 'chats', `session-2026-11-20T08-00-${ID.slice(0, 8)}.jsonl`), [{ sessionId: ID, projectHash: 'x', startTime: 'x', lastUpdated: 'x', kind: 'main' }]);
    writeFileSync(join(b.gemini, 'projects.json'), JSON.stringify({ projects: { [b.project]: 'elsewhere' } }));
    const stubBytes = readFileSync(stub);
    const rep = JSON.parse((await roam('import', file, '--json')).out) as { id: string; renamed: boolean };
    expect(rep.renamed).toBe(true);
    expect(readFileSync(stub).equals(stubBytes)).toBe(true);
  });

  it('nothing of another project is taken: a slug another directory owns is left to it', async () => {
    const file = await shareA();
    on(b);
    const other = join(b.home, 'old', 'elsewhere');
    mkdirSync(other, { recursive: true });
    writeFileSync(join(b.gemini, 'projects.json'), JSON.stringify({ projects: { [other]: 'elsewhere' } }));
    const mine = write(join(b.gemini, 'tmp', 'elsewhere', 'chats', 'session-2026-11-20T08-00-aaaaaaaa.jsonl'), sessionLines('aaaaaaaa-0000-4000-8000-000000000000', other));
    writeFileSync(join(b.gemini, 'tmp', 'elsewhere', '.project_root'), other);
    const r = await roam('import', file, '--json');
    expect(r.code, r.err).toBe(0);
    const rep = JSON.parse(r.out) as { transcript: string };
    expect(rep.transcript.startsWith(join(b.gemini, 'tmp', 'elsewhere-1', 'chats') + '/')).toBe(true);
    expect(projects(b)).toEqual({ [other]: 'elsewhere', [b.project]: 'elsewhere-1' });
    expect(readFileSync(join(b.gemini, 'tmp', 'elsewhere', '.project_root'), 'utf8')).toBe(other);
    expect(readdirSync(join(b.gemini, 'tmp', 'elsewhere', 'chats'))).toEqual([mine.split('/').pop()]);

    // projects.json maps this directory, but the slug's marker names another: refused, nothing written.
    const third = join(b.home, 'third');
    mkdirSync(third);
    writeFileSync(join(b.gemini, 'projects.json'), JSON.stringify({ projects: { [other]: 'elsewhere', [b.project]: 'elsewhere-1', [third]: 'elsewhere' } }));
    on(b, third);
    const refused = await roam('import', file);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/^ROAM_USAGE: Gemini CLI's project "elsewhere" here is marked as .*old\/elsewhere's/);
    expect(readdirSync(join(b.gemini, 'tmp', 'elsewhere', 'chats'))).toEqual([mine.split('/').pop()]);
  });

  it('refuses a tampered bundle and files that are not a Gemini session\'s, writing nothing', async () => {
    const file = await shareA();
    on(b);
    const edited = withEdited(file, 'session.jsonl', (t) => t.replace('Deployed.', 'rm -rf /'));
    let r = await roam('import', edited);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^ROAM_BUNDLE_HASH_MISMATCH: session\.jsonl .*tampered/);
    // A well-formed bundle, but with a Copilot file in it.
    const foreign = withAdded(file, 'workspace.yaml', 'id: x\n');
    r = await roam('import', foreign);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^ROAM_BUNDLE_INVALID: a Gemini CLI bundle holds session\.jsonl and subagents\/, not workspace\.yaml/);
    expect(tree(b.gemini)).toEqual([]);
  });

  it('a legacy whole-file session (.json) is imported as one, with its id and project hash; being old, with a warning about the CLI\'s cleanup', async () => {
    on(a);
    const LEGACY = '7e57ab1e-0000-4000-8000-0000000000aa';
    const doc = {
      sessionId: LEGACY, projectHash: projectHash(a.project), startTime: '2025-06-01T10:00:00.000Z', lastUpdated: '2025-06-01T10:00:05.000Z',
      messages: [{ id: 'm1', timestamp: '2025-06-01T10:00:01.000Z', type: 'user', content: 'an old session' }, { id: 'm2', timestamp: '2025-06-01T10:00:02.000Z', type: 'gemini', content: 'Old answer.' }],
    };
    mkdirSync(join(a.gemini, 'tmp', projectHash(a.project), 'chats'), { recursive: true });
    writeFileSync(join(a.gemini, 'tmp', projectHash(a.project), 'chats', 'session-2025-06-01T10-00-7e57ab1e.json'), JSON.stringify(doc, null, 2));
    const out = join(base, 'legacy.json.gz');
    expect((await roam('share', LEGACY, '--out', out)).code).toBe(0);
    on(b);
    const dry = await roam('import', out, '--dry-run');
    expect(dry.err).toMatch(/^roam: warning: Gemini CLI's session cleanup \(general\.sessionRetention, maxAge 30d\) deletes sessions last updated before .*, as this one was \(2025-06-01T10:00:05\.000Z\), whenever it starts in this project: resume it first \(gemini --resume 7e57ab1e-0000-4000-8000-0000000000aa\)/);
    // Cleanup off: no warning.
    writeFileSync(join(b.gemini, 'settings.json'), JSON.stringify({ general: { sessionRetention: { enabled: false } } }));
    expect((await roam('import', out, '--dry-run')).err).toBe('');
    writeFileSync(join(b.gemini, 'settings.json'), JSON.stringify({ general: { sessionRetention: { enabled: true, maxAge: '5000w' } } }));
    expect((await roam('import', out, '--dry-run')).err).toBe('');
    const rep = JSON.parse((await roam('import', out, '--json')).out) as { id: string; transcript: string; warnings?: string[] };
    expect(rep.warnings).toBeUndefined();
    expect(rep.transcript).toMatch(/\/tmp\/elsewhere\/chats\/session-[0-9T-]+-7e57ab1e\.json$/);
    expect(JSON.parse(readFileSync(rep.transcript, 'utf8'))).toEqual({ ...doc, projectHash: projectHash(b.project) });
    const adapter = new GeminiAdapter({ env: process.env, cacheFile: null });
    expect((await adapter.list({ project: b.project })).map((s) => s.id)).toEqual([LEGACY]);
  });
});
