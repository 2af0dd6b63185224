/**
 * W4 (restart) and W5 (memory), which share their corpora and set-up.
 *
 * W5, for the small ("1k") and the large ("10k") corpus: peak RSS of roamd A while it indexes, of
 * A and B while B syncs from empty (sampled every 200 ms), and idle RSS after sync (median of 3 s of
 * samples taken 3 s after). The transfer of the large corpus is time-boxed (--sync-box, default 6 min
 * in the full mode): if B has not received everything by then, the peak over the box and how far it
 * got are reported, and the idle figure comes from the pre-seeded pair below.
 *
 * W4, on the large corpus: a synced pair (pre-seeded: B starts with an identical copy of the corpus
 * and roam confirms it holds the same content, which is much faster than transferring 10,000 files
 * and leaves B in the same synced state). Then, each round: stop B (SIGTERM); append a line to a log
 * on A meanwhile; evict B's folder and state from the page cache (posix_fadvise DONTNEED, just those
 * files); start B again. Time from B's spawn until the new line is on B's disk and B reports A
 * connected and in sync holding the whole corpus. Bytes B read: `read_bytes` of /proc/<pid>/io (from
 * the block device: with the cache evicted, what it really read) and `rchar` (every read() of files
 * and sockets, cached or not), at that moment and 3 s later (deferred work).
 */
