/**
 * `roam share` and `roam import` of Copilot CLI sessions through the command table (run() of
 * main.ts), each "machine" a HOME / ROAM_HOME in a temporary directory, the session directories
 * generated in the shapes Copilot CLI 1.0.102 writes (docs/COPILOT.md): what of the session
 * directory travels (and what does not: session.db, locks, rewind snapshots), secrets redacted with
 * every event still JSON, the working-directory context made the importing directory's, an id taken
 * here renamed as the CLI's own fork does it, damaged or foreign bundles refused before anything
 * is written, nothing overwritten.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { roam, tree } from './support/roam.js';
import { on, twoMachines, type ToolMachine } from './support/sandbox.js';
import { bundleFiles, imported, importedAgain, readBundle, withAdded, withEdited } from './support/bundle.js';
import { CopilotAdapter, parseWorkspaceYaml } from '../src/tools/copilot/index.js';
import { sha256 } from '../src/share/bundle.js';
import { hereWorkspace } from '../src/tools/copilot/share.js';
import { CopilotSession } from './fixtures/copilot-lines.js';

const ID = 'c0b11a7e-5e55-4a1d-9d1e-0123456789ab';
// Fabricated, of the real shapes; built at run time so the source holds no token-shaped string.
const GH = `ghp_${'Cp5'.repeat(12)}`;
const PW = 'Sup3rS3cretPw';
const SECRETS = [GH, PW];

let base: string;

type Machine = ToolMachine<'copilot'>;

const events = (file: string) => readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; data: Record<string, any>; id: string });

let a: Machine;
let b: Machine;
let dirA: string;

twoMachines('roam-share-copilot-', 'copilot', (w) => {
  ({ base, a, b } = w);
  const s = new CopilotSession(ID, a.project, 'main');
  (s.lines[0]!.data.context as Record<string, unknown>).repository = 'acme/app';
  (s.lines[0]!.data.context as Record<string, unknown>).headCommit = '2da7505f7a55852ba8e8d7b70cbe5997675451d9';
  s.user(`deploy with my token ${GH}`);
  s.assistant('Running it.', [{ toolCallId: 'call_1', name: 'bash', arguments: { command: `psql postgres://app:${PW}@db/app` } }]);
  s.tool('call_1', 'bash', { command: 'psql' }, `GITHUB_TOKEN=${GH}\n<shellId: 0 completed with exit code 0>`);
  s.assistant('Deployed.');
  s.resume(a.project);
  s.event('session.compaction_complete', { success: true, summaryContent: 'They deployed.', checkpointNumber: 1, checkpointPath: join(a.home, '.copilot', 'session-state', ID, 'checkpoints', '001-deploy.md') });
  s.write(a.copilot, { git_root: a.project, repository: 'acme/app', host_type: 'github', branch: 'main', mc_task_id: 'task-1', created_at: '2026-01-03T09:00:00.000Z' });
  dirA = join(a.copilot, 'session-state', ID);
  mkdirSync(join(dirA, 'checkpoints'), { recursive: true });
  writeFileSync(join(dirA, 'checkpoints', 'index.md'), '| 1 | 001-deploy.md |\n');
  writeFileSync(join(dirA, 'checkpoints', '001-deploy.md'), `# Deploy\nused DB_PASSWORD=${PW}\n`);
  writeFileSync(join(dirA, 'plan.md'), '- deploy\n');
  mkdirSync(join(dirA, 'files'));
  writeFileSync(join(dirA, 'files', 'notes.txt'), 'notes\n');
  mkdirSync(join(dirA, 'rewind-file-snapshots'));
  writeFileSync(join(dirA, 'rewind-file-snapshots', 'tracking.json'), '{}');
  writeFileSync(join(dirA, 'session.db'), Buffer.from('SQLite format 3\0'));
  writeFileSync(join(dirA, '.workspace-fork.lock'), '');
  writeFileSync(join(dirA, 'client-metadata.json'), '{"client":"x"}');
  mkdirSync(join(a.copilot, 'session-state', '.session-operation-locks'), { recursive: true });
  writeFileSync(join(a.copilot, 'session-state', '.session-operation-locks', `${ID}.lock`), '');
  on(a);
});

async function shareA(out = join(base, 'copilot.json.gz')): Promise<string> {
  on(a);
  const r = await roam('share', ID, '--out', out);
  expect(r.code, r.err).toBe(0);
  expect(r.out).toMatch(/copilot session .*6 files/);
  return out;
}

describe('roam share / import of Copilot CLI sessions', () => {
  it('the bundle: events, workspace.yaml, plan, checkpoints and files, redacted, every event still JSON; no database, locks or snapshots', async () => {
    const file = await shareA();
    const doc = readBundle(file);
    expect(doc.manifest).toMatchObject({ tool: 'copilot', sessionId: ID, cwd: a.project, gitBranch: 'main', title: 'deploy with my token [REDACTED:github]' });
    expect(doc.manifest.files.map((f: { name: string }) => f.name)).toEqual([
      'session.jsonl', 'workspace.yaml', 'plan.md', 'checkpoints/001-deploy.md', 'checkpoints/index.md', 'files/notes.txt',
    ]);
    for (const { sha256: hash, data: bytes } of bundleFiles(doc)) {
      expect(sha256(bytes)).toBe(hash);
      for (const s of SECRETS) expect(bytes.toString('utf8')).not.toContain(s);
    }
    const lines = Buffer.from(doc.files['session.jsonl']!, 'base64').toString('utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(readFileSync(join(dirA, 'events.jsonl'), 'utf8').trimEnd().split('\n').length);
    for (const l of lines) JSON.parse(l);
    expect(doc.manifest.redactions).toMatchObject({ github: 4, env: 1, 'url-password': 1 });
  });

  it('imported on another machine: the directory under its id, cwd and git context this directory\'s, listed, shown, resumable', async () => {
    const file = await shareA();
    on(b);
    // B's project is a git work tree on another branch.
    mkdirSync(join(b.project, '.git'));
    writeFileSync(join(b.project, '.git', 'HEAD'), 'ref: refs/heads/feature/x\n');
    const dry = await roam('import', file, '--dry-run', '--json');
    expect(dry.code, dry.err).toBe(0);
    expect(JSON.parse(dry.out)).toMatchObject({ dryRun: true, id: ID, renamed: false });
    expect(existsSync(b.copilot)).toBe(false);

    const r = await roam('import', file, '--json');
    expect(r.code, r.err).toBe(0);
    const dir = join(b.copilot, 'session-state', ID);
    const rep = JSON.parse(r.out) as { id: string; renamed: boolean; transcript: string; command: { argv: string[]; cwd: string } };
    expect(rep).toMatchObject({ id: ID, renamed: false, transcript: join(dir, 'events.jsonl'), command: { argv: ['copilot', '--resume', ID, '-C', b.project], cwd: b.project } });
    expect(tree(dir)).toEqual(['checkpoints/001-deploy.md', 'checkpoints/index.md', 'events.jsonl', 'files/notes.txt', 'plan.md', 'workspace.yaml']);
    const ev = events(rep.transcript);
    expect(ev[0]).toMatchObject({ type: 'session.start', data: { sessionId: ID, context: { cwd: b.project, gitRoot: b.project, branch: 'feature/x' } } });
    expect(ev[0]!.data.context.repository).toBeUndefined();
    expect(ev[0]!.data.context.headCommit).toBeUndefined();
    expect(ev.find((e) => e.type === 'session.resume')!.data.context).toEqual({ cwd: b.project, gitRoot: b.project, branch: 'feature/x' });
    expect(ev.find((e) => e.type === 'session.compaction_complete')!.data.checkpointPath).toBe(join(dir, 'checkpoints', '001-deploy.md'));
    // Every other event is the bundle's, byte for byte.
    const shared = Buffer.from(readBundle(file).files['session.jsonl']!, 'base64').toString('utf8').split('\n');
    const here = readFileSync(rep.transcript, 'utf8').split('\n');
    expect(here.filter((l, i) => l !== shared[i]).length).toBe(3);
    const ws = parseWorkspaceYaml(readFileSync(join(dir, 'workspace.yaml'), 'utf8'));
    expect(ws).toMatchObject({ id: ID, cwd: b.project, git_root: b.project, branch: 'feature/x', client_name: 'github/cli', created_at: '2026-01-03T09:00:00.000Z' });
    for (const k of ['repository', 'host_type', 'mc_task_id']) expect(ws[k]).toBeUndefined();

    const adapter = new CopilotAdapter({ env: process.env, cacheFile: null });
    expect(await adapter.list({ project: b.project })).toEqual([expect.objectContaining({ id: ID, projectKey: b.project, cwd: b.project, gitBranch: 'feature/x', messages: 3 })]);
    const shown = await roam('show', ID);
    expect(shown.out).toContain('deploy with my token [REDACTED:github]');
    for (const s of SECRETS) expect(shown.out).not.toContain(s);
    const resume = await roam('resume', ID, '--dry-run', '--timeout', '1');
    expect(resume.code, resume.err).toBe(0);
    expect(JSON.parse(resume.out.split('\n').pop()!)).toMatchObject({ cwd: b.project, command: ['copilot', '--resume', ID, '-C', b.project] });
  });

  it('an id taken here: a new UUID for the directory, session.start and workspace.yaml, the original untouched; a third import finds it and writes nothing', async () => {
    const file = await shareA();
    const before = new Map(tree(dirA).map((f) => [f, readFileSync(join(dirA, f))]));
    const rep = await imported(file);
    expect(rep.renamed).toBe(true);
    expect(rep.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const dir = join(a.copilot, 'session-state', rep.id);
    expect(rep.transcript).toBe(join(dir, 'events.jsonl'));
    expect(rep.command.argv.slice(0, 4)).toEqual(['copilot', '--resume', rep.id, '-C']);
    const ev = events(rep.transcript);
    expect(ev[0]!.data.sessionId).toBe(rep.id);
    expect(readFileSync(rep.transcript, 'utf8')).not.toContain(ID);
    expect(ev.find((e) => e.type === 'session.compaction_complete')!.data.checkpointPath).toBe(join(dir, 'checkpoints', '001-deploy.md'));
    expect(parseWorkspaceYaml(readFileSync(join(dir, 'workspace.yaml'), 'utf8')).id).toBe(rep.id);
    for (const [f, bytes] of before) expect(readFileSync(join(dirA, f)).equals(bytes), f).toBe(true);
    const adapter = new CopilotAdapter({ env: process.env, cacheFile: null });
    expect((await adapter.list({ project: a.project })).map((s) => s.id).sort()).toEqual([ID, rep.id].sort());
    await importedAgain(file, rep.id);
    expect((await adapter.list({ project: a.project })).map((s) => s.id).sort()).toEqual([ID, rep.id].sort());
  });

  it('a directory by that name, even without events, counts as taken and is left alone', async () => {
    const file = await shareA();
    on(b);
    mkdirSync(join(b.copilot, 'session-state', ID), { recursive: true });
    writeFileSync(join(b.copilot, 'session-state', ID, 'workspace.yaml'), 'id: mine\n');
    const rep = JSON.parse((await roam('import', file, '--json')).out) as { id: string; renamed: boolean };
    expect(rep.renamed).toBe(true);
    expect(tree(join(b.copilot, 'session-state', ID))).toEqual(['workspace.yaml']);
    expect(readFileSync(join(b.copilot, 'session-state', ID, 'workspace.yaml'), 'utf8')).toBe('id: mine\n');
  });

  it('refuses a tampered bundle and files that are not a Copilot session\'s, writing nothing', async () => {
    const file = await shareA();
    on(b);
    const edited = withEdited(file, 'workspace.yaml', (t) => t.replace(/^cwd: .*$/m, 'cwd: /etc'));
    let r = await roam('import', edited);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^ROAM_BUNDLE_HASH_MISMATCH: workspace\.yaml .*tampered/);
    const foreign = withAdded(file, 'subagents/x.jsonl', '{}\n');
    r = await roam('import', foreign);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^ROAM_BUNDLE_INVALID: a Copilot CLI bundle holds .*, not subagents\/x\.jsonl/);
    expect(existsSync(b.copilot)).toBe(false);
  });

  it('workspace.yaml: the fields set or added, the source repository and remote ties dropped, the rest kept', () => {
    const text = 'id: old\ncwd: /a/app\nname: "deploy: it"\nuser_named: true\nrepository: acme/app\nmc_session_id: x\nsummary: |\n  two\n  lines\nupdated_at: 2026-01-03T09:00:00.000Z\n';
    expect(hereWorkspace(text, 'new', '/b/my app', null)).toBe('id: new\ncwd: /b/my app\nname: "deploy: it"\nuser_named: true\nsummary: |\n  two\n  lines\nupdated_at: 2026-01-03T09:00:00.000Z\n');
    expect(hereWorkspace('name: x\n', 'new', '/b', { root: '/b', branch: 'main' })).toBe('name: x\nid: new\ncwd: /b\ngit_root: /b\nbranch: main\n');
  });
});
