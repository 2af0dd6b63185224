/**
 * The folder watcher: a new directory is answered by a look at the files under it (at once and
 * twice more), not by a rescan of the whole folder: an initial sync creates a directory per session
 * and per project, and a full rescan for each made it quadratic in the folder's size.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
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

const until = async (ok: () => boolean, what: string, ms = 5000) => {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('FolderWatcher', () => {
  it('sees files written into a directory created a moment before, without rescanning the folder', async () => {
    const { root, calls, names } = await watched();
    for (let i = 0; i < 10; i++) {
      const dir = join(root, `-home-new-${i}`, 'sub', 'agents');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'a.jsonl'), '{}\n');
      writeFileSync(join(dir, 'skip.tmp'), 'x');
    }
    await until(() => Array.from({ length: 10 }, (_, i) => `-home-new-${i}/sub/agents/a.jsonl`).every((n) => names().has(n)), 'every new file');
    await new Promise((r) => setTimeout(r, 1300)); // past the last look under each new directory
    expect(calls).not.toContain(null);
    expect([...names()].filter((n) => n.startsWith('-home-old-'))).toEqual([]);
    expect([...names()].filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect([...names()].filter((n) => n.startsWith('error'))).toEqual([]);
  });

  it('still rescans the whole folder when a directory goes away', async () => {
    const { root, calls } = await watched();
    rmSync(join(root, '-home-old-3'), { recursive: true });
    await until(() => calls.includes(null), 'a full rescan');
  });
});
