/**
 * The prompt histories as union logs (docs/PROTOCOL.md, "Union logs"), between two real roamd
 * with different HOME paths: Claude Code's and Codex's `history.jsonl` end holding both devices'
 * prompts, each at its own machine's project path, none twice, a SIGKILL in the middle included;
 * and the real interactive Claude Code on B recalls with ↑ a prompt typed on A in that project.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../packages/core/test/support/poll.js';
import { startClaudePty } from '../support/claude.js';
import { makeDaemon, stopAll, type DaemonHandle } from '../support/daemons.js';
import { DEFAULT_MOCK_TEXT, startMockAnthropic, type MockAnthropic } from '../support/mock-anthropic.js';

afterEach(stopAll);

interface Prompt {
  display: string;
  project: string;
  sessionId: string;
  timestamp: number;
}

let n = 0;
/** A line as interactive Claude Code writes it. */
const claudeLine = (display: string, project: string): string =>
  `${JSON.stringify({ display, pastedContents: {}, timestamp: 1_765_000_000_000 + n++, project, sessionId: '5d1f0c0e-3b7a-4c0e-9a41-6f1de0a0b7c2' })}\n`;
/** A line as Codex writes it (no path). */
const codexLine = (text: string): string => `${JSON.stringify({ session_id: '0199a7c2-7f3e-7d40-8a52-1c2b3d4e5f60', ts: 1_765_000_000 + n++, text })}\n`;

const read = (file: string): string => (existsSync(file) ? readFileSync(file, 'utf8') : '');
const parse = <T>(file: string): T[] => read(file).split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);
const claudeHistory = (d: DaemonHandle) => join(d.home, '.claude', 'history.jsonl');
const codexHistory = (d: DaemonHandle) => join(d.home, '.codex', 'history.jsonl');

function project(d: DaemonHandle, rel: string): string {
  const dir = join(d.home, rel);
  mkdirSync(dir, { recursive: true });
  return realpathSync(dir);
}

/** Waits until the file holds exactly these lines' `key` values (in any order) and returns its lines. */
async function holds<T extends Record<string, unknown>>(file: string, key: keyof T, want: string[]): Promise<T[]> {
  let got: T[] = [];
  await until(() => ((got = parse<T>(file)), got.length >= want.length && want.every((w) => got.some((l) => l[key] === w))), {
    timeoutMs: 30_000, what: `${file} to hold ${want.length} prompts`, detail: () => got.map((l) => l[key]),
  });
  return got;
}

/** Until the device's view of a union log has taken in every log it holds and all of its file. */
async function settled(d: DaemonHandle, id: string, file: string): Promise<void> {
  const dir = join(d.roamHome, 'state', 'union', id);
  const stateFile = join(d.roamHome, 'state', 'folders', id, 'union-view.json');
  let last: unknown;
  await until(
    () => {
      const st = JSON.parse(read(stateFile) || 'null') as { end: number; delivered: Record<string, number>; pending: unknown } | null;
      const logs = readdirSync(dir).filter((f) => f.endsWith('.jsonl'));
      last = { st, logs: logs.map((f) => [f, statSync(join(dir, f)).size]) };
      // Every log but the device's own (never in `delivered`) delivered to its end.
      const done = logs.filter((f) => st?.delivered[f.slice(0, -'.jsonl'.length)] === statSync(join(dir, f)).size);
      return !!st && st.pending === null && st.end === statSync(file).size && logs.length === 2 && done.length === 1;
    },
    { timeoutMs: 30_000, what: `${d.name}'s ${id} view to settle`, detail: () => last },
  );
}

