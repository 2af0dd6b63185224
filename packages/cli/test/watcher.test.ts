/**
 * The folder watcher: every write, creation and removal is reported by name; a new directory is
 * answered by a look at the files under it, not by a rescan of the whole folder (an initial sync
 * creates a directory per session and per project: a full rescan for each made it quadratic); only a
 * directory that goes away asks for a full rescan. On Linux it watches directories, not files.
 */
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../../test/harness/poll.js';
import { FolderWatcher } from '../src/daemon/watcher.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function watched(): Promise<{ root: string; calls: Array<string[] | null>; names: () => Set<string> }> {
  const root = mkdtempSync(join(tmpdir(), 'roam-watch-'));
  cleanup.push(() => rmSync(root, { recursive: true, force: true }));
  for (let p = 0; p < 20; p++) {
    mkdirSync(join(root, `-home-old-${p}`));
    for (let i = 0; i < 10; i++) writeFileSync(join(root, `-home-old-${p}`, `s${i}.jsonl`), '{}\n');
  }
  const calls: Array<string[] | null> = [];
  const w = await FolderWatcher.start(root, (name) => name.endsWith('.tmp'), (names) => calls.push(names), { onError: (err) => calls.push([`error: ${String(err)}`]) });
  cleanup.push(() => w.close());
  return { root, calls, names: () => new Set(calls.flatMap((c) => c ?? [])) };
}

describe('FolderWatcher', () => {
  it('sees files written into a directory created a moment before, without rescanning the folder', async () => {
    const { root, calls, names } = await watched();
    for (let i = 0; i < 10; i++) {
      const dir = join(root, `-home-new-${i}`, 'sub', 'agents');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'a.jsonl'), '{}\n');
      writeFileSync(join(dir, 'skip.tmp'), 'x');
    }
    await until(() => Array.from({ length: 10 }, (_, i) => `-home-new-${i}/sub/agents/a.jsonl`).every((n) => names().has(n)), { what: 'every new file' });
    await new Promise((r) => setTimeout(r, 1300)); // past the last look under each new directory
    expect(calls).not.toContain(null);
    expect([...names()].filter((n) => n.startsWith('-home-old-'))).toEqual([]);
    expect([...names()].filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect([...names()].filter((n) => n.startsWith('error'))).toEqual([]);
  });

  it('reports appends, new files and deletions by name', async () => {
    const { root, calls, names } = await watched();
    appendFileSync(join(root, '-home-old-1', 's1.jsonl'), '{"more":1}\n');
    writeFileSync(join(root, '-home-old-2', 'new.jsonl'), '{}\n');
    unlinkSync(join(root, '-home-old-3', 's3.jsonl'));
    writeFileSync(join(root, '-home-old-4', 'x.tmp'), 'ignored');
    await until(() => ['-home-old-1/s1.jsonl', '-home-old-2/new.jsonl', '-home-old-3/s3.jsonl'].every((n) => names().has(n)), { what: 'the three names' });
    await new Promise((r) => setTimeout(r, 200));
    expect(names().has('-home-old-4/x.tmp')).toBe(false);
    expect(calls).not.toContain(null);
  });

  it('follows a directory moved inside the folder: the old name is rescanned, the new one watched', async () => {
    const { root, calls, names } = await watched();
    renameSync(join(root, '-home-old-5'), join(root, '-home-moved'));
    await until(() => calls.includes(null) && names().has('-home-moved/s0.jsonl'), { what: 'a rescan and the moved files' });
    writeFileSync(join(root, '-home-moved', 'later.jsonl'), '{}\n');
    await until(() => names().has('-home-moved/later.jsonl'), { what: 'a file written under the new name' });
  });

  it.runIf(process.platform === 'linux')('watches directories only, one inotify watch each', async () => {
    await watched();
    // 20 project directories and the root; none for the 200 files.
    const fds = readdirSync('/proc/self/fd').map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return '';
      }
    });
    const inotify = fds.filter((l) => l === 'anon_inode:inotify').length;
    expect(inotify).toBeGreaterThan(0);
    const watches = readdirSync('/proc/self/fdinfo').reduce((n, fd) => {
      try {
        return n + (readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').match(/^inotify wd:/gm)?.length ?? 0);
      } catch {
        return n;
      }
    }, 0);
    expect(watches).toBe(21);
  });

  it('still rescans the whole folder when a directory goes away', async () => {
    const { root, calls } = await watched();
    rmSync(join(root, '-home-old-3'), { recursive: true });
    await until(() => calls.includes(null), { what: 'a full rescan' });
  });
});
