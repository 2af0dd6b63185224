/**
 * Two synced devices of each tool, set up the same way for every workload: A holds the corpus (hard
 * links, or copies when the workload writes to it), B starts empty and dials A (through a counting
 * proxy if asked); resolves once B holds the corpus byte for byte.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Corpus, Ctx } from './context.js';
import { Arrivals, lastLanded, linkTree, verifyTree } from './fsutil.js';
import { CountingProxy } from './proxy.js';
import { pairState, RoamNode } from './roam.js';
import { StPair } from './syncthing.js';
import { trackDir } from './util.js';
import { untilOk } from '#harness/poll.js';

let counter = 0;
export function scratch(ctx: Ctx, label: string): string {
  return trackDir(path.join(ctx.work, `${label}${++counter}`));
}

export interface RoamPair {
  a: RoamNode;
  b: RoamNode;
  proxy: CountingProxy | null;
  /** ms from A's spawn until it had indexed the corpus. */
  indexMs: number;
  /** ms from B's spawn until B held the corpus (by roam's status, then checked on disk). */
  syncMs: number;
  stop(): Promise<void>;
}

export async function roamIndexed(node: RoamNode, items: number, bytes: number, timeoutMs: number): Promise<void> {
  await untilOk(async () => {
    const s = await node.statusOrNull();
    const f = s?.folders[0];
    if (!f) return s ? 'no folder' : 'control socket not up';
    return f.items === items && f.bytes === bytes ? undefined : `${f.items} items / ${f.bytes} B`;
  }, { what: `roamd ${node.name} to index ${items} items`, timeoutMs: timeoutMs, everyMs: 100 });
}

export async function startRoamPair(ctx: Ctx, c: Corpus, opts: { copy?: boolean; proxy?: boolean; timeoutMs?: number } = {}): Promise<RoamPair> {
  const root = scratch(ctx, 'r');
  const a = new RoamNode(path.join(root, 'A'), 'A', { nodeArgs: ctx.roamdNodeArgs });
  const b = new RoamNode(path.join(root, 'B'), 'B', { nodeArgs: ctx.roamdNodeArgs });
  const timeoutMs = opts.timeoutMs ?? 600_000;
  let proxy: CountingProxy | null = null;
  const pair: RoamPair = {
    a, b, proxy, indexMs: NaN, syncMs: NaN,
    stop: async () => {
      await Promise.allSettled([a.stop(), b.stop()]);
      await proxy?.stop();
    },
  };
  try {
    await linkTree(c.dir, a.projects, c.manifest.files, opts.copy);
    const n = c.manifest.files.length;
    const bytes = c.manifest.totalBytes;
    await a.start();
    await roamIndexed(a, n, bytes, timeoutMs);
    pair.indexMs = Date.now() - a.spawnedAt;
    if (opts.proxy) {
      proxy = await CountingProxy.start(() => a.port);
      pair.proxy = proxy;
    }
    await b.start([proxy ? `/ip4/127.0.0.1/tcp/${proxy.port}/p2p/${a.peerId}` : a.address]);
    const arrivals = new Arrivals(b.projects, c.manifest.files);
    await untilOk(() => {
      a.assertAlive();
      b.assertAlive();
      return arrivals.poll();
    }, { what: 'roam B to sync the corpus', timeoutMs: timeoutMs, everyMs: 100 });
    pair.syncMs = lastLanded(b.projects, c.manifest.files) - b.spawnedAt;
    await untilOk(async () => pairState(await b.statusOrNull(), a.peerId, { items: n, bytes }), { what: 'roam B to report itself in sync', timeoutMs: 120_000, everyMs: 100 });
    await untilOk(async () => pairState(await a.statusOrNull(), b.peerId), { what: 'roam A to see B in sync', timeoutMs: 60_000, everyMs: 100 });
    const problems = await verifyTree(b.projects, c.manifest.files);
    if (problems.length) throw new Error(`roam B differs from the corpus: ${problems.slice(0, 5).join('; ')}`);
    return pair;
  } catch (err) {
    await pair.stop();
    throw err;
  }
}

export interface SyncthingPair {
  pair: StPair;
  /** A's folder, B's folder. */
  folderA: string;
  folderB: string;
  proxy: CountingProxy | null;
  scanMs: number;
  syncMs: number;
  stop(): Promise<void>;
}

export async function startStPair(ctx: Ctx, c: Corpus, delayS: number, opts: { copy?: boolean; proxy?: boolean; timeoutMs?: number } = {}): Promise<SyncthingPair> {
  const root = scratch(ctx, 's');
  const folderA = path.join(root, 'A', 'folder');
  const folderB = path.join(root, 'B', 'folder');
  await mkdir(folderA, { recursive: true });
  await mkdir(folderB, { recursive: true });
  const timeoutMs = opts.timeoutMs ?? 600_000;
  let proxy: CountingProxy | null = null;
  let aPort = 0;
  if (opts.proxy) proxy = await CountingProxy.start(() => aPort);
  const pair = await StPair.create(path.join(root, 'A'), folderA, path.join(root, 'B'), folderB, { delayS, ...(proxy ? { dialPort: proxy.port } : {}) });
  aPort = pair.a.listenPort;
  const sp: SyncthingPair = {
    pair, folderA, folderB, proxy, scanMs: NaN, syncMs: NaN,
    stop: async () => {
      await pair.stop();
      await proxy?.stop();
    },
  };
  try {
    await linkTree(c.dir, folderA, c.manifest.files, opts.copy);
    const n = c.manifest.files.length;
    const bytes = c.manifest.totalBytes;
    await pair.a.start();
    await pair.waitScanned(pair.a, n, bytes, timeoutMs);
    sp.scanMs = Date.now() - pair.a.spawnedAt;
    await pair.b.start();
    const arrivals = new Arrivals(folderB, c.manifest.files);
    await untilOk(() => {
      pair.a.assertAlive();
      pair.b.assertAlive();
      return arrivals.poll();
    }, { what: 'Syncthing B to sync the corpus', timeoutMs: timeoutMs, everyMs: 100 });
    sp.syncMs = lastLanded(folderB, c.manifest.files) - pair.b.spawnedAt;
    await pair.settled(timeoutMs, { files: n, bytes });
    const problems = await verifyTree(folderB, c.manifest.files);
    if (problems.length) throw new Error(`Syncthing B differs from the corpus: ${problems.slice(0, 5).join('; ')}`);
    return sp;
  } catch (err) {
    await sp.stop();
    throw err;
  }
}
