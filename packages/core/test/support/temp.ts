/**
 * What the core's file-system tests undo after each test (stores to close, links to close,
 * temporary directories to remove), and the temporary directories and file stores they open.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach } from 'vitest';
import { toHex } from '../../src/bytes.js';
import { LineChain } from '../../src/log/chain.js';
import { GENESIS } from '../../src/log/position.js';
import { FsFolderStore, nodeHasher, type FsFolderStoreOptions } from '../../src/node/index.js';

/** Queues a step to run after the running test. */
export type Cleanup = (step: () => Promise<unknown>) => void;

/**
 * After each test of the file (or of the describe block it is called in), runs the steps queued
 * during the test, newest first, each one's failure ignored.
 */
export function cleanupAfterEach(): Cleanup {
  const steps: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const fn of steps.splice(0).reverse()) await fn().catch(() => undefined);
  });
  return (step) => {
    steps.push(step);
  };
}

/** A new directory `<os tmp>/<prefix>XXXXXX`, removed after the test. */
export function tempDir(cleanup: Cleanup, prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  cleanup(() => fs.promises.rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A fresh temporary directory with `root` (made) and a place for `state` in it, removed after the test. */
export function tempRoot(cleanup: Cleanup, prefix: string): { base: string; root: string; stateDir: string } {
  const base = tempDir(cleanup, prefix);
  const root = path.join(base, 'root');
  fs.mkdirSync(root);
  return { base, root, stateDir: path.join(base, 'state') };
}

/** A file store over `dirs`, opened; closed after the test. */
export async function openStore(cleanup: Cleanup, dirs: { root: string; stateDir: string }, extra: Partial<FsFolderStoreOptions> = {}): Promise<FsFolderStore> {
  const store = await FsFolderStore.create({ ...dirs, ...extra });
  cleanup(() => store.close());
  await store.open();
  return store;
}

/** Chain hash of a log's complete lines (see docs/PROTOCOL.md §2), in hex. */
export function chainHash(content: string): string {
  const chain = new LineChain(nodeHasher, GENESIS);
  chain.push(Buffer.from(content));
  return toHex(chain.pos.hash);
}
