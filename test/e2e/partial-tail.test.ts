/**
 * A partial last line nobody completes never stalls a log (issue 15, item 4). A's copy of a session
 * ends with half a line (a tool killed mid-write) while A's roamd is stopped; B appends a complete
 * line; A restarts. The half line is moved to A's trash once it has gone unwritten for the bound
 * (ROAM_PARTIAL_TAIL_MS, 30 s by default, short here), B's line arrives as a fast-forward (no
 * fork), and `roam sync --wait` on B succeeds. Two real roamd over TCP on 127.0.0.1.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../packages/core/test/support/poll.js';
import { claudeProjectKey } from '../support/claude.js';
import { makeDaemon, stopAll, type DaemonHandle } from '../support/daemons.js';

afterEach(stopAll);

const SID = '7a11ba11-0000-4000-8000-00000000c0de';
/** Longer than A's restart takes, so that A finds the half line young and looks again when the bound has passed. */
const BOUND_MS = 4000;

const line = (cwd: string, i: number) =>
  `${JSON.stringify({ type: i % 2 ? 'assistant' : 'user', cwd, sessionId: SID, uuid: `u-${i}`, timestamp: new Date(Date.UTC(2026, 10, 1, 12, 0, i)).toISOString(), message: { content: `message ${i}` } })}\n`;

/** `<SID>.jsonl` on a device (each device keeps the project under its own key), or null. */
function sessionFile(d: DaemonHandle): string | null {
  for (const key of existsSync(d.projects) ? readdirSync(d.projects) : []) if (existsSync(join(d.projects, key, `${SID}.jsonl`))) return join(d.projects, key, `${SID}.jsonl`);
  return null;
}

const read = (file: string | null) => (file && existsSync(file) ? readFileSync(file, 'utf8') : '');

describe('a partial last line that nobody completes', () => {
  it('goes to the trash after the bound, the peer\'s line arrives as a fast-forward, and sync --wait succeeds', async () => {
    const env = { ROAM_PARTIAL_TAIL_MS: String(BOUND_MS) };
    const a = makeDaemon('alpha', { env });
    const b = makeDaemon('beta', { env });
    const cwdA = join(a.home, 'code', 'app');
    mkdirSync(cwdA, { recursive: true });
    const dirA = join(a.projects, claudeProjectKey(cwdA));
    mkdirSync(dirA, { recursive: true });
    const fileA = join(dirA, `${SID}.jsonl`);
    writeFileSync(fileA, Array.from({ length: 6 }, (_, i) => line(cwdA, i)).join(''));
    const then = (Date.now() - 10 * 60_000) / 1000;
    utimesSync(fileA, then, then);

    await a.start();
    await b.start(['--peer', a.addresses[0]!]);
    await until(() => read(sessionFile(b)) === read(fileA), { timeoutMs: 30_000, what: 'beta to receive the session' });

    // A's tool is killed mid-write while A's roamd is down; B's tool appends a complete line meanwhile.
    await a.kill();
    const half = '{"type":"user","message":{"content":"half a li';
    appendFileSync(fileA, half);
    const fileB = sessionFile(b)!;
    appendFileSync(fileB, line('/elsewhere', 6));
    const expected = read(fileB);

    await a.start(['--peer', b.addresses[0]!]);
    const sync = b.roam('sync', '--wait', '--timeout', '20');
    expect(sync.status, `${sync.stdout}${sync.stderr}\n--- alpha's log:\n${a.output}`).toBe(0);
    await until(() => read(fileA) === expected, { timeoutMs: 20_000, what: 'alpha to hold beta\'s log', detail: () => read(fileA).slice(-200) });
    // A fast-forward, no fork: the project holds the one session on both devices.
    expect(readdirSync(dirA).filter((n) => n.endsWith('.jsonl'))).toEqual([`${SID}.jsonl`]);
    expect(readdirSync(join(fileB, '..')).filter((n) => n.endsWith('.jsonl'))).toEqual([`${SID}.jsonl`]);

    const logs = a.roam('logs');
    const note = new RegExp(`${SID}\\.jsonl: its partial last line \\(${Buffer.byteLength(half)} bytes\\) went unwritten for (\\d+) s .*moved to the trash`).exec(logs.stdout);
    expect(note, logs.stdout).not.toBeNull();
    expect(Number(note![1])).toBeGreaterThanOrEqual(BOUND_MS / 1000);
    // The half line is kept in A's trash, byte for byte, where `roam restore` finds it.
    const list = a.roam('restore', '--list', '--json');
    expect(list.status, list.stderr).toBe(0);
    const entries = JSON.parse(list.stdout) as Array<{ id: string; name: string; path: string; size: number }>;
    const kept = entries.find((e) => e.name.endsWith(`${SID}.jsonl.partial`));
    expect(kept, JSON.stringify(entries)).toBeDefined();
    expect(kept!.size).toBe(Buffer.byteLength(half));
    const restored = a.roam('restore', kept!.id);
    expect(restored.status, restored.stderr).toBe(0);
    expect(readFileSync(kept!.path, 'utf8')).toBe(half);
  });
});
