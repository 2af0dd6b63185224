/**
 * The real Claude Code CLI (the pinned `@anthropic-ai/claude-code`) against a local mock of the
 * Anthropic API: the facts `roam resume` depends on (docs/CLAUDE-CODE.md). Each "machine" is its
 * own HOME under one temp dir; a CLI bump that changes any of these fails here.
 */
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../packages/core/test/support/poll.js';
import { projectKey as roamProjectKey } from '../../packages/cli/src/tools/claude/index.js';
import { claudeBin, claudeProjectKey, runClaude, startClaudePty, type RunClaudeResult } from '../support/claude.js';
import {
  conversationRequests,
  DEFAULT_MOCK_TEXT,
  messageRequests,
  messageText,
  startMockAnthropic,
  type MockAnthropic,
  type MockReply,
  type RecordedRequest,
} from '../support/mock-anthropic.js';

const rootPkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  devDependencies: Record<string, string>;
};
const PINNED = rootPkg.devDependencies['@anthropic-ai/claude-code'] ?? '';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let root = '';
let mock: MockAnthropic;
/** Replies for the next main-loop requests, in order (default text once empty). */
let replies: MockReply[] = [];
/** While set, main-loop answers wait for this promise. */
let gate: Promise<void> | undefined;

interface Machine {
  readonly home: string;
  readonly projects: string;
  readonly sessions: string;
}
function machine(name: string): Machine {
  const home = join(root, name);
  mkdirSync(home, { recursive: true });
  return { home, projects: join(home, '.claude', 'projects'), sessions: join(home, '.claude', 'sessions') };
}
function projectDir(m: Machine, rel: string, git = true): string {
  const dir = join(m.home, rel);
  mkdirSync(dir, { recursive: true });
  if (git) {
    const r = spawnSync('git', ['init', '-q', '-b', 'main'], { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git init failed: ${r.stderr}`);
  }
  return realpathSync(dir);
}

async function claude(m: Machine, cwd: string, args: string[]): Promise<RunClaudeResult> {
  return runClaude({ args, cwd, home: m.home, baseUrl: mock.url, timeoutMs: 45_000 });
}
function ok(r: RunClaudeResult): RunClaudeResult {
  if (r.code !== 0) throw new Error(`claude exited ${r.code} (${r.signal}): ${r.stderr}${r.stdout}`);
  return r;
}
/** Main-loop requests received since `mark` (an index into mock.requests). */
function convSince(mark: number): RecordedRequest[] {
  return conversationRequests(mock.requests.slice(mark));
}
/** All message texts of one request, in order (string contents and text blocks). */
function texts(req: RecordedRequest): string[] {
  return (req.body.messages as Array<{ content: unknown }>).map((m) => messageText(m));
}
function sessionOf(req: RecordedRequest): string {
  return JSON.parse(req.body.metadata.user_id as string).session_id as string;
}
function lines(file: string): any[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l));
}
function jsonls(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.jsonl')) : [];
}

// Machine A's first session, shared by the resume tests (each copies it).
let A: Machine;
let projA = '';
let keyA = '';
let idA = '';
let fileA = '';

beforeAll(async () => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'roam-claude-cli-')));
  mock = await startMockAnthropic({
    reply: (req) => (Array.isArray(req.body?.tools) && req.body.tools.length > 0 ? replies.shift() : undefined),
    hold: (req) => (Array.isArray(req.body?.tools) && req.body.tools.length > 0 ? gate : undefined),
    log: () => {},
  });
  A = machine('a');
  projA = projectDir(A, 'code/app');
  keyA = claudeProjectKey(projA);
  const mark = mock.requests.length;
  ok(await claude(A, projA, ['-p', 'hello from A']));
  const files = jsonls(join(A.projects, keyA));
  expect(files).toHaveLength(1);
  idA = files[0]!.slice(0, -'.jsonl'.length);
  fileA = join(A.projects, keyA, files[0]!);
  expect(convSince(mark)).toHaveLength(1);
});

afterAll(async () => {
  await mock?.close();
  if (root) rmSync(root, { recursive: true, force: true, maxRetries: 5 });
});

/** Copies A's session file into machine `m` under the given key dirs (optionally edited). */
function placeA(m: Machine, keys: string[], edit: (text: string, key: string) => string = (t) => t): string[] {
  const text = readFileSync(fileA, 'utf8');
  return keys.map((k) => {
    mkdirSync(join(m.projects, k), { recursive: true });
    const f = join(m.projects, k, `${idA}.jsonl`);
    writeFileSync(f, edit(text, k));
    return f;
  });
}

describe('Claude Code CLI (real binary, mock API)', () => {
  it('the pinned CLI is a native executable that reports the pinned version', () => {
    expect(PINNED).toMatch(/^\d+\.\d+\.\d+$/);
    const r = spawnSync(claudeBin(), ['--version'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stdout.trim()).toBe(`${PINNED} (Claude Code)`);
  });

  it('-p in a project dir writes projects/<key>/<uuid>.jsonl with cwd, sessionId, gitBranch on each message line', () => {
    expect(readdirSync(A.projects)).toEqual([keyA]);
    expect(keyA).toBe(projA.replace(/[^a-zA-Z0-9]/g, '-'));
    expect(idA).toMatch(UUID_RE);
    const ls = lines(fileA);
    const user = ls.find((l) => l.type === 'user');
    expect(user).toMatchObject({ cwd: projA, sessionId: idA, gitBranch: 'main', version: PINNED, parentUuid: null });
    expect(user.message).toEqual({ role: 'user', content: 'hello from A' });
    const assistant = ls.find((l) => l.type === 'assistant');
    expect(assistant).toMatchObject({ cwd: projA, sessionId: idA, parentUuid: expect.any(String) });
    expect(JSON.stringify(assistant.message.content)).toContain(DEFAULT_MOCK_TEXT);
    // Every line names the session; the live registry is gone after exit; -p keeps no history.jsonl.
    for (const l of ls) if ('sessionId' in l) expect(l.sessionId).toBe(idA);
    expect(readdirSync(A.sessions).filter((f) => f.endsWith('.json'))).toEqual([]);
    expect(existsSync(join(A.home, '.claude', 'history.jsonl'))).toBe(false);
    // The request carries the session id; no auxiliary model call was made.
    const reqs = messageRequests(mock.requests);
    expect(reqs).toHaveLength(1);
    expect(reqs[0]!.url).toBe('/v1/messages?beta=true');
    expect(reqs[0]!.headers['x-claude-code-session-id']).toBe(idA);
    expect(sessionOf(reqs[0]!)).toBe(idA);
  });

  it('resume on B with the file under B\'s key: full history sent, lines appended there, stale cwd harmless', async () => {
    const B = machine('b1');
    const projB = projectDir(B, 'work/app');
    const keyB = claudeProjectKey(projB);
    const [fileB] = placeA(B, [keyB]);
    const before = lines(fileB!).length;
    const mark = mock.requests.length;
    const r = ok(await claude(B, projB, ['-p', '--resume', idA, 'next from B']));
    expect(r.stdout).toContain(DEFAULT_MOCK_TEXT);
    const [req] = convSince(mark);
    expect(req && sessionOf(req)).toBe(idA);
    const all = texts(req!).join('\n');
    expect(all).toContain('hello from A');
    expect(all).toContain(DEFAULT_MOCK_TEXT);
    expect(all).toContain('next from B');
    // The CLI tells the model the directory moved (from the recorded environment, not cwd fields).
    expect(all).toContain(`Primary working directory: ${projB} (was ${projA})`);
    // Appended in place, same id; new lines carry B's cwd; nothing else created.
    expect(readdirSync(B.projects)).toEqual([keyB]);
    expect(jsonls(join(B.projects, keyB))).toEqual([`${idA}.jsonl`]);
    const after = lines(fileB!);
    expect(after.length).toBeGreaterThan(before);
    const newUser = after.slice(before).find((l) => l.type === 'user');
    expect(newUser).toMatchObject({ cwd: projB, sessionId: idA });
    expect(after.slice(0, before).find((l) => l.type === 'user').cwd).toBe(projA);
  });

  it('resume on B with the file only under A\'s key: found by a scan of all key dirs, appended under A\'s key; -c does not see it', async () => {
    const B = machine('b2');
    const projB = projectDir(B, 'work/app');
    const keyB = claudeProjectKey(projB);
    const [fileInA] = placeA(B, [keyA]);
    const before = lines(fileInA!).length;
    let mark = mock.requests.length;
    ok(await claude(B, projB, ['-p', '--resume', idA, 'next from B']));
    expect(texts(convSince(mark)[0]!).join('\n')).toContain('hello from A');
    expect(lines(fileInA!).length).toBeGreaterThan(before);
    expect(existsSync(join(B.projects, keyB, `${idA}.jsonl`))).toBe(false);

    mark = mock.requests.length;
    ok(await claude(B, projB, ['-p', '-c', 'continue?']));
    const [req] = convSince(mark);
    expect(sessionOf(req!)).not.toBe(idA);
    expect(texts(req!).join('\n')).not.toContain('hello from A');
  });

  it('the same id under several key dirs: the cwd\'s key wins; with none of them the cwd\'s, "No conversation found"', async () => {
    const B = machine('b3');
    const projB = projectDir(B, 'work/app');
    const keyB = claudeProjectKey(projB);
    const [inA, inB] = placeA(B, [keyA, keyB], (t, k) => t.replaceAll('hello from A', `hello from A via ${k}`));
    const aBytes = readFileSync(inA!);
    const mark = mock.requests.length;
    ok(await claude(B, projB, ['-p', '--resume', idA, 'which copy?']));
    const all = texts(convSince(mark)[0]!).join('\n');
    expect(all).toContain(`hello from A via ${keyB}`);
    expect(all).not.toContain(`via ${keyA}`);
    expect(readFileSync(inA!).equals(aBytes)).toBe(true);
    expect(lines(inB!).length).toBeGreaterThan(lines(inA!).length);

    // From a directory whose key holds no copy, two copies elsewhere are ambiguous.
    const other = projectDir(B, 'elsewhere', false);
    const r = await claude(B, other, ['-p', '--resume', idA, 'hi']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`No conversation found with session ID: ${idA}`);
    // An unknown id says the same.
    const unknown = '00000000-0000-4000-8000-000000000000';
    const r2 = await claude(B, projB, ['-p', '--resume', unknown, 'hi']);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain(`No conversation found with session ID: ${unknown}`);
  });

  it('-c continues the session in the cwd\'s key dir whose file has the newest mtime', async () => {
    const B = machine('b4');
    const projB = projectDir(B, 'work/app');
    const keyB = claudeProjectKey(projB);
    ok(await claude(B, projB, ['-p', 'local session on B']));
    const [copied] = placeA(B, [keyB]);
    const local = jsonls(join(B.projects, keyB)).find((f) => f !== `${idA}.jsonl`)!;
    const future = new Date(Date.now() + 3_600_000);
    utimesSync(copied!, future, future);
    let mark = mock.requests.length;
    ok(await claude(B, projB, ['-p', '-c', 'continue 1']));
    let [req] = convSince(mark);
    expect(sessionOf(req!)).toBe(idA);
    expect(texts(req!).join('\n')).toContain('hello from A');

    const later = new Date(Date.now() + 7_200_000);
    utimesSync(join(B.projects, keyB, local), later, later);
    mark = mock.requests.length;
    ok(await claude(B, projB, ['-p', '-c', 'continue 2']));
    [req] = convSince(mark);
    expect(sessionOf(req!)).toBe(local.slice(0, -'.jsonl'.length));
    expect(texts(req!).join('\n')).toContain('local session on B');
  });

  it('large tool output: <key>/<id>/tool-results/*.txt named by absolute path; resume needs no such file and sends the stored preview verbatim', async () => {
    const A2 = machine('a2');
    const proj = projectDir(A2, 'code/tools');
    const key = claudeProjectKey(proj);
    replies = [[{ type: 'tool_use', name: 'Bash', input: { command: 'seq 1 200000', description: 'numbers' } }], 'Counted.'];
    ok(await claude(A2, proj, ['-p', '--allowedTools', 'Bash', '--', 'count to 200000']));
    expect(replies).toEqual([]);
    const [file] = jsonls(join(A2.projects, key));
    const id = file!.slice(0, -'.jsonl'.length);
    const resultsDir = join(A2.projects, key, id, 'tool-results');
    const [txt] = readdirSync(resultsDir);
    expect(txt).toMatch(/^[a-z0-9]+\.txt$/);
    const persisted = join(resultsDir, txt!);
    expect(statSync(persisted).size).toBeGreaterThan(1_000_000);
    const toolLine = lines(join(A2.projects, key, file!)).find((l) => l.toolUseResult?.persistedOutputPath);
    expect(toolLine.toolUseResult.persistedOutputPath).toBe(persisted);
    const stored = toolLine.message.content[0].content as string;
    expect(stored).toContain(`<persisted-output>\nOutput too large`);
    expect(stored).toContain(`Full output saved to: ${persisted}`);

    // Machine B gets only the transcript, under its own key; A's files are gone.
    const B = machine('b5');
    const projB = projectDir(B, 'work/tools');
    const keyB = claudeProjectKey(projB);
    mkdirSync(join(B.projects, keyB), { recursive: true });
    copyFileSync(join(A2.projects, key, file!), join(B.projects, keyB, file!));
    rmSync(A2.home, { recursive: true, force: true });
    replies = [[{ type: 'tool_use', name: 'Read', input: { file_path: persisted, limit: 3 } }], 'Read it.'];
    const mark = mock.requests.length;
    ok(await claude(B, projB, ['-p', '--resume', id, '--allowedTools', 'Read', '--', 'read the saved output']));
    const [first, second] = convSince(mark);
    const resultOf = (req: RecordedRequest, toolUseId?: string): any =>
      (req.body.messages as any[])
        .flatMap((m) => (Array.isArray(m.content) ? m.content : []))
        .filter((c: any) => c.type === 'tool_result' && (toolUseId === undefined || c.tool_use_id === toolUseId))
        .at(-1);
    expect(resultOf(first!).content).toBe(stored);
    // The model can only read the full output where the absolute path exists.
    const readId = (second!.body.messages as any[]).flatMap((m) => (Array.isArray(m.content) ? m.content : [])).findLast((c: any) => c.type === 'tool_use')?.id;
    const readResult = resultOf(second!, readId);
    expect(readResult.is_error).toBe(true);
    expect(readResult.content).toContain('File does not exist');
  });

  it('--fork-session: a new id in the cwd\'s key dir with the history; the original file is untouched', async () => {
    const B = machine('b6');
    const projB = projectDir(B, 'work/app');
    const keyB = claudeProjectKey(projB);
    const [orig] = placeA(B, [keyB]);
    const bytes = readFileSync(orig!);
    const mark = mock.requests.length;
    ok(await claude(B, projB, ['-p', '--resume', idA, '--fork-session', 'forked']));
    const [req] = convSince(mark);
    const forkId = sessionOf(req!);
    expect(forkId).toMatch(UUID_RE);
    expect(forkId).not.toBe(idA);
    expect(texts(req!).join('\n')).toContain('hello from A');
    expect(readFileSync(orig!).equals(bytes)).toBe(true);
    expect(jsonls(join(B.projects, keyB)).sort()).toEqual([`${idA}.jsonl`, `${forkId}.jsonl`].sort());
    const forked = lines(join(B.projects, keyB, `${forkId}.jsonl`));
    for (const l of forked) if ('sessionId' in l) expect(l.sessionId).toBe(forkId);
    const origUuids = new Set(lines(orig!).map((l) => l.uuid).filter(Boolean));
    expect(forked.filter((l) => origUuids.has(l.uuid)).length).toBeGreaterThan(0);
  });

  it('-n names a new session (custom-title + agent-name lines); --resume <title> works from that dir only', async () => {
    const M = machine('n1');
    const proj = projectDir(M, 'code/named');
    const key = claudeProjectKey(proj);
    ok(await claude(M, proj, ['-p', '-n', 'roam named session', 'hi']));
    const [file] = jsonls(join(M.projects, key));
    const id = file!.slice(0, -'.jsonl'.length);
    const ls = lines(join(M.projects, key, file!));
    expect(ls[0]).toEqual({ type: 'custom-title', customTitle: 'roam named session', sessionId: id });
    expect(ls).toContainEqual({ type: 'agent-name', agentName: 'roam named session', sessionId: id });
    const mark = mock.requests.length;
    ok(await claude(M, proj, ['-p', '--resume', 'roam named session', 'again']));
    expect(sessionOf(convSince(mark)[0]!)).toBe(id);
    const elsewhere = projectDir(M, 'other', false);
    const r = await claude(M, elsewhere, ['-p', '--resume', 'roam named session', 'again']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('does not match any session title');
  });

  it('the live registry sessions/<pid>.json exists while -p runs (procStart = /proc starttime) and is removed at exit', async () => {
    const M = machine('r1');
    const proj = projectDir(M, 'code/live');
    let release = (): void => {};
    gate = new Promise<void>((r) => (release = r));
    const run = claude(M, proj, ['-p', 'slow turn']);
    try {
      let entry: any;
      await until(
        () => {
          const f = existsSync(M.sessions) ? readdirSync(M.sessions).find((n) => /^\d+\.json$/.test(n)) : undefined;
          if (!f) return false;
          try {
            entry = JSON.parse(readFileSync(join(M.sessions, f), 'utf8'));
          } catch {
            return false; // Mid-write.
          }
          return entry.status === 'busy';
        },
        { timeoutMs: 20_000, what: 'sessions/<pid>.json with status busy' },
      );
      expect(entry).toMatchObject({
        pid: expect.any(Number),
        sessionId: expect.stringMatching(UUID_RE),
        cwd: proj,
        startedAt: expect.any(Number),
        procStart: expect.any(String),
        version: PINNED,
        kind: 'interactive',
        entrypoint: 'sdk-cli',
        status: 'busy',
      });
      expect(entry.pidDomain).toMatch(/^linux:[0-9a-f]{32}:pid:\[\d+\]$/);
      const keyFile = readdirSync(M.sessions).find((n) => n.startsWith(`${entry.pid}.`) && n.endsWith('.key'));
      expect(keyFile).toMatch(new RegExp(`^${entry.pid}\\.[0-9a-f]{64}\\.key$`));
      if (process.platform === 'linux') {
        const stat = readFileSync(`/proc/${entry.pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        expect(entry.procStart).toBe(fields[19]); // field 22, starttime
        // linux:<machine-id>:<pid namespace>, as /proc/self/ns/pid names it.
        if (existsSync('/etc/machine-id')) {
          const machineId = readFileSync('/etc/machine-id', 'utf8').trim();
          expect(entry.pidDomain).toBe(`linux:${machineId}:${readlinkSync('/proc/self/ns/pid')}`);
        }
      }
    } finally {
      gate = undefined;
      release();
    }
    ok(await run);
    await until(() => readdirSync(M.sessions).filter((n) => n.endsWith('.json')).length === 0, {
      timeoutMs: 10_000,
      what: 'the registry entry to be removed',
    });
  });

  it('project keys over 200 chars: cut to 200 + "-" + base36(|java hash|); non-ASCII counts per UTF-16 unit', async () => {
    const M = machine('k1');
    const long = projectDir(M, Array.from({ length: 22 }, (_, i) => `segment_${String(i + 1).padStart(2, '0')}`).join('/'), false);
    const uni = projectDir(M, 'café/日本語/😀 app', false);
    expect(long.length).toBeGreaterThan(200);
    ok(await claude(M, long, ['-p', 'hi']));
    ok(await claude(M, uni, ['-p', 'hi']));
    const keys = readdirSync(M.projects).sort();
    expect(keys).toEqual([claudeProjectKey(long), claudeProjectKey(uni)].sort());
    // roam's own rule (the session adapter's, which roamd also uses) gives the CLI's keys exactly.
    expect(keys).toEqual([roamProjectKey(long), roamProjectKey(uni)].sort());
    const k = claudeProjectKey(long);
    expect(k.slice(0, 200)).toBe(long.replace(/[^a-zA-Z0-9]/g, '-').slice(0, 200));
    expect(k).toMatch(/^.{200}-[0-9a-z]+$/);
    expect(claudeProjectKey(uni).endsWith('-caf---------app')).toBe(true);
  });
});

