/**
 * Writes that a swapped parent directory cannot redirect: a hook swaps the parent of the item for
 * a symlink to a directory outside the folder between the parent check and the open (the race a
 * local writer could win, made deterministic). Every write path refuses with ROAM_PATH_ESCAPE
 * before a byte is written, nothing lands outside, and the store keeps working. Also: a peer's
 * mode keeps its owner bits only, and directories the store makes are 0700.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CHECKPOINT_INTERVAL, LineChain } from '../src/log/chain.js';
import { sha256Of } from '../src/log/hash.js';
import { GENESIS } from '../src/log/position.js';
import { FsFolderStore, nodeHasher, peerMode, setBeforeOpenHook } from '../src/node/index.js';

const enc = (s: string) => new TextEncoder().encode(s);
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  setBeforeOpenHook(null);
  for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => undefined);
});

async function setup() {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'roam-pinned-'));
  cleanup.push(() => fs.promises.rm(base, { recursive: true, force: true }));
  const root = path.join(base, 'root');
  const outside = path.join(base, 'outside');
  fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
  fs.mkdirSync(outside);
  const store = await FsFolderStore.create({ root, stateDir: path.join(base, 'state') });
  cleanup.push(() => store.close());
  await store.open();
  return { root: fs.realpathSync(root), outside, store };
}

/** Swaps `<root>/sub` for a symlink to `outside` the first time something under it is opened. */
function swapSubOnOpen(root: string, outside: string): { swapped: () => boolean } {
  let done = false;
  setBeforeOpenHook((abs) => {
    if (done || path.dirname(abs) !== path.join(root, 'sub')) return;
    done = true;
    fs.renameSync(path.join(root, 'sub'), path.join(root, 'sub-moved'));
    fs.symlinkSync(outside, path.join(root, 'sub'));
  });
  return { swapped: () => done };
}

function endOf(bytes: Uint8Array) {
  const chain = new LineChain(nodeHasher, GENESIS, DEFAULT_CHECKPOINT_INTERVAL);
  chain.push(bytes);
  return chain.pos;
}

describe('writes through a parent swapped for a symlink between check and open', () => {
  it('a staged write (a whole file from a peer) is refused before its first byte; nothing lands outside', async () => {
    const { root, outside, store } = await setup();
    const swap = swapSubOnOpen(root, outside);
    await expect(store.stage('sub/blob.bin')).rejects.toMatchObject({ code: 'ROAM_PATH_ESCAPE' });
    expect(swap.swapped()).toBe(true);
    expect(fs.readdirSync(outside)).toEqual([]);
    // The store carries on: another item is written normally.
    setBeforeOpenHook(null);
    const data = enc('hello\n');
    const s = await store.stage('other.bin');
    await s.write(0, data);
    const state = await s.commit({ kind: 'file', size: data.length, lines: 0, hash: sha256Of(nodeHasher, [data]), mtimeMs: 1_700_000_000_000, mode: 0o644 }, null);
    expect(state.size).toBe(data.length);
    expect(fs.statSync(path.join(root, 'other.bin')).mode & 0o777).toBe(0o600);
  });

  it('a new log from a peer (written under a temp name) is refused; nothing lands outside', async () => {
    const { root, outside, store } = await setup();
    const swap = swapSubOnOpen(root, outside);
    const data = enc('{"a":1}\n');
    await expect(store.appendLog('sub/s.jsonl', GENESIS, [data], endOf(data), 1_700_000_000_000, 0o644)).rejects.toMatchObject({ code: 'ROAM_PATH_ESCAPE' });
    expect(swap.swapped()).toBe(true);
    expect(fs.readdirSync(outside)).toEqual([]);
  });

  it('an append to a known log is refused; the file outside of the same name is untouched', async () => {
    const { root, outside, store } = await setup();
    const first = enc('{"a":1}\n');
    const end1 = endOf(first);
    await store.appendLog('sub/s.jsonl', GENESIS, [first], end1, 1_700_000_000_000, 0o644);
    // The attacker's copy: same name, same size, in the directory the symlink will point to.
    fs.copyFileSync(path.join(root, 'sub', 's.jsonl'), path.join(outside, 's.jsonl'));
    const swap = swapSubOnOpen(root, outside);
    const more = enc('{"b":2}\n');
    const chain = new LineChain(nodeHasher, end1, DEFAULT_CHECKPOINT_INTERVAL);
    chain.push(more);
    await expect(store.appendLog('sub/s.jsonl', end1, [more], chain.pos, 1_700_000_001_000, 0o644)).rejects.toMatchObject({ code: expect.stringMatching(/^ROAM_(PATH_ESCAPE|STORE_CONFLICT)$/) });
    expect(swap.swapped()).toBe(true);
    expect(fs.readFileSync(path.join(outside, 's.jsonl'), 'utf8')).toBe('{"a":1}\n');
  });
});

describe('modes of what peers send', () => {
  it('keeps the owner bits of a peer mode and drops group and other', () => {
    expect(peerMode(0o755)).toBe(0o700);
    expect(peerMode(0o644)).toBe(0o600);
    expect(peerMode(0o600)).toBe(0o600);
    expect(peerMode(0o777)).toBe(0o700);
    expect(peerMode(0o4755)).toBe(0o700);
  });

  it('a log from a peer gets its owner bits; the directories made for it are 0700', async () => {
    const { root, store } = await setup();
    const data = enc('{"a":1}\n');
    await store.appendLog('deep/er/s.jsonl', GENESIS, [data], endOf(data), 1_700_000_000_000, 0o755);
    expect(fs.statSync(path.join(root, 'deep', 'er', 's.jsonl')).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(root, 'deep')).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(root, 'deep', 'er')).mode & 0o777).toBe(0o700);
  });
});