import { appendFileSync, copyFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { appendLines } from '../lib/corpus.js';
import { corpus, type Corpus, type Ctx, type WorkloadResult } from '../lib/context.js';
import { Arrivals, dirBytes, lastLanded, evictCache, linkTree, verifyTree } from '../lib/fsutil.js';
import { roamIndexed, scratch } from '../lib/pairs.js';
import { cpuMs, ioCounters, memory, sampleMemory } from '../lib/proc.js';
import { pairState, RoamNode, type StoreStats } from '../lib/roam.js';
import { log, median, sleep, summarize } from '../lib/util.js';
import { untilOk } from '#harness/poll.js';

const MB = 1e6;
const RSS_TARGET = 150 * MB;

interface Pair {
  a: RoamNode;
  b: RoamNode;
  stop(): Promise<void>;
}

interface Transfer {
  files: number;
  bytes: number;
  indexPeakA: number;
  syncPeakA: number;
  syncPeakB: number;
  /** Files complete on B when the box ended (all of them when complete). */
  arrived: number;
  complete: boolean;
  /** ms from B's spawn to the last byte (complete) or to the end of the box. */
  ms: number;
  idleA?: number;
  idleB?: number;
  /** Idle CPU, share of one core. */
  idleCpuA?: number;
  idleCpuB?: number;
  /** A daemon died during the transfer: its error. */
  crash?: string;
}

export async function restartAndMemory(ctx: Ctx, w4: WorkloadResult, w5: WorkloadResult): Promise<void> {
  const s = ctx.sizes;
  const small = await corpus(ctx, 'small', { kind: 'corpus', files: s.smallFiles, bytes: s.smallBytes });
  const large = await corpus(ctx, 'large', { kind: 'corpus', files: s.restartFiles, bytes: s.restartBytes });
  w5.sizes = { small: describe(small), large: describe(large), syncBox: `${Math.round(s.syncBoxMs / 1000)} s` };
  w4.sizes = { corpus: describe(large), restarts: s.restartReps };

  const sm = await transfer(ctx, small, Infinity);
  if (!sm.complete) w5.notes.push(`the transfer of the small corpus did not complete: ${sm.crash ?? 'timeout'}`);
  const lg = await transfer(ctx, large, s.syncBoxMs);
  // The log W4 appends to: a copy on both sides (the rest are hard links to the cached corpus).
  const mains = large.manifest.files.filter((f) => /^[^/]+\/[^/]+\.jsonl$/.test(f.path));
  const target = mains[Math.floor(mains.length / 2)]!.path;
  const seeded = await preseededPair(ctx, large, [target]);
  try {
    w5.figures.push({ id: `rss.seeded.peak.A.${seeded.files}`, label: `pre-seeded pair: roamd A peak RSS while indexing and exchanging indexes (${tag(large)})`, unit: 'MB', summary: summarize([seeded.peakA / MB]) });
    w5.figures.push({ id: `rss.seeded.peak.B.${seeded.files}`, label: `pre-seeded pair: roamd B peak RSS while indexing and exchanging indexes (${tag(large)})`, unit: 'MB', summary: summarize([seeded.peakB / MB]) });
    if (lg.idleA === undefined) {
      lg.idleA = seeded.idleA;
      lg.idleB = seeded.idleB;
      lg.idleCpuA = seeded.idleCpuA;
      lg.idleCpuB = seeded.idleCpuB;
    }
    if (sm.idleA === undefined) {
      // The small transfer failed: no idle figure of its own (reported as missing).
      sm.idleA = NaN;
      sm.idleB = NaN;
    }
    await restarts(ctx, large, seeded.pair, w4, target);
  } finally {
    await seeded.pair.stop();
  }

  for (const m of [sm, lg]) {
    const t = `${m.files} files, ${(m.bytes / MB).toFixed(0)} MB`;
    const during = m.complete ? t : `${t}; ${m.crash ? 'roamd CRASHED' : 'time-boxed'}: ${m.arrived} of ${m.files} files in ${(m.ms / 1000).toFixed(0)} s`;
    w5.figures.push({ id: `rss.index.A.${m.files}`, label: `roamd A peak RSS while indexing (${t})`, unit: 'MB', summary: summarize([m.indexPeakA / MB]) });
    w5.figures.push({ id: `rss.sync.A.${m.files}`, label: `roamd A (sender) peak RSS during sync (${during})`, unit: 'MB', summary: summarize([m.syncPeakA / MB]), target: { text: '≤ 150 MB', met: m.syncPeakA <= RSS_TARGET } });
    w5.figures.push({ id: `rss.sync.B.${m.files}`, label: `roamd B (receiver) peak RSS during sync (${during})`, unit: 'MB', summary: summarize([m.syncPeakB / MB]), target: { text: '≤ 150 MB', met: m.syncPeakB <= RSS_TARGET } });
    const idleHow = m === lg && !m.complete ? ' (pre-seeded pair)' : '';
    if (Number.isFinite(m.idleA) && Number.isFinite(m.idleB)) {
      w5.figures.push({ id: `rss.idle.A.${m.files}`, label: `roamd A idle RSS after sync${idleHow} (${t})`, unit: 'MB', summary: summarize([m.idleA! / MB]), target: { text: '≤ 150 MB', met: m.idleA! <= RSS_TARGET } });
      w5.figures.push({ id: `rss.idle.B.${m.files}`, label: `roamd B idle RSS after sync${idleHow} (${t})`, unit: 'MB', summary: summarize([m.idleB! / MB]), target: { text: '≤ 150 MB', met: m.idleB! <= RSS_TARGET } });
    }
    if (m.idleCpuA !== undefined && m.idleCpuB !== undefined) {
      w5.figures.push({ id: `cpu.idle.${m.files}`, label: `idle CPU after sync${idleHow}, roamd A and B (% of one core) (${t})`, unit: '%', summary: summarize([m.idleCpuA * 100, m.idleCpuB * 100]) });
    }
    w5.figures.push({
      id: `rss.synctime.${m.files}`, label: m.complete ? `initial sync time of this corpus (context)` : `initial sync of this corpus: not finished within the box (context)`, unit: 'ms', summary: summarize([m.ms]),
      ...(m.complete ? {} : { note: `${m.arrived} of ${m.files} files had arrived` }),
    });
  }
  for (const k of ['syncPeakB', 'idleB', 'syncPeakA', 'idleA'] as const) {
    const growth = lg[k]! / sm[k]!;
    if (!Number.isFinite(growth)) continue;
    const kind = k.startsWith('sync') ? 'sync' : 'idle';
    const side = k.endsWith('A') ? 'A' : 'B';
    w5.comparisons.push({
      label: `RSS ${kind === 'sync' ? 'peak during sync' : 'idle'}, roamd ${side}: ${lg.files} vs ${sm.files} files`,
      figure: `rss.${kind}.${side}.${lg.files}`, reference: `rss.${kind}.${side}.${sm.files}`,
      ratio: growth, sense: '1 = flat in corpus size',
      target: { text: 'flat (≤ 1.25×) and ≤ 150 MB', met: growth <= 1.25 && lg[k]! <= RSS_TARGET },
    });
  }
  for (const m of [sm, lg]) if (m.crash) {
    w5.status = 'partial';
    w5.notes.push(`roamd died during the transfer of ${m.files} files (${m.arrived} had arrived): ${m.crash}`);
  }
  if (!lg.complete && !lg.crash) w5.notes.push(`the transfer of the large corpus did not finish within the ${Math.round(s.syncBoxMs / 1000)} s box (${lg.arrived} of ${lg.files} files): its "during sync" peak covers that part only; its idle figures come from the pre-seeded pair (same items in both stores)`);
}

function describe(c: Corpus): string {
  return `${c.manifest.files.length} files, ${(c.manifest.totalBytes / MB).toFixed(1)} MB (${c.manifest.sessions} sessions)`;
}

function tag(c: Corpus): string {
  return `${c.manifest.files.length} files, ${(c.manifest.totalBytes / MB).toFixed(0)} MB`;
}

/** Idle RSS (median of samples after a settling pause) and idle CPU (share of one core) of both sides. */
async function idleRss(ctx: Ctx, pair: Pair): Promise<{ a: number; b: number; cpuA: number; cpuB: number }> {
  await sleep(ctx.sizes.settleMs);
  const idle: Array<{ a: number; b: number }> = [];
  const t0 = performance.now();
  const cpu0 = [cpuMs([pair.a.pid]), cpuMs([pair.b.pid])] as const;
  for (let i = 0; i < Math.max(5, (ctx.sizes.settleMs * 2) / 200); i++) {
    idle.push({ a: memory([pair.a.pid]).rss, b: memory([pair.b.pid]).rss });
    await sleep(200);
  }
  const ms = performance.now() - t0;
  return { a: median(idle.map((x) => x.a)), b: median(idle.map((x) => x.b)), cpuA: (cpuMs([pair.a.pid]) - cpu0[0]) / ms, cpuB: (cpuMs([pair.b.pid]) - cpu0[1]) / ms };
}

function newPair(ctx: Ctx, storeStats = false): Pair {
  const root = scratch(ctx, 'm');
  const a = new RoamNode(path.join(root, 'A'), 'A', { nodeArgs: ctx.roamdNodeArgs, storeStats });
  const b = new RoamNode(path.join(root, 'B'), 'B', { nodeArgs: ctx.roamdNodeArgs, storeStats });
  return { a, b, stop: async () => void (await Promise.allSettled([a.stop(), b.stop()])) };
}

/** A indexes the corpus, B starts empty and receives it (for at most `boxMs`); then both stop. */
async function transfer(ctx: Ctx, c: Corpus, boxMs: number): Promise<Transfer> {
  const n = c.manifest.files.length;
  const total = c.manifest.totalBytes;
  const pair = newPair(ctx);
  const { a, b } = pair;
  const timeoutMs = Math.max(180_000, (total / MB) * 3_000);
  try {
    await linkTree(c.dir, a.projects, c.manifest.files);
    await a.start();
    const memIndex = sampleMemory(() => (a.running ? [a.pid] : []));
    await roamIndexed(a, n, total, timeoutMs);
    const indexPeakA = memIndex.stop().peakRss;
    const memA = sampleMemory(() => (a.running ? [a.pid] : []));
    await b.start([a.address]);
    const memB = sampleMemory(() => (b.running ? [b.pid] : []));
    const arrivals = new Arrivals(b.projects, c.manifest.files);
    let crash: string | undefined;
    const complete = await untilOk(() => {
      a.assertAlive();
      b.assertAlive();
      return arrivals.poll();
    }, { what: 'roam B to sync', timeoutMs: Math.min(timeoutMs, boxMs), everyMs: 200 }).then(() => true, (err: unknown) => {
      if (!a.running || !b.running) {
        crash = err instanceof Error ? err.message : String(err);
        return false;
      }
      if (boxMs === Infinity) throw err;
      return false;
    });
    const syncPeakA = memA.stop().peakRss;
    const syncPeakB = memB.stop().peakRss;
    const out: Transfer = { files: n, bytes: total, indexPeakA, syncPeakA, syncPeakB, arrived: n - arrivals.remaining, complete, ms: complete ? lastLanded(b.projects, c.manifest.files) - b.spawnedAt : Date.now() - b.spawnedAt, ...(crash ? { crash } : {}) };
    log(`W5 ${n} files: ${complete ? `synced in ${(out.ms / 1000).toFixed(1)} s` : `${out.arrived} of ${n} files after ${(out.ms / 1000).toFixed(0)} s (${crash ? `CRASH: ${crash}` : 'box'})`}; peak RSS A ${(syncPeakA / MB).toFixed(0)} MB, B ${(syncPeakB / MB).toFixed(0)} MB`);
    if (complete) {
      await untilOk(async () => pairState(await b.statusOrNull(), a.peerId, { items: n, bytes: total }), { what: 'roam B to report itself in sync', timeoutMs: 120_000, everyMs: 250 });
      const problems = await verifyTree(b.projects, c.manifest.files);
      if (problems.length) throw new Error(`roam B differs: ${problems.slice(0, 5).join('; ')}`);
      const idle = await idleRss(ctx, pair);
      out.idleA = idle.a;
      out.idleB = idle.b;
      out.idleCpuA = idle.cpuA;
      out.idleCpuB = idle.cpuB;
    }
    return out;
  } finally {
    await pair.stop();
  }
}

/** Both sides start with the corpus (hard links; `copies` as real copies), index it and agree. */
async function preseededPair(ctx: Ctx, c: Corpus, copies: string[]): Promise<{ pair: Pair; files: number; peakA: number; peakB: number; idleA: number; idleB: number; idleCpuA: number; idleCpuB: number }> {
  const n = c.manifest.files.length;
  const total = c.manifest.totalBytes;
  const pair = newPair(ctx, true);
  const { a, b } = pair;
  const timeoutMs = Math.max(180_000, (total / MB) * 3_000);
  try {
    for (const node of [a, b]) {
      await linkTree(c.dir, node.projects, c.manifest.files);
      for (const p of copies) {
        rmSync(path.join(node.projects, p));
        copyFileSync(path.join(c.dir, p), path.join(node.projects, p));
      }
    }
    await a.start();
    const memA = sampleMemory(() => (a.running ? [a.pid] : []));
    await b.start([a.address]);
    const memB = sampleMemory(() => (b.running ? [b.pid] : []));
    await untilOk(async () => pairState(await b.statusOrNull(), a.peerId, { items: n, bytes: total }) ?? pairState(await a.statusOrNull(), b.peerId, { items: n, bytes: total }), { what: 'pre-seeded pair in sync', timeoutMs: timeoutMs, everyMs: 500 });
    const peakA = memA.stop().peakRss;
    const peakB = memB.stop().peakRss;
    log(`W4 pre-seeded pair of ${n} files in sync ${((Date.now() - a.spawnedAt) / 1000).toFixed(1)} s after A's start; peak RSS A ${(peakA / MB).toFixed(0)} MB, B ${(peakB / MB).toFixed(0)} MB`);
    const idle = await idleRss(ctx, pair);
    return { pair, files: n, peakA, peakB, idleA: idle.a, idleB: idle.b, idleCpuA: idle.cpuA, idleCpuB: idle.cpuB };
  } catch (err) {
    await pair.stop();
    throw err;
  }
}

async function restarts(ctx: Ctx, c: Corpus, pair: Pair, w4: WorkloadResult, target: string): Promise<void> {
  const { a, b } = pair;
  const lines = appendLines(`${ctx.seed}:restart`, ctx.sizes.restartReps, path.basename(target, '.jsonl'));
  const aFile = path.join(a.projects, target);
  const items = c.manifest.files.length;
  let bytes = c.manifest.totalBytes;

  const times: number[] = [];
  const readAtSync: number[] = [];
  const readLater: number[] = [];
  const rcharAtSync: number[] = [];
  const rcharLater: number[] = [];
  const cpu: number[] = [];
  const stopMs: number[] = [];
  /** roamd's own store counters (tools/store-stats.cts) at in-sync and 3 s later. */
  const store: Array<{ at: StoreStats | null; later: StoreStats | null }> = [];
  let evicted = true;
  for (let r = 0; r < ctx.sizes.restartReps; r++) {
    const t0 = Date.now();
    await b.stop();
    stopMs.push(Date.now() - t0);
    const line = lines[r]!;
    appendFileSync(aFile, line);
    bytes += Buffer.byteLength(line);
    await untilOk(async () => {
      const f = (await a.status()).folders[0];
      return f && f.bytes === bytes && f.items === items ? undefined : `A holds ${f?.items} / ${f?.bytes}`;
    }, { what: 'A to record the change', timeoutMs: 30_000, everyMs: 50 });
    evicted = evictCache([b.projects, b.roamHome]) && evicted;
    const bFile = path.join(b.projects, target);
    await b.start([a.address]);
    const pid = b.pid;
    // First the new line on disk (cheap to watch), then roam's own verdict (its status costs it CPU).
    const want = statSync(aFile).size;
    await untilOk(() => (statSync(bFile).size === want ? undefined : 'the new line is not on disk yet'), { what: 'B to get the new line after restart', timeoutMs: 120_000, everyMs: 5 });
    await untilOk(async () => pairState(await b.statusOrNull(), a.peerId, { items, bytes }), { what: 'B in sync after restart', timeoutMs: 120_000, everyMs: 50 });
    const ms = Date.now() - b.spawnedAt;
    const io1 = ioCounters([pid]);
    cpu.push(cpuMs([pid]));
    const st1 = await b.storeStats();
    await sleep(ctx.sizes.settleMs);
    const io2 = ioCounters([pid]);
    store.push({ at: st1, later: await b.storeStats() });
    times.push(ms);
    readAtSync.push(io1.readBytes);
    readLater.push(io2.readBytes);
    rcharAtSync.push(io1.rchar);
    rcharLater.push(io2.rchar);
    log(`W4 restart ${r + 1}: in sync ${ms} ms after spawn; read_bytes ${io1.readBytes} (+3 s: ${io2.readBytes}), rchar ${io1.rchar}; store: ${st1 ? `${st1.bytesRead} B of items read, ${st1.tailBytesRead} B of tails, ${st1.bytesHashed} B hashed, ${st1.fsyncs} fsyncs` : 'counters unavailable'}`);
  }
  const stateBytes = dirBytes(path.join(b.roamHome, 'state'));
  const allowance = stateBytes + 4096 * c.manifest.files.length + (1 << 20);
  w4.figures.push({ id: 'restart.time', label: 'restart: B spawn → connected, in sync, new line on disk', unit: 'ms', summary: summarize(times), samples: times, target: { text: '≤ 2 s', met: Math.max(...times) <= 2000 && median(times) <= 2000 } });
  w4.figures.push({
    id: 'restart.read_bytes', label: 'restart: bytes B read from disk until in sync (read_bytes, cache evicted)', unit: 'B', summary: summarize(readAtSync),
    target: { text: `no content re-read: ≤ own state (${stateBytes} B) + 4 KiB tail per file + 1 MiB = ${allowance} B; corpus is ${c.manifest.totalBytes} B`, met: evicted ? Math.max(...readLater) <= allowance : null },
    ...(evicted ? {} : { note: 'page cache could not be evicted (python3 missing?): read_bytes understates' }),
  });
  w4.figures.push({ id: 'restart.read_bytes_3s', label: `restart: read_bytes ${ctx.sizes.settleMs / 1000} s after in sync (deferred work)`, unit: 'B', summary: summarize(readLater) });
  w4.figures.push({ id: 'restart.rchar', label: 'restart: rchar until in sync (files + sockets, cached or not)', unit: 'B', summary: summarize(rcharAtSync) });
  w4.figures.push({ id: 'restart.rchar_3s', label: `restart: rchar ${ctx.sizes.settleMs / 1000} s after in sync`, unit: 'B', summary: summarize(rcharLater) });
  w4.figures.push({ id: 'restart.cpu', label: 'restart: CPU time of B until in sync (incl. Node start-up)', unit: 'ms', summary: summarize(cpu) });
  if (store.every((x) => x.at && x.later)) {
    const pick = (k: 'bytesRead' | 'tailBytesRead' | 'bytesHashed' | 'fsyncs', when: 'at' | 'later') => store.map((x) => x[when]![k]);
    w4.figures.push({
      id: 'restart.store.bytesRead', label: `restart: item bytes B's store read until in sync (roamd's own counter: content read to hash, fold or serve; +${ctx.sizes.settleMs / 1000} s in the note)`, unit: 'B',
      summary: summarize(pick('bytesRead', 'at')), note: `${ctx.sizes.settleMs / 1000} s later: ${pick('bytesRead', 'later').join(', ')} B; the line appended meanwhile is ${Buffer.byteLength(lines[0]!)} B`,
      target: { text: 'no content re-read: ≤ the lines appended meanwhile + 1 MiB', met: Math.max(...pick('bytesRead', 'later')) <= Math.max(...lines.map((l) => Buffer.byteLength(l))) + (1 << 20) },
    });
    w4.figures.push({ id: 'restart.store.tailBytesRead', label: "restart: tail-check bytes B's store read until in sync (≤ 4 KiB per log)", unit: 'B', summary: summarize(pick('tailBytesRead', 'at')) });
    w4.figures.push({ id: 'restart.store.bytesHashed', label: "restart: bytes B's store hashed until in sync", unit: 'B', summary: summarize(pick('bytesHashed', 'at')) });
    w4.figures.push({ id: 'restart.store.fsyncs', label: "restart: fsyncs of B's store until in sync", unit: 'calls', summary: summarize(pick('fsyncs', 'at')) });
  } else w4.notes.push("roamd's store counters could not be read (tools/store-stats.cjs): only /proc figures");
  w4.figures.push({ id: 'restart.stop', label: 'stop: SIGTERM → exit (context)', unit: 'ms', summary: summarize(stopMs) });
  w4.notes.push(`B's state directory: ${stateBytes} B for ${c.manifest.files.length} files; corpus ${c.manifest.totalBytes} B`);
}
