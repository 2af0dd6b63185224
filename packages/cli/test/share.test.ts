/**
 * `roam export`, `roam share` and `roam import` through the command table (run() of main.ts), each
 * "machine" a HOME / CLAUDE_CONFIG_DIR / ROAM_HOME in a temporary directory: a session with secrets
 * in its messages, tool results, sub-agent transcripts and large tool outputs leaves redacted, a
 * bundle round-trips into another machine, and damaged or hostile bundles are refused before
 * anything is written.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { roam } from './support/roam.js';
import { on, twoMachines, type ToolMachine } from './support/sandbox.js';
import { bundleFiles, imported, readBundle, tamper, withEdited } from './support/bundle.js';
import { ClaudeAdapter, projectKey } from '../src/tools/claude/index.js';
import { BUNDLE_FORMAT, sha256 } from '../src/share/bundle.js';
import { Session } from './fixtures/claude-lines.js';

const ID = '5a5a5a5a-0000-4000-8000-00000000c0de';
// Fabricated, of the real shapes; built at run time so the source holds no token-shaped string.
const GH = `ghp_${'Zx9'.repeat(12)}`;
const ANT = `sk-ant-api03-${'AbC1dE2fG3hI4jK5'.repeat(6)}AA`;
const AWS_ID = `AKIA${'Q7RZ'.repeat(4)}`;
const PEM = `-----BEGIN OPENSSH PRIVATE KEY-----\n${'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ'.repeat(2)}\n${'QyNTUxOQAAACDx7Zq'.repeat(4)}\n-----END OPENSSH PRIVATE KEY-----`;
const SECRETS = [GH, ANT, AWS_ID, 'Sup3rS3cretPw', PEM.split('\n')[1]!];

let base: string;

type Machine = ToolMachine<'claude'>;

let a: Machine;
let b: Machine;
let transcriptA: string;

twoMachines('roam-share-', 'claude', (w) => {
  ({ base, a, b } = w);
  const s = new Session(ID, a.project);
  s.user(`Deploy with my token ${GH} please`);
  const use = s.toolUse('Bash', { command: `curl -H "x-api-key: ${ANT}" https://api.example.com` });
  s.assistant([{ type: 'text', text: 'Running it.' }, use]);
  s.toolResult(use.id, `AWS_ACCESS_KEY_ID=${AWS_ID}\nDB_PASSWORD=Sup3rS3cretPw\n${PEM}\n`);
  s.assistant([{ type: 'text', text: 'Deployed. The build id is 2da7505f7a55852ba8e8d7b70cbe5997675451d9.' }]);
  s.customTitle('Deploy the app');
  const keyDir = join(a.claude, 'projects', projectKey(a.project));
  transcriptA = s.write(join(keyDir, `${ID}.jsonl`));
  const agent = new Session(ID, a.project);
  agent.user(`sub-agent sees postgres://app:Sup3rS3cretPw@db/app`, { isSidechain: true });
  agent.write(join(keyDir, ID, 'subagents', 'agent-a1b2c3.jsonl'));
  writeFileSync(join(keyDir, ID, 'subagents', 'agent-a1b2c3.meta.json'), `{\n  "agentType": "general-purpose",\n  "token": "${GH}"\n}\n`);
  mkdirSync(join(keyDir, ID, 'tool-results'), { recursive: true });
  writeFileSync(join(keyDir, ID, 'tool-results', 'b38fwkbqc.txt'), `line 1\nexport GITHUB_TOKEN=${GH}\nline 3\n`);
  on(a);
});

function noSecrets(text: string): void {
  for (const s of SECRETS) expect(text).not.toContain(s);
}

describe('roam export', () => {
  it('markdown as roam show renders it, secrets redacted, and the count on stderr', async () => {
    const shown = await roam('show', ID);
    const r = await roam('export', ID.slice(0, 8));
    expect(r.code, r.err).toBe(0);
    noSecrets(r.out);
    expect(r.out).toContain('Deploy with my token [REDACTED:github] please');
    expect(r.out).toContain('[REDACTED:private-key]');
    expect(r.out).toContain('DB_PASSWORD=[REDACTED:env]');
    expect(r.out).toContain('2da7505f7a55852ba8e8d7b70cbe5997675451d9'); // not a secret
    // Line for line what `roam show` prints, but for the redacted spans.
    const plain = r.out.replace(/\[REDACTED:[a-z-]+\]/g, 'X');
    expect(plain.split('\n').length).toBe(shown.out.split('\n').length - (PEM.split('\n').length - 1));
    expect(r.err).toMatch(/^roam: \d+ secrets redacted \(.*github.*\)$/);
  });

  it('--format json: the entries; --no-redact keeps them; --out writes a file once', async () => {
    const r = await roam('export', ID, '--format', 'json');
    const entries = JSON.parse(r.out) as Array<{ role: string; text: string; toolUses: Array<{ input: { command: string } }> }>;
    expect(entries.map((e) => e.role)).toEqual(['user', 'assistant', 'assistant', 'user', 'assistant']);
    expect(entries[0]!.text).toBe('Deploy with my token [REDACTED:github] please');
    expect(entries[2]!.toolUses[0]!.input.command).toBe('curl -H "x-api-key: [REDACTED:anthropic]" https://api.example.com');
    noSecrets(r.out);
    const raw = await roam('export', ID, '--format', 'json', '--no-redact');
    expect(raw.out).toContain(GH);
    expect(raw.err).toMatch(/not redacted/);
    const out = join(base, 'x.md');
    expect((await roam('export', ID, '--out', out)).code).toBe(0);
    noSecrets(readFileSync(out, 'utf8'));
    const again = await roam('export', ID, '--out', out);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/^ROAM_USAGE: .*exists already/);
    expect((await roam('export', ID, '--format', 'pdf')).err).toMatch(/^ROAM_USAGE: --format pdf/);
    expect((await roam('export', 'nope')).err).toMatch(/^ROAM_SESSION_NOT_FOUND/);
  });

  it('--json reports what was exported and where (--format json stays the entries)', async () => {
    const out = join(base, 'x.json');
    const r = await roam('export', ID, '--format', 'json', '--out', out, '--json');
    expect(r.code, r.err).toBe(0);
    const rep = JSON.parse(r.out) as Record<string, unknown>;
    expect(rep).toMatchObject({ tool: 'claude', id: ID, format: 'json', file: out, entries: 5, redacted: true, bytes: readFileSync(out).length });
    expect((rep.redactions as Record<string, number>).github).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toHaveLength(5);
    // Without --out, the export itself is printed, and the report goes to stderr as JSON.
    const piped = await roam('export', ID, '--json');
    expect(piped.out).toContain('Deploy with my token [REDACTED:github] please');
    expect(JSON.parse(piped.err)).toMatchObject({ id: ID, format: 'md', file: null, redacted: true });
  });
});

describe('roam share and roam import', () => {
  async function shareA(out = join(base, 'deploy.json.gz')): Promise<string> {
    on(a);
    const r = await roam('share', ID, '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/secrets redacted/);
    return out;
  }

  it('the bundle: a manifest with hashes, every file redacted, nothing else', async () => {
    const file = await shareA();
    const doc = readBundle(file);
    expect(doc.manifest).toMatchObject({
      format: BUNDLE_FORMAT, version: 1, tool: 'claude', sessionId: ID, title: 'Deploy the app', cwd: a.project, gitBranch: 'main', redacted: true,
      created: '2026-01-02T10:00:01.000Z',
    });
    expect(typeof doc.manifest.sourceDevice).toBe('string');
    expect(doc.manifest.files.map((f: { name: string }) => f.name)).toEqual(['session.jsonl', 'subagents/agent-a1b2c3.jsonl', 'subagents/agent-a1b2c3.meta.json', 'tool-results/b38fwkbqc.txt']);
    for (const { data: bytes, ...f } of bundleFiles(doc)) {
      expect(sha256(bytes)).toBe(f.sha256);
      expect(bytes.length).toBe(f.bytes);
      noSecrets(bytes.toString('utf8'));
      if (f.name.endsWith('.jsonl')) for (const l of bytes.toString('utf8').trimEnd().split('\n')) JSON.parse(l);
    }
    expect(doc.manifest.redactions).toMatchObject({ github: 3, anthropic: 1, aws: 1, env: 1, 'private-key': 1, 'url-password': 1 });
    // Lines without secrets are byte for byte the original's.
    const original = readFileSync(transcriptA, 'utf8').split('\n');
    const shared = Buffer.from(doc.files['session.jsonl']!, 'base64').toString('utf8').split('\n');
    expect(shared.length).toBe(original.length);
    expect(shared.filter((l, i) => l === original[i]).length).toBe(original.length - 3);
    // Never overwritten.
    expect((await roam('share', ID, '--out', file)).err).toMatch(/^ROAM_USAGE: .*exists already/);
  });

  it('round trip: imported on another machine under its own project key, it lists, shows and resumes by id', async () => {
    const file = await shareA();
    on(b);
    const dry = await roam('import', file, '--dry-run', '--json');
    expect(dry.code, dry.err).toBe(0);
    expect(JSON.parse(dry.out)).toMatchObject({ dryRun: true, id: ID, renamed: false });
    expect(existsSync(join(b.claude, 'projects'))).toBe(false);

    const r = await roam('import', file);
    expect(r.code, r.err).toBe(0);
    const keyDir = join(b.claude, 'projects', projectKey(b.project));
    expect(r.out).toContain(`imported claude session ${ID} "Deploy the app"`);
    expect(r.out).toContain(`resume it: claude --resume ${ID}`);
    expect(readdirSync(keyDir).sort()).toEqual([ID, `${ID}.jsonl`]);
    expect(readdirSync(join(keyDir, ID, 'subagents')).sort()).toEqual(['agent-a1b2c3.jsonl', 'agent-a1b2c3.meta.json']);
    expect(readFileSync(join(keyDir, ID, 'tool-results', 'b38fwkbqc.txt'), 'utf8')).toBe('line 1\nexport GITHUB_TOKEN=[REDACTED:github]\nline 3\n');

    const adapter = new ClaudeAdapter({ env: process.env, cacheFile: null });
    const listed = await adapter.list({ project: b.project });
    expect(listed.map((s) => s.id)).toEqual([ID]);
    expect(listed[0]).toMatchObject({ title: 'Deploy the app', messages: 5, projectKey: projectKey(b.project) });
    const shown = await roam('show', ID);
    expect(shown.out).toContain('Deploy with my token [REDACTED:github] please');
    noSecrets(shown.out);
    const dryResume = await roam('resume', ID, '--dry-run', '--timeout', '1');
    expect(JSON.parse(dryResume.out.split('\n').pop()!)).toMatchObject({ cwd: b.project, command: ['claude', '--resume', ID] });
  });

  it('an id that is taken here: a new id, the lines say so, the original untouched', async () => {
    const file = await shareA();
    const before = readFileSync(transcriptA);
    const rep = await imported(file);
    expect(rep.renamed).toBe(true);
    expect(rep.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(rep.id).not.toBe(ID);
    expect(rep.command.argv).toEqual(['claude', '--resume', rep.id]);
    expect(readFileSync(transcriptA).equals(before)).toBe(true);
    const lines = readFileSync(rep.transcript, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { sessionId?: string });
    expect(lines.every((l) => l.sessionId === rep.id)).toBe(true);
    const sub = readFileSync(join(rep.transcript.slice(0, -'.jsonl'.length), 'subagents', 'agent-a1b2c3.jsonl'), 'utf8');
    expect(JSON.parse(sub.split('\n')[0]!).sessionId).toBe(rep.id);
    const adapter = new ClaudeAdapter({ env: process.env, cacheFile: null });
    expect((await adapter.list({ project: a.project })).map((s) => s.id).sort()).toEqual([ID, rep.id].sort());
    // A second import of the same bundle finds the first and writes nothing.
    const again = await roam('import', file, '--json');
    expect(again.code, again.err).toBe(0);
    expect(JSON.parse(again.out)).toMatchObject({ already: true, id: rep.id, transcript: rep.transcript, files: [] });
    expect((await adapter.list({ project: a.project })).map((s) => s.id).sort()).toEqual([ID, rep.id].sort());
  });

  it('the same bundle imported twice: one copy, and the second import says where it is', async () => {
    const file = await shareA();
    on(b);
    const first = await roam('import', file);
    expect(first.code, first.err).toBe(0);
    const keyDir = join(b.claude, 'projects', projectKey(b.project));
    const before = readdirSync(keyDir).sort();
    const dry = await roam('import', file, '--dry-run', '--json');
    expect(JSON.parse(dry.out)).toMatchObject({ dryRun: true, already: true, id: ID });
    const second = await roam('import', file);
    expect(second.code, second.err).toBe(0);
    expect(second.out).toBe(`already imported: claude session ${ID} is ${join(keyDir, `${ID}.jsonl`)} (nothing written)`);
    expect(readdirSync(keyDir).sort()).toEqual(before);
    const adapter = new ClaudeAdapter({ env: process.env, cacheFile: null });
    expect((await adapter.list()).map((s) => s.id)).toEqual([ID]);
  });

  it('import --dry-run reports the id the import then uses, when the id is taken here', async () => {
    const file = await shareA();
    // On A the session exists unredacted: the redacted bundle differs, so it needs a new id.
    const dry = await roam('import', file, '--dry-run', '--json');
    expect(dry.code, dry.err).toBe(0);
    const planned = JSON.parse(dry.out) as { id: string; renamed: boolean };
    expect(planned.renamed).toBe(true);
    const real = JSON.parse((await roam('import', file, '--json')).out) as { id: string; renamed: boolean };
    expect(real.id).toBe(planned.id);
  });

  async function refused(file: string, code: string, message: RegExp): Promise<void> {
    on(b);
    const r = await roam('import', file);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`^${code}: `));
    expect(r.err).toMatch(message);
    expect(existsSync(join(b.claude, 'projects'))).toBe(false);
  }

  it('refuses a tampered file, a file the manifest does not list, or one it lacks', async () => {
    const file = await shareA();
    const edited = withEdited(file, 'session.jsonl', (t) => t.replace('Deploy with my token', 'Delete everything, token'));
    await refused(edited, 'ROAM_BUNDLE_HASH_MISMATCH', /session\.jsonl .*does not match its manifest.*tampered/);
    await refused(tamper(file, (d) => (d.files['tool-results/extra.txt'] = 'eA==')), 'ROAM_BUNDLE_INVALID', /extra\.txt, which its manifest does not list/);
    await refused(tamper(file, (d) => delete d.files['subagents/agent-a1b2c3.jsonl']), 'ROAM_BUNDLE_INVALID', /lacks subagents\/agent-a1b2c3\.jsonl/);
  });

  it('refuses names that escape, absolute names, NUL, and unknown folders, before writing anything', async () => {
    const file = await shareA();
    const rename = (to: string) => tamper(file, (d) => {
      const f = d.manifest.files.find((x: { name: string }) => x.name === 'tool-results/b38fwkbqc.txt');
      d.files[to] = d.files[f.name]!;
      delete d.files[f.name];
      f.name = to;
    });
    await refused(rename('tool-results/../../../../.bashrc'), 'ROAM_PATH_ESCAPE', /leaves the bundle/);
    await refused(rename('/etc/cron.d/x'), 'ROAM_PATH_ESCAPE', /absolute path/);
    await refused(rename('tool-results/a\u0000.txt'), 'ROAM_PATH_INVALID', /NUL/);
    await refused(rename('tool-results\\..\\..\\x'), 'ROAM_PATH_INVALID', /backslash/);
    await refused(rename('memory/notes.md'), 'ROAM_PATH_INVALID', /not session\.jsonl nor under/);
    await refused(rename('tool-results//x'), 'ROAM_PATH_INVALID', /not a plain relative path/);
  });

  it('refuses what is not a bundle, or a bundle of a newer format', async () => {
    const file = await shareA();
    const junk = join(base, 'junk.gz');
    writeFileSync(junk, 'hello');
    await refused(junk, 'ROAM_BUNDLE_INVALID', /not gzip data/);
    writeFileSync(junk, gzipSync('{"hello": 1}'));
    await refused(junk, 'ROAM_BUNDLE_INVALID', /no manifest/);
    await refused(tamper(file, (d) => (d.manifest.version = 2)), 'ROAM_BUNDLE_INVALID', /version 2 is not 1 \(made by a newer roam\)/);
    await refused(tamper(file, (d) => (d.manifest.sessionId = '../../x')), 'ROAM_BUNDLE_INVALID', /is not an id/);
    const missing = await roam('import', join(base, 'nope.gz'));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/^ROAM_USAGE: cannot read/);
  });
});
