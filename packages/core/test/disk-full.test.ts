/**
 * Regression (found by the torture suite, test/torture/diskfull.test.ts): on a full disk an
 * append wrote part of its batch, so a reader saw a partial line (and a new log appeared,
 * half-written, then vanished) until the write was undone; and the log said only "short write",
 * not why. The store now checks the room left before writing a batch, and a short write names
 * its cause (ENOSPC).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LineChain } from '../src/log/chain.js';
import { GENESIS } from '../src/log/position.js';
import { FsFolderStore, nodeHasher } from '../src/node/index.js';
import { checkRoom } from '../src/node/io.js';

const cleanup: Array<() => unknown> = [];
afterEach(() => {
  for (const fn of cleanup.splice(0).reverse()) fn();
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'roam-disk-full-'));
  cleanup.push(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

const batch = (n: number, width: number) => Buffer.from(Array.from({ length: n }, (_, i) => `${JSON.stringify({ i, pad: 'x'.repeat(width) })}\n`).join(''));

function fold(start: typeof GENESIS, data: Uint8Array) {
  const chain = new LineChain(nodeHasher, start);
  chain.push(data);
  return chain.pos;
}

describe('a full disk', () => {
  it('checkRoom refuses what does not fit, as ENOSPC', async () => {
    const dir = tempDir();
    await expect(checkRoom(dir, 10)).resolves.toBeUndefined();
    await expect(checkRoom(dir, Number.MAX_SAFE_INTEGER)).rejects.toMatchObject({ code: 'ROAM_STORE_IO', message: expect.stringMatching(/ENOSPC: no space left on device/) });
  });

  it('an append that does not fit writes nothing: no partial line, no new file', async ({ skip }) => {
    const base = tempDir();
    const root = path.join(base, 'mnt');
    fs.mkdirSync(root);
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', root], { encoding: 'utf8' });
    if (m.status !== 0) return skip(`needs root to mount a tmpfs: ${m.stderr.trim()}`);
    cleanup.push(() => spawnSync('umount', ['-l', root]));
    const store = await FsFolderStore.create({ root, stateDir: path.join(base, 'state'), hasher: nodeHasher });
    cleanup.push(() => void store.close().catch(() => undefined));
    await store.open();

    // A first batch fits.
    const first = batch(10, 100);
    const end1 = fold(GENESIS, first);
    await store.appendLog('s.jsonl', GENESIS, [first], end1, 1000);
    // The next is larger than the disk: refused with ENOSPC, not a byte written (the file was
    // never touched: a write undone afterwards would still change its ctime).
    const big = batch(300, 4000);
    const before = fs.statSync(path.join(root, 's.jsonl'));
    await new Promise((r) => setTimeout(r, 20));
    await expect(store.appendLog('s.jsonl', end1, [big], fold(end1, big), 2000)).rejects.toMatchObject({ code: 'ROAM_STORE_IO', message: expect.stringMatching(/ENOSPC/) });
    expect(fs.readFileSync(path.join(root, 's.jsonl'))).toEqual(first);
    expect(fs.statSync(path.join(root, 's.jsonl')).ctimeMs).toBe(before.ctimeMs);
    // A new log that does not fit is not even created (the directory is untouched).
    const dirBefore = fs.statSync(root);
    await expect(store.appendLog('new.jsonl', GENESIS, [big], fold(GENESIS, big), 3000)).rejects.toMatchObject({ code: 'ROAM_STORE_IO', message: expect.stringMatching(/ENOSPC/) });
    expect(fs.existsSync(path.join(root, 'new.jsonl'))).toBe(false);
    expect(fs.statSync(root).mtimeMs).toBe(dirBefore.mtimeMs);
    // And the store carries on once there is room.
    const small = batch(2, 10);
    await store.appendLog('s.jsonl', end1, [small], fold(end1, small), 4000);
    expect(fs.readFileSync(path.join(root, 's.jsonl'))).toEqual(Buffer.concat([first, small]));
  });
});
