/**
 * `roam share` → `roam import` with the real Claude Code CLI (pinned in the root package.json)
 * against the loopback mock of the messages API (test/support): a session written on machine A
 * with secrets in it is shared, imported on machine B (another HOME, another project path), and
 * `claude -p --resume <id>` there sends the redacted history. Imported back on A, where the id is
 * taken, it gets a new id that the CLI resumes too, and A's original is untouched.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectKey } from '../src/tools/claude/index.js';
import { runClaude } from '../../../test/support/claude.js';
import { conversationRequests, messageText, startMockAnthropic, type MockAnthropic, type RecordedRequest } from '../../../test/support/mock-anthropic.js';
import { ROAM } from '../../../test/support/daemons.js';

let mock: MockAnthropic;
let base: string;

beforeAll(async () => {
  mock = await startMockAnthropic({ text: 'Noted.' });
  base = realpathSync(mkdtempSync(join(tmpdir(), 'roam-share-claude-')));
});
afterAll(async () => {
  await mock.close();
  rmSync(base, { recursive: true, force: true });
});

// Fabricated, of the real shapes.
const GH = `ghp_${'Qw3'.repeat(12)}`;
const PW = 'Sup3rS3cretPw';

function roam(home: string, cwd: string, args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [ROAM, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, ROAM_HOME: join(home, '.roam') },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function lastConversation(since: number): RecordedRequest {
  const conv = conversationRequests(mock.requests.slice(since));
  expect(conv.length).toBeGreaterThan(0);
  return conv[conv.length - 1]!;
}

const userTexts = (r: RecordedRequest) => (r.body.messages as Array<{ role: string; content: unknown }>).filter((m) => m.role === 'user').map((m) => messageText(m));

describe('roam share / import with the real Claude Code CLI', () => {
  it('B resumes the imported session, and the model gets the redacted history', async () => {
    const homeA = join(base, 'a');
    const homeB = join(base, 'b');
    const projA = join(homeA, 'code', 'app');
    const projB = join(homeB, 'work', 'other-app');
    mkdirSync(projA, { recursive: true });
    mkdirSync(projB, { recursive: true });

    const first = await runClaude({ args: ['-p', `Remember: my token is ${GH} and the db is postgres://app:${PW}@db/app`], cwd: projA, home: homeA, baseUrl: mock.url, timeoutMs: 60_000 });
    expect(first.code, first.stderr).toBe(0);
    const keyDirA = join(homeA, '.claude', 'projects', projectKey(realpathSync(projA)));
    const [name] = readdirSync(keyDirA).filter((n) => n.endsWith('.jsonl'));
    const id = name!.slice(0, -'.jsonl'.length);
    const original = readFileSync(join(keyDirA, name!));
    expect(original.toString()).toContain(GH);

    const bundle = join(base, 'shared.json.gz');
    const shared = roam(homeA, projA, ['share', id.slice(0, 8), '--out', bundle]);
    expect(shared.code, shared.err).toBe(0);
    expect(shared.out).toMatch(/\d+ secrets? redacted \(.*github.*url-password.*\)/);

    // B: import into its own project, then the real CLI resumes it by id.
    const imported = roam(homeB, projB, ['import', bundle, '--json']);
    expect(imported.code, imported.err).toBe(0);
    const rep = JSON.parse(imported.out) as { id: string; renamed: boolean; transcript: string; command: { argv: string[]; cwd: string } };
    expect(rep).toMatchObject({ id, renamed: false, command: { argv: ['claude', '--resume', id], cwd: realpathSync(projB) } });
    expect(rep.transcript).toBe(join(homeB, '.claude', 'projects', projectKey(realpathSync(projB)), `${id}.jsonl`));
    const onDisk = readFileSync(rep.transcript, 'utf8');
    expect(onDisk).not.toContain(GH);
    expect(onDisk).not.toContain(PW);

    let mark = mock.requests.length;
    const resumed = await runClaude({ args: ['-p', '--resume', id, 'What did I tell you?'], cwd: projB, home: homeB, baseUrl: mock.url, timeoutMs: 60_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    const req = lastConversation(mark);
    const users = userTexts(req);
    expect(users.some((t) => t.includes('my token is [REDACTED:github] and the db is postgres://app:[REDACTED:url-password]@db/app'))).toBe(true);
    expect(users[users.length - 1]).toContain('What did I tell you?');
    for (const r of mock.requests.slice(mark)) {
      expect(r.rawBody).not.toContain(GH);
      expect(r.rawBody).not.toContain(PW);
    }
    // The CLI appended to the imported file, under the same id.
    expect(readFileSync(rep.transcript, 'utf8').length).toBeGreaterThan(onDisk.length);

    // Back on A, where the id is taken: a new id, and the CLI resumes that one.
    const again = roam(homeA, projA, ['import', bundle, '--json']);
    expect(again.code, again.err).toBe(0);
    const rep2 = JSON.parse(again.out) as { id: string; renamed: boolean };
    expect(rep2.renamed).toBe(true);
    mark = mock.requests.length;
    const resumed2 = await runClaude({ args: ['-p', '--resume', rep2.id, 'And again?'], cwd: projA, home: homeA, baseUrl: mock.url, timeoutMs: 60_000 });
    expect(resumed2.code, resumed2.stderr).toBe(0);
    const req2 = lastConversation(mark);
    expect(req2.headers['x-claude-code-session-id']).toBe(rep2.id);
    expect(userTexts(req2).some((t) => t.includes('my token is [REDACTED:github]'))).toBe(true);
    expect(readFileSync(join(keyDirA, name!)).equals(original)).toBe(true);
  }, 180_000);
});