describe('prompt histories travel as union logs', () => {
  it('both devices end with both prompts at their own paths, none twice, across a SIGKILL', async () => {
    const a = makeDaemon('hist-a');
    const b = makeDaemon('hist-b');
    const [appA, appB] = [project(a, 'code/app'), project(b, 'code/app')];
    const onlyA = project(a, 'only-a/proj');
    for (const d of [a, b]) mkdirSync(join(d.home, '.codex'), { recursive: true });
    const a0 = claudeLine('a: first', appA) + claudeLine('a: elsewhere', onlyA);
    const b0 = claudeLine('b: first', appB);
    writeFileSync(claudeHistory(a), a0);
    writeFileSync(claudeHistory(b), b0);
    writeFileSync(codexHistory(a), codexLine('codex a'));
    writeFileSync(codexHistory(b), codexLine('codex b'));

    await a.start();
    await b.start(['--peer', a.addresses[0]!]);
    const all = ['a: first', 'a: elsewhere', 'b: first'];
    const onA = await holds<Prompt & Record<string, unknown>>(claudeHistory(a), 'display', all);
    const onB = await holds<Prompt & Record<string, unknown>>(claudeHistory(b), 'display', all);
    // What each tool wrote is still there, byte for byte, at the start of its file.
    expect(read(claudeHistory(a)).startsWith(a0)).toBe(true);
    expect(read(claudeHistory(b)).startsWith(b0)).toBe(true);
    // Each prompt at this machine's path of its project; one B does not have stays home-relative.
    const at = (lines: Prompt[], display: string) => lines.filter((l) => l.display === display).map((l) => l.project);
    expect(at(onA, 'b: first')).toEqual([appA]);
    expect(at(onB, 'a: first')).toEqual([appB]);
    expect(at(onB, 'a: elsewhere')).toEqual(['~/only-a/proj']);
    // On the wire (each device's own log in roam's state) paths are home-relative.
    const wire = readdirSync(join(b.roamHome, 'state', 'union', 'claude-history')).filter((f) => f.endsWith('.jsonl')).map((f) => read(join(b.roamHome, 'state', 'union', 'claude-history', f))).join('');
    expect(wire).toContain('"project":"~/code/app"');
    expect(wire).not.toContain(a.home);
    expect(wire).not.toContain(b.home);
    await holds(codexHistory(a), 'text', ['codex a', 'codex b']);
    await holds(codexHistory(b), 'text', ['codex a', 'codex b']);

    // B dies without a word; both tools go on writing; B comes back.
    await b.kill('SIGKILL');
    appendFileSync(claudeHistory(a), claudeLine('a: while b was down', appA));
    appendFileSync(claudeHistory(b), claudeLine('b: while down', appB));
    appendFileSync(codexHistory(b), codexLine('codex b while down'));
    await b.start(['--peer', a.addresses[0]!]);
    const after = [...all, 'a: while b was down', 'b: while down'];
    for (const d of [a, b]) {
      const lines = await holds<Prompt & Record<string, unknown>>(claudeHistory(d), 'display', after);
      const codex = await holds<{ text: string } & Record<string, unknown>>(codexHistory(d), 'text', ['codex a', 'codex b', 'codex b while down']);
      // Settled (every log delivered, nothing pending, the whole file accounted for): each line once.
      await settled(d, 'claude-history', claudeHistory(d));
      await settled(d, 'codex-history', codexHistory(d));
      expect(parse<Prompt>(claudeHistory(d)).map((l) => l.display).sort(), `${d.name}: no prompt twice`).toEqual([...after].sort());
      expect(parse<{ text: string }>(codexHistory(d)).map((l) => l.text).sort()).toEqual(['codex a', 'codex b', 'codex b while down']);
      expect(lines.every((l) => l.project === (d === a ? (l.display.includes('elsewhere') ? onlyA : appA) : l.display.includes('elsewhere') ? '~/only-a/proj' : appB))).toBe(true);
      expect(codex).toHaveLength(3);
    }
  }, 120_000);
});

describe('the real Claude Code recalls a prompt typed on another device', () => {
  let mock: MockAnthropic;
  beforeAll(async () => {
    mock = await startMockAnthropic({ log: () => {} });
  });
  afterAll(async () => {
    await mock?.close();
  });

  /** Onboarding done, the dummy key approved, the project trusted (as the user would have). */
  function seed(d: DaemonHandle, trusted: string): void {
    writeFileSync(
      join(d.home, '.claude.json'),
      JSON.stringify({
        hasCompletedOnboarding: true,
        customApiKeyResponses: { approved: ['sk-ant-dummy-roam-test'.slice(-20)], rejected: [] },
        projects: { [trusted]: { hasTrustDialogAccepted: true } },
      }),
    );
  }

  it('↑ in the interactive CLI on B shows the prompt typed on A in that project', async () => {
    const a = makeDaemon('up-a');
    const b = makeDaemon('up-b');
    const [appA, appB] = [project(a, 'code/app'), project(b, 'code/app')];
    for (const dir of [appA, appB]) spawnSync('git', ['init', '-q', '-b', 'main'], { cwd: dir });
    seed(a, appA);
    seed(b, appB);
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);

    const typed = 'what does the frobnicator do';
    const onA = startClaudePty({ args: [], cwd: appA, home: a.home, baseUrl: mock.url, timeoutMs: 60_000 });
    try {
      await onA.waitFor(/shift\+tab/, 30_000);
      let mark = onA.screen().length;
      onA.write(typed);
      await onA.waitFor(typed, 10_000, mark);
      mark = onA.screen().length;
      onA.write('\r');
      await onA.waitFor(DEFAULT_MOCK_TEXT, 30_000, mark);
    } finally {
      onA.kill();
      await onA.exited;
    }
    expect(parse<Prompt>(claudeHistory(a)).map((l) => [l.display, l.project])).toEqual([[typed, appA]]);
    // On B, at B's path of the project.
    await holds<Prompt & Record<string, unknown>>(claudeHistory(b), 'display', [typed]);
    expect(parse<Prompt>(claudeHistory(b)).map((l) => [l.display, l.project])).toEqual([[typed, appB]]);

    // A newer prompt of another project on B: ↑ recalls the prompts of the cwd's project only.
    const other = { display: 'a prompt about another project', pastedContents: {}, timestamp: Date.now() + 60_000, project: project(b, 'other'), sessionId: '7c9e6679-7425-40de-944b-e07fc1f90ae7' };
    appendFileSync(claudeHistory(b), `${JSON.stringify(other)}\n`);
    const onB = startClaudePty({ args: [], cwd: appB, home: b.home, baseUrl: mock.url, timeoutMs: 60_000 });
    try {
      await onB.waitFor(/shift\+tab/, 30_000);
      const mark = onB.screen().length;
      onB.write('\x1b[A'); // ↑
      await onB.waitFor(typed, 15_000, mark);
      expect(onB.screen().slice(mark)).not.toContain('a prompt about another project');
    } finally {
      onB.kill();
      await onB.exited;
    }
  }, 150_000);
});
