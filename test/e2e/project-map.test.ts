/**
 * Names per device, end to end with real daemons: a project lives at another absolute path on each
 * device (another home), and each device keeps its logs under its own Claude Code key.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../packages/core/test/support/poll.js';
import { projectKey as claudeProjectKey } from '../../packages/cli/src/tools/claude/index.js';
import { makeDaemon, stopAll } from '../support/daemons.js';

afterEach(stopAll);

const SID = '8f0d1a4e-2b7c-4c39-9e61-3f5a2d7b9c10';

function line(sessionId: string, cwd: string, i: number, text = `message ${i}`): string {
  return `${JSON.stringify({ type: i % 2 ? 'assistant' : 'user', uuid: `u-${sessionId}-${i}`, parentUuid: i ? `u-${sessionId}-${i - 1}` : null, sessionId, cwd, timestamp: new Date(Date.UTC(2026, 10, 21, 9, 0, i)).toISOString(), message: { role: i % 2 ? 'assistant' : 'user', content: text } })}\n`;
}

function fileAt(path: string): string | null {
  return existsSync(path) ? readFileSync(path, 'utf8') : null;
}

describe('names per device (Claude Code projects)', () => {
  it("stores a session under each device's own key for the same home-relative project, both ways", async () => {
    const a = makeDaemon('alpha');
    const b = makeDaemon('beta');
    const projA = join(a.home, 'code', 'my_app');
    const projB = join(b.home, 'code', 'my_app');
    mkdirSync(projA, { recursive: true });
    mkdirSync(projB, { recursive: true });
    const keyA = claudeProjectKey(realpathSync(projA));
    const keyB = claudeProjectKey(realpathSync(projB));
    expect(keyA).not.toBe(keyB);
    const logA = join(a.projects, keyA, `${SID}.jsonl`);
    const logB = join(b.projects, keyB, `${SID}.jsonl`);
    mkdirSync(join(a.projects, keyA, SID, 'tool-results'), { recursive: true });
    writeFileSync(logA, [0, 1, 2, 3].map((i) => line(SID, projA, i)).join(''));
    writeFileSync(join(a.projects, keyA, SID, 'tool-results', 'toolu_01.txt'), 'x'.repeat(50_000));

    await a.start();
    await b.start(['--peer', a.addresses[0]!]);
    await until(() => fileAt(logB) === fileAt(logA), { timeoutMs: 30_000, what: "the log under B's key" });
    expect(readFileSync(join(b.projects, keyB, SID, 'tool-results', 'toolu_01.txt'), 'utf8')).toBe('x'.repeat(50_000));
    // Only B's key: never a second copy under A's key.
    expect(existsSync(join(b.projects, keyA))).toBe(false);

    // B continues the session (as the tool would, with B's cwd), A gets the lines under its own key.
    appendFileSync(logB, line(SID, projB, 4) + line(SID, projB, 5));
    await until(() => fileAt(logA) === fileAt(logB), { timeoutMs: 30_000, what: "B's lines under A's key" });
    expect(existsSync(join(a.projects, keyB))).toBe(false);

    // roam map shows the project and where it lives here.
    const map = JSON.parse(b.roam('map', '--json').stdout) as Array<{ key: string; path: string; display: string[] }>;
    expect(map.find((m) => m.key === keyB)).toMatchObject({ path: realpathSync(projB), display: ['~/code/my_app'] });
  }, 90_000);

  it('roam map moves a project to another directory here without the peers seeing a change', async () => {
    const a = makeDaemon('alpha');
    const b = makeDaemon('beta');
    const projA = join(a.home, 'code', 'app');
    mkdirSync(projA, { recursive: true });
    const keyA = claudeProjectKey(realpathSync(projA));
    const logA = join(a.projects, keyA, `${SID}.jsonl`);
    mkdirSync(join(a.projects, keyA), { recursive: true });
    writeFileSync(logA, [0, 1].map((i) => line(SID, projA, i)).join(''));
    // On B the project is checked out somewhere else entirely.
    const elsewhere = join(b.home, 'src', 'work', 'app');
    mkdirSync(elsewhere, { recursive: true });
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);
    const missingKey = claudeProjectKey(join(realpathSync(b.home), 'code', 'app'));
    await until(() => fileAt(join(b.projects, missingKey, `${SID}.jsonl`)) === fileAt(logA), { timeoutMs: 30_000, what: 'the log under the key of ~/code/app on B' });

    const r = b.roam('map', '~/code/app', elsewhere);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const movedTo = join(b.projects, claudeProjectKey(realpathSync(elsewhere)), `${SID}.jsonl`);
    expect(readFileSync(movedTo, 'utf8')).toBe(readFileSync(logA, 'utf8'));
    expect(existsSync(join(b.projects, missingKey, `${SID}.jsonl`))).toBe(false);
    // New lines still flow both ways, into the new place.
    appendFileSync(logA, line(SID, projA, 2));
    await until(() => fileAt(movedTo) === fileAt(logA), { timeoutMs: 30_000, what: 'a new line into the moved log' });
    appendFileSync(movedTo, line(SID, elsewhere, 3));
    await until(() => fileAt(logA) === fileAt(movedTo), { timeoutMs: 30_000, what: "B's line back on A" });
    expect(b.roam('sync', '--wait', '--timeout', '30').status).toBe(0);
    // Nothing was deleted or duplicated on A.
    expect(readFileSync(logA, 'utf8').split('\n').filter(Boolean)).toHaveLength(4);
  }, 90_000);
});
