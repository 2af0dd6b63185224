/**
 * Names that differ only by case, arriving on a case-insensitive file system: two real roamd
 * processes; beta's synced folder is a real FAT file system (a 16 MiB image mounted with fusefat,
 * FUSE, created here), which is case-insensitive and case-preserving. alpha (an ordinary Linux
 * file system) holds `A.jsonl` and `a.jsonl`: on beta only one of them can exist. Neither may end
 * overwritten by the other, on either device, and beta says which name it could not take.
 *
 * Needs /dev/fuse and fusefat (Debian: `apt-get install fusefat dosfstools`): skipped with a loud
 * notice without them, except under CI=true, where it fails.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { probeFolding } from '../../packages/core/src/node/folding.js';
import { until } from '../harness/poll.js';
import { makeDaemon, stopAll, type DaemonHandle } from '../support/daemons.js';
import { mountFat, type FatMount } from '../support/fat.js';

let mount: FatMount | null = null;
const daemons: DaemonHandle[] = [];
const stopDaemons = () => Promise.all(daemons.splice(0).map((d) => d.kill()));

afterEach(async () => {
  // The daemons stop before the file system under them goes; the mount goes before their temp
  // dirs are removed (stopAll), even when stopping failed.
  try {
    await stopDaemons();
  } finally {
    const m = mount;
    mount = null;
    m?.unmount();
    await stopAll();
  }
});

const PROJECT = '-home-alice-code-app';
const line = (who: string, i: number) => `${JSON.stringify({ type: 'user', uuid: `${who}-${i}`, message: { content: `${who} ${i}` } })}\n`;
const lines = (who: string, n: number) => Array.from({ length: n }, (_, i) => line(who, i)).join('');

describe('names that differ only by case, on a case-insensitive file system', () => {
  it('neither overwrites the other: beta keeps one, refuses the other with a clear note, alpha keeps both', { timeout: 60_000 }, async ({ skip }) => {
    const a = makeDaemon('alpha');
    const b = makeDaemon('beta');
    // beta's Claude Code projects folder is the FAT mount.
    const made = mountFat(b.projects);
    if (!made.ok) {
      if (process.env.CI === 'true') throw new Error(`this test needs a FUSE FAT mount: ${made.reason}`);
      console.warn(`case-fold e2e test SKIPPED: ${made.reason}`);
      return skip(made.reason);
    }
    mount = made.mount;
    daemons.push(a, b);
    // The probe sees what the mount is: case folded (and kept), normalization not (FAT stores UTF-16 as given).
    expect(await probeFolding(mount.dir)).toEqual({ case: true, unicode: false });
    expect(readdirSync(mount.dir)).toEqual([]);
    const dirA = join(a.projects, PROJECT);
    mkdirSync(dirA, { recursive: true });
    const upper = lines('upper', 40);
    const lower = lines('lower', 3);
    writeFileSync(join(dirA, 'A.jsonl'), upper);
    writeFileSync(join(dirA, 'a.jsonl'), lower);
    writeFileSync(join(dirA, 'other.jsonl'), lines('other', 2));
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);
    const dirB = join(b.projects, PROJECT);
    await until(() => existsSync(join(dirB, 'other.jsonl')) && readFileSync(join(dirB, 'other.jsonl'), 'utf8') === lines('other', 2), {
      timeoutMs: 30_000,
      what: 'beta to receive the project',
      detail: () => ({ b: b.output.slice(-3000) }),
    });
    // The clash is noticed and said (polled: the log comes through a pipe).
    await until(() => /differs only by case/.test(b.output), { timeoutMs: 20_000, what: 'beta to say a name clashes by case', detail: () => ({ b: b.output.slice(-4000), files: readdirSync(dirB) }) });
    // Quiet for a moment: nothing more moves.
    const settle = Date.now() + 3_000;
    await until(() => Date.now() > settle, { timeoutMs: 10_000, everyMs: 200, what: 'a quiet moment' });
    // Said, not retried in a loop: the failure waits for the peer's next change of that name.
    const failures = b.output.match(/failed: ROAM_\w+/g) ?? [];
    expect(failures.length, failures.join('\n')).toBeLessThanOrEqual(4);
    expect(new Set(failures)).toEqual(new Set(['failed: ROAM_NAME_CLASH']));
    // alpha keeps both, untouched; nothing of the one came back over the other.
    expect(readFileSync(join(dirA, 'A.jsonl'), 'utf8')).toBe(upper);
    expect(readFileSync(join(dirA, 'a.jsonl'), 'utf8')).toBe(lower);
    // beta holds one of the two names, with exactly that name's content.
    const names = readdirSync(dirB).filter((n) => n.toLowerCase() === 'a.jsonl');
    expect(names).toHaveLength(1);
    const kept = names[0]!;
    expect(readFileSync(join(dirB, kept), 'utf8')).toBe(kept === 'A.jsonl' ? upper : lower);
    expect(readdirSync(dirB).filter((n) => n.includes('sync-conflict') || n.includes('.fork-'))).toEqual([]);
  });
});
