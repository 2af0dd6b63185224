// Smoke test of the Syncthing driver: one pair (A, B) serving two scenario folders. Without the
// binary it is skipped with a loud notice, or fails the run under CI=true (see syncthingAvailable).
import { appendFile, chmod, mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TreeEntry } from './driver.js';
import { SyncthingDriver, isLoopback, syncthingAvailable } from './syncthing-driver.js';

/** Wall-clock milliseconds of each step, printed at the end (the budget is ~60 s for the file). */
const timings: Record<string, number> = {};
async function timed<T>(label: string, step: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await step();
  } finally {
    timings[label] = Math.round(performance.now() - t0);
  }
}

/** `YYYYMMDD-HHMMSS` in UTC (the driver runs Syncthing with TZ=UTC). */
function stamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
}

describe.skipIf(!syncthingAvailable())('SyncthingDriver (Syncthing 1.19, devices A and B)', () => {
  const st = new SyncthingDriver();

  beforeAll(() => timed('start', () => st.start(['A', 'B'], ['append', 'conflict'])));
  afterAll(async () => {
    await timed('stop', () => st.stop());
    console.log('SyncthingDriver timings (ms):', timings);
  });

  it('replicates new files and an appended line exactly (content, size, mtime, mode)', async () => {
    const a = st.device('A').folder('append');
    const log = path.join(a, 'proj', 'sess.jsonl');
    await mkdir(path.dirname(log));
    await chmod(path.dirname(log), 0o755); // modes set explicitly: independent of the umask
    await writeFile(log, '{"n":1}\n');
    await chmod(log, 0o640);
    await writeFile(path.join(a, 'run.sh'), '#!/bin/sh\n');
    await chmod(path.join(a, 'run.sh'), 0o755);
    await timed('settled: new files', () => st.settled('append'));
    expect(await st.tree('B', 'append')).toEqual(await st.tree('A', 'append'));

    await appendFile(log, '{"n":2}\n');
    await timed('settled: append', () => st.settled('append'));
    const b = await st.tree('B', 'append');
    expect(b).toEqual(await st.tree('A', 'append'));
    expect(b.map((e) => [e.path, e.type, e.mode])).toEqual([
      ['proj', 'dir', 0o755],
      ['proj/sess.jsonl', 'file', 0o640],
      ['run.sh', 'file', 0o755],
    ]);
    expect(b[1]).toMatchObject({ size: 16, content: '{"n":1}\n{"n":2}\n' });
  });

  it('concurrent changes: the newer mtime keeps the name, the other becomes a conflict copy on both', async () => {
    const name = 'sess.v2.jsonl';
    const [fa, fb] = ['A', 'B'].map((d) => path.join(st.device(d).folder('conflict'), name)) as [string, string];
    await writeFile(fa, 'base\n');
    await st.settled('conflict');

    await timed('pause', () => st.pause('A', 'B'));
    const t = Math.floor(Date.now() / 1000);
    await appendFile(fa, 'from A\n');
    await utimes(fa, t + 20, t + 20); // newer: keeps the name
    await appendFile(fb, 'from B\n');
    await utimes(fb, t + 10, t + 10);
    const resumedAt = Date.now();
    await st.resume('A', 'B');
    await timed('settled: conflict after resume', () => st.settled('conflict'));
    const doneAt = Date.now();

    const ta = await st.tree('A', 'conflict');
    expect(await st.tree('B', 'conflict')).toEqual(ta);
    expect(ta).toHaveLength(2);
    const [winner, copy] = ta as [TreeEntry, TreeEntry];
    expect(winner).toMatchObject({ path: name, content: 'base\nfrom A\n', mtimeMs: (t + 20) * 1000 });
    // `<stem>.sync-conflict-<UTC date>-<time>-<7-char id of the device that wrote the winner>.<last ext>`,
    // stamped with the resolving device's clock; the copy keeps the loser's content and mtime.
    const m = /^sess\.v2\.sync-conflict-(\d{8}-\d{6})-([A-Z2-7]{7})\.jsonl$/.exec(copy.path);
    const [, when = '', id] = m ?? [];
    expect(id, copy.path).toBe(st.conflictIdOf('A'));
    expect(when >= stamp(resumedAt - 1000) && when <= stamp(doneAt), when).toBe(true);
    expect(copy).toMatchObject({ content: 'base\nfrom B\n', mtimeMs: (t + 10) * 1000 });
  });

  it('talks only over 127.0.0.1 (REST connections list and the processes\' sockets)', async () => {
    await st.settled('append');
    for (const [x, y] of [['A', 'B'], ['B', 'A']] as const) {
      const conn = (await st.connections(x))[st.idOf(y)];
      expect(conn?.connected).toBe(true);
      expect(conn?.address).toMatch(/^127\.0\.0\.1:\d+$/);
      const sockets = await st.sockets(x);
      expect(sockets.length).toBeGreaterThan(0);
      for (const s of sockets) {
        expect(isLoopback(s.local), JSON.stringify(s)).toBe(true);
        expect(isLoopback(s.remote) || /^(0\.0\.0\.0|\[::\]):0$/.test(s.remote), JSON.stringify(s)).toBe(true);
      }
    }
  });
});
