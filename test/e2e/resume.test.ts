/**
 * `roam resume` end to end: two real roamd daemons (each its own HOME, the project at another
 * absolute path on each), the real Claude Code CLI, and a local mock of the messages API that
 * records what the CLI sends. A session written on A is resumed on B by `roam resume`; the request
 * the CLI sends on B carries the same history as a resume on A does; then back on A.
 */
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runRoam } from '../harness/cli.js';
import { until } from '../../packages/core/test/support/poll.js';
import { projectKey as claudeProjectKey } from '../../packages/cli/src/tools/claude/index.js';
import { claudeBin, claudeEnv, runClaude } from '../support/claude.js';
import { conversationRequests, messageText, startMockAnthropic, type MockAnthropic, type RecordedRequest } from '../support/mock-anthropic.js';
import { makeDaemon, stopAll, type DaemonHandle } from '../support/daemons.js';

let mock: MockAnthropic;
let bin = '';

beforeAll(async () => {
  mock = await startMockAnthropic({ text: 'Mock answer.' });
  // `roam resume` runs `claude` from PATH.
  bin = mkdtempSync(join(tmpdir(), 'roam-resume-bin-'));
  symlinkSync(claudeBin(), join(bin, 'claude'));
});
afterAll(async () => {
  await mock.close();
  rmSync(bin, { recursive: true, force: true });
});
afterEach(stopAll);

/** A daemon whose `roam` commands can run the real CLI against the mock. */
function device(name: string): DaemonHandle {
  const { HOME: _home, TMPDIR: _tmp, PATH, ...env } = claudeEnv({ home: '/nonexistent', baseUrl: mock.url });
  return makeDaemon(name, { env: { ...env, PATH: `${bin}:${PATH}` } });
}

function project(d: DaemonHandle, rel: string): string {
  const dir = join(d.home, rel);
  mkdirSync(dir, { recursive: true });
  return realpathSync(dir);
}

/** Runs `roam <args>` in `cwd` without blocking the test (the daemons answer meanwhile). */
async function roamIn(d: DaemonHandle, cwd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; endedAt: number }> {
  const r = await runRoam(args, { env: d.env, cwd, timeoutMs: 90_000 });
  return { code: r.code, stdout: r.stdout, stderr: r.stderr, endedAt: Date.now() };
}

/** The conversation as the API sees it: role and text of each message. */
function history(r: RecordedRequest): Array<[string, string]> {
  return (r.body.messages as Array<{ role: string; content: unknown }>).map((m) => [m.role, messageText(m)]);
}

/**
 * The history without the note the CLI adds when a session is resumed in another directory than
 * the one its lines record ("# Environment update - Primary working directory: <here> (was
 * <there>)"): a truthful note, not history. Returns the notes apart.
 */
function withoutMoveNotes(h: Array<[string, string]>): { history: Array<[string, string]>; notes: string[] } {
  const isNote = ([, text]: [string, string]) => text.startsWith('# Environment update');
  return { history: h.filter((m) => !isNote(m)), notes: h.filter(isNote).map(([, t]) => t) };
}

function lastConversation(since: number): RecordedRequest {
  const conv = conversationRequests(mock.requests.slice(since));
  expect(conv.length).toBeGreaterThan(0);
  return conv[conv.length - 1]!;
}

function sessionsIn(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => n.endsWith('.jsonl')).map((n) => n.slice(0, -'.jsonl'.length));
  } catch {
    return [];
  }
}

function size(p: string): number {
  try {
    return statSync(p).size;
  } catch {
    return -1;
  }
}