describe('Claude Code CLI interactive (pseudo-terminal)', () => {
  function seed(m: Machine, trusted: string[]): void {
    const projects: Record<string, unknown> = {};
    for (const p of trusted) projects[p] = { hasTrustDialogAccepted: true };
    writeFileSync(
      join(m.home, '.claude.json'),
      JSON.stringify({
        hasCompletedOnboarding: true,
        // The last 20 characters of ANTHROPIC_API_KEY (claudeEnv's dummy key).
        customApiKeyResponses: { approved: ['sk-ant-dummy-roam-test'.slice(-20)], rejected: [] },
        projects,
      }),
    );
  }

  it('claude --resume <id> on B: sends the history on the first prompt, registers, exits on Ctrl-D', async () => {
    const B = machine('i1');
    const projB = projectDir(B, 'work/app');
    placeA(B, [claudeProjectKey(projB)]);
    seed(B, [projB]);
    const mark = mock.requests.length;
    const pty = startClaudePty({ args: ['--resume', idA], cwd: projB, home: B.home, baseUrl: mock.url, timeoutMs: 40_000 });
    try {
      await pty.waitFor('hello from A', 20_000); // The resumed transcript is drawn.
      await pty.waitFor(/shift\+tab/, 20_000);
      let n = pty.screen().length;
      pty.write('next from the terminal');
      await pty.waitFor('next from the terminal', 10_000, n);
      n = pty.screen().length;
      pty.write('\r');
      await until(() => convSince(mark).length > 0, { timeoutMs: 20_000, what: 'a main-loop request' });
      const [req] = convSince(mark);
      expect(sessionOf(req!)).toBe(idA);
      const all = texts(req!).join('\n');
      expect(all).toContain('hello from A');
      expect(all).toContain('next from the terminal');
      await pty.waitFor(DEFAULT_MOCK_TEXT, 20_000, n);
      const entries = readdirSync(B.sessions).filter((f) => f.endsWith('.json'));
      expect(entries).toHaveLength(1);
      const entry = JSON.parse(readFileSync(join(B.sessions, entries[0]!), 'utf8'));
      expect(entry).toMatchObject({ sessionId: idA, cwd: projB, kind: 'interactive', entrypoint: 'cli' });
      n = pty.screen().length;
      pty.write('\x04');
      await pty.waitFor('Ctrl-D again', 10_000, n);
      pty.write('\x04');
      expect(await pty.exited).toBe(0);
      expect(pty.screen()).toContain(`claude --resume ${idA}`);
    } finally {
      pty.kill();
      await pty.exited;
    }
    expect(readdirSync(B.sessions).filter((f) => f.endsWith('.json'))).toEqual([]);
    const history = lines(join(B.home, '.claude', 'history.jsonl'));
    expect(history.at(-1)).toMatchObject({ display: 'next from the terminal', project: projB, sessionId: idA });
  });

  it('a directory B never trusted shows the workspace trust dialog first', async () => {
    const B = machine('i2');
    const projB = projectDir(B, 'work/app');
    placeA(B, [claudeProjectKey(projB)]);
    seed(B, []);
    const pty = startClaudePty({ args: ['--resume', idA], cwd: projB, home: B.home, baseUrl: mock.url, timeoutMs: 30_000 });
    try {
      await pty.waitFor('Yes, I trust this folder', 20_000);
      expect(pty.screen()).toContain(projB);
    } finally {
      pty.kill();
      await pty.exited;
    }
  });

  it('no unknown API endpoint was called', () => {
    expect(mock.unknown.map((r) => `${r.method} ${r.url}`)).toEqual([]);
  });
});