describe('roam resume with the real Claude Code CLI', () => {
  it('resumes on B a session written on A, with the same history, and back on A', async () => {
    const a = device('alpha');
    const b = device('beta');
    const projA = project(a, 'code/app');
    const projB = project(b, 'code/app');
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);

    // A: a real session.
    const first = await runClaude({ args: ['-p', 'What is in this project?'], cwd: projA, home: a.home, baseUrl: mock.url, timeoutMs: 60_000 });
    expect(first.code, first.stderr).toBe(0);
    const keyA = claudeProjectKey(projA);
    const [id] = sessionsIn(join(a.projects, keyA));
    expect(id).toBeDefined();
    const logA = join(a.projects, keyA, `${id}.jsonl`);

    // The reference: what a resume on A sends (a fork, so A's log stays as it is).
    let mark = mock.requests.length;
    const onA = await runClaude({ args: ['-p', '--resume', id!, '--fork-session', 'Continue, please.'], cwd: projA, home: a.home, baseUrl: mock.url, timeoutMs: 60_000 });
    expect(onA.code, onA.stderr).toBe(0);
    const reference = history(lastConversation(mark));
    expect(reference.length).toBeGreaterThanOrEqual(3);

    // B: roam resume waits for sync, finds the session under B's own key, runs the CLI there.
    const keyB = claudeProjectKey(projB);
    const dry = await roamIn(b, projB, ['resume', id!, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ cwd: projB, command: ['claude', '--resume', id] });
    expect(readFileSync(join(b.projects, keyB, `${id}.jsonl`), 'utf8')).toBe(readFileSync(logA, 'utf8'));

    mark = mock.requests.length;
    const onB = await roamIn(b, projB, ['resume', id!, '--', '-p', 'Continue, please.']);
    expect(onB.code, onB.stderr).toBe(0);
    const resumedOnB = withoutMoveNotes(history(lastConversation(mark)));
    expect(resumedOnB.history).toEqual(reference);
    // The CLI tells the model the project moved: from A's directory to B's.
    for (const n of resumedOnB.notes) expect(n).toContain(`${projB} (was ${projA})`);
    // The CLI appended to the log under B's key: one log, no second copy under A's key.
    expect(sessionsIn(join(b.projects, keyB))).toContain(id);
    expect(sessionsIn(join(b.projects, keyA))).toEqual([]);

    // Round trip: B's turn reaches A's log, and a resume on A (from its project, no id) carries it.
    const logB = join(b.projects, keyB, `${id}.jsonl`);
    await until(() => readFileSync(logA, 'utf8') === readFileSync(logB, 'utf8'), { timeoutMs: 30_000, what: "B's turn in A's log" });
    // The newest session of A's project is the fork made above; name the original explicitly.
    mark = mock.requests.length;
    const back = await roamIn(a, projA, ['resume', id!.slice(0, 8), '--', '-p', 'And now?']);
    expect(back.code, back.stderr).toBe(0);
    const round = withoutMoveNotes(history(lastConversation(mark))).history;
    expect(round.slice(0, reference.length)).toEqual(reference);
    expect(round[round.length - 1]).toEqual(['user', 'And now?']);
    expect(round.length).toBe(reference.length + 2);
    // The CLI's own --fork-session made a session, not a conflict.
    expect(JSON.parse(a.roam('conflicts', '--json').stdout)).toEqual([]);
  }, 240_000);

  it('keeps both continuations of a session written on two devices apart, and the fork resumes in the CLI', async () => {
    const a = device('alpha');
    const b = device('beta');
    const projA = project(a, 'code/app');
    const projB = project(b, 'code/app');
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);
    const first = await runClaude({ args: ['-p', 'Start here.'], cwd: projA, home: a.home, baseUrl: mock.url, timeoutMs: 60_000 });
    expect(first.code, first.stderr).toBe(0);
    const keyA = claudeProjectKey(projA);
    const keyB = claudeProjectKey(projB);
    const [id] = sessionsIn(join(a.projects, keyA));
    await until(() => sessionsIn(join(b.projects, keyB)).includes(id!) && b.roam('sync', '--wait', '--timeout', '5').status === 0, { timeoutMs: 30_000, what: 'the session on B' });

    // Apart: each device continues the session in the real CLI.
    expect(b.roam('pause').status).toBe(0);
    const onA = await runClaude({ args: ['-p', '--resume', id!, 'Only on A.'], cwd: projA, home: a.home, baseUrl: mock.url, timeoutMs: 60_000 });
    expect(onA.code, onA.stderr).toBe(0);
    const onB = await roamIn(b, projB, ['resume', id!, '--force', '--', '-p', 'Only on B.']);
    expect(onB.code, onB.stderr).toBe(0);
    expect(b.roam('unpause').status).toBe(0);

    // Together again: one continuation keeps the id, the other is a session of its own, on both.
    type C = { original: string; copy: string; kind: string; commonLines: number };
    let found: C[] = [];
    await until(
      () => {
        found = JSON.parse(b.roam('conflicts', '--json').stdout) as C[];
        const onA = JSON.parse(a.roam('conflicts', '--json').stdout) as C[];
        const base = (p: string) => p.slice(p.lastIndexOf('/') + 1);
        return found.length === 1 && onA.length === 1 && base(onA[0]!.copy) === base(found[0]!.copy) && b.roam('sync', '--wait', '--timeout', '5').status === 0;
      },
      { timeoutMs: 60_000, what: 'the fork on both devices', detail: () => ({ a: a.roam('conflicts', '--json').stdout, b: found, filesA: sessionsIn(join(a.projects, keyA)), filesB: sessionsIn(join(b.projects, keyB)) }) },
    );
    expect(found[0]).toMatchObject({ kind: 'fork', original: `${keyB}/${id}.jsonl` });
    const forkId = found[0]!.copy.slice(found[0]!.copy.lastIndexOf('/') + 1, -'.jsonl'.length);
    const texts = (file: string) => readFileSync(file, 'utf8');
    const both = texts(join(b.projects, keyB, `${id}.jsonl`)) + texts(join(b.projects, keyB, `${forkId}.jsonl`));
    expect(both).toContain('Only on A.');
    expect(both).toContain('Only on B.');

    // The fork resumes in the real CLI with its own history.
    const loserText = texts(join(b.projects, keyB, `${forkId}.jsonl`)).includes('Only on A.') ? 'Only on A.' : 'Only on B.';
    const mark = mock.requests.length;
    const resumed = await roamIn(b, projB, ['resume', forkId, '--', '-p', 'Which one is this?']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const h = withoutMoveNotes(history(lastConversation(mark))).history;
    expect(h.map(([, t]) => t)).toContain(loserText);
    expect(h[h.length - 1]).toEqual(['user', 'Which one is this?']);
  }, 240_000);

  it('waits for a large append in flight, refuses while another device writes the session, and --force overrides', async () => {
    const a = device('alpha');
    const b = device('beta');
    const projA = project(a, 'code/app');
    const projB = project(b, 'code/app');
    const id = '3b9f6c2e-8d41-4f0a-9c7e-5a1d2e3f4b6c';
    const keyA = claudeProjectKey(projA);
    const keyB = claudeProjectKey(projB);
    mkdirSync(join(a.projects, keyA), { recursive: true });
    const logA = join(a.projects, keyA, `${id}.jsonl`);
    const logB = join(b.projects, keyB, `${id}.jsonl`);
    const entry = (i: number, pad = 0) =>
      `${JSON.stringify({ type: i % 2 ? 'assistant' : 'user', uuid: `u${i}`, parentUuid: i ? `u${i - 1}` : null, sessionId: id, cwd: projA, timestamp: new Date(Date.now() - 3_600_000 + i).toISOString(), message: { role: i % 2 ? 'assistant' : 'user', content: `turn ${i} ${'x'.repeat(pad)}` } })}\n`;
    appendFileSync(logA, entry(0) + entry(1));
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);
    await until(() => size(logB) === size(logA), { timeoutMs: 30_000, what: 'the session on B' });

    // A large append (40 MB) on A; B's resume must not run the tool before every byte is here.
    let big = '';
    for (let i = 2; i < 2 + 400; i++) big += entry(i, 100_000);
    const before = size(logB);
    appendFileSync(logA, big);
    const total = size(logA);
    // B cannot wait for what A has not announced yet: start once A's roamd has (the user walking
    // from A to B takes longer than that).
    await until(() => size(logB) > before || /receiving/.test(b.roam('status').stdout), { timeoutMs: 30_000, what: 'B to learn of the append' });
    // Warnings, configurable: B's project is outside ~/Desktop; the session's last line is an hour old.
    writeFileSync(join(b.roamHome, 'config.json'), JSON.stringify({ resume: { staleHours: 0.5 } }));
    const r = await roamIn(b, projB, ['resume', id, '--dry-run', '--force']);
    const atExit = size(logB);
    expect(r.code, r.stderr).toBe(0);
    expect(atExit).toBe(total);
    expect(r.stderr).toMatch(/waiting for sync/);
    expect(r.stderr).toMatch(/outside your sessions namespace ~\/Desktop/);
    expect(r.stderr).toMatch(/was last active 1 h ago/);

    // A goes on writing to the session (a line every 2 s, as a tool busy with a turn): it holds the
    // lease; B waits for it to let go, then refuses without --force.
    let n = 402;
    const writing = setInterval(() => appendFileSync(logA, entry(n++)), 2_000);
    try {
      await until(() => /being written on alpha/.test(b.roam('doctor').stdout), { timeoutMs: 30_000, what: "A's lease to reach B" });
      const refused = await roamIn(b, projB, ['resume', id, '--dry-run']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/alpha still holds session .*; waiting up to \d+ s for it to let go/);
      expect(refused.stderr).toMatch(/^ROAM_SESSION_BUSY: .*alpha is writing to it/m);
      const forced = await roamIn(b, projB, ['resume', '--dry-run', '--force']);
      expect(forced.code, forced.stderr).toBe(0);
      expect(JSON.parse(forced.stdout)).toMatchObject({ cwd: projB, session: id, command: ['claude', '--resume', id] });
      expect(forced.stderr).toMatch(/alpha is writing to it.*--force/);
    } finally {
      clearInterval(writing);
    }
    // A stopped (the user walked away from it): B resumes without --force once the lease has lapsed.
    const after = await roamIn(b, projB, ['resume', id, '--dry-run']);
    expect(after.code, after.stderr).toBe(0);
    expect(JSON.parse(after.stdout)).toMatchObject({ session: id, command: ['claude', '--resume', id] });
  }, 180_000);
});
