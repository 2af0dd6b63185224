/**
 * W2, initial sync: A holds the corpus (already indexed / scanned), B starts empty; time from B's
 * process spawn until B's folder is byte-identical. Three ways, alternating in each round: roam,
 * Syncthing (fsWatcherDelayS 2), and a raw libp2p stream (same stack as roamd: tcp + noise + yamux +
 * pnet) carrying the same files' bytes in 64 KiB chunks to a receiver that writes and fsyncs them.
 *
 * Completion is detected from each tool's own report (roam status / Syncthing REST / the raw
 * receiver's "done") and then checked on disk (every size, then every SHA-256); the time of the last
 * byte is the latest ctime among B's files, so the polling interval does not count.
 * B is fresh in every round: a new roam identity and state, a wiped Syncthing database (same keys).
 */
import { spawn } from 'node:child_process';
import { rm, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { corpus, type Corpus, type Ctx, type WorkloadResult } from '../lib/context.js';
import { Arrivals, lastLanded, linkTree, verifyTree } from '../lib/fsutil.js';
import { roamIndexed, scratch } from '../lib/pairs.js';
import { cpuMs, sampleMemory } from '../lib/proc.js';
import { pairState, RoamNode } from '../lib/roam.js';
import { stHolds, StPair } from '../lib/syncthing.js';
import { log, median, RAW_PEER, summarize, track } from '../lib/util.js';
import { untilOk } from '#harness/poll.js';

interface Run {
  ms: number;
  mbps: number;
  wireBytes: number;
  cpuA: number;
  cpuB: number;
  peakRssB: number;
  peakRssA: number;
}

export async function initialSync(ctx: Ctx, res: WorkloadResult): Promise<void> {
  const s = ctx.sizes;
  const c = await corpus(ctx, 'initial', { kind: 'corpus', files: s.initialFiles, bytes: s.initialBytes });
  const n = c.manifest.files.length;
  const total = c.manifest.totalBytes;
  res.sizes = { corpus: `${n} files, ${(total / 1e6).toFixed(1)} MB (${c.manifest.sessions} sessions)`, rounds: s.initialReps };
  const timeoutMs = Math.max(120_000, (total / 1e6) * 2_000);

  // A sides, started once: roam A indexed, Syncthing A scanned.
  const lanes: Array<{ key: string; label: string; a: RoamNode; nodeArgs: string[] }> = [];
  for (const v of [{ key: 'roam', label: 'roam', nodeArgs: ctx.roamdNodeArgs }]) {
    const a = new RoamNode(path.join(scratch(ctx, 'iA'), 'roam'), 'A', { nodeArgs: v.nodeArgs });
    await linkTree(c.dir, a.projects, c.manifest.files);
    lanes.push({ ...v, a });
  }
  let st: StPair | null = null;
  const runs: Record<string, Run[]> = { roam: [], syncthing: [], raw: [] };
  const failures: string[] = [];
  try {
    for (const lane of lanes) {
      await lane.a.start();
      await roamIndexed(lane.a, n, total, timeoutMs);
      res.figures.push({ id: `initial.index.${lane.key}`, label: `A: roamd start + index of the corpus (context), ${lane.label}`, unit: 'ms', summary: summarize([Date.now() - lane.a.spawnedAt]) });
    }
    if (ctx.syncthing) {
      const stRoot = scratch(ctx, 'iS');
      const folderA = path.join(stRoot, 'A', 'folder');
      const folderB = path.join(stRoot, 'B', 'folder');
      await mkdir(folderA, { recursive: true });
      await mkdir(folderB, { recursive: true });
      st = await StPair.create(path.join(stRoot, 'A'), folderA, path.join(stRoot, 'B'), folderB, { delayS: 2 });
      await linkTree(c.dir, folderA, c.manifest.files);
      await st.a.start();
      await st.waitScanned(st.a, n, total, timeoutMs);
      res.figures.push({ id: 'initial.index.syncthing', label: 'A: Syncthing start + scan of the corpus (context)', unit: 'ms', summary: summarize([Date.now() - st.a.spawnedAt]) });
    }
    for (let r = 0; r < s.initialReps; r++) {
      // A failed round (a crash, say) is recorded and the other systems still run.
      for (const lane of lanes) {
        try {
          if (!lane.a.running) {
            await lane.a.start();
            await roamIndexed(lane.a, n, total, timeoutMs);
          }
          runs[lane.key]!.push(await roamRound(ctx, c, lane.a, lane.nodeArgs, timeoutMs));
          log(`W2 round ${r + 1}: ${lane.label} ${fmt(runs[lane.key]!.at(-1)!)}`);
        } catch (err) {
          const msg = err instanceof Error ? err.message : String(err);
          failures.push(`round ${r + 1}: ${lane.label} failed: ${msg}`);
          log(`W2 round ${r + 1}: ${lane.label} FAILED: ${msg}`);
          await lane.a.stop();
        }
      }
      if (st) {
        try {
          runs.syncthing!.push(await stRound(c, st, timeoutMs));
          log(`W2 round ${r + 1}: Syncthing ${fmt(runs.syncthing!.at(-1)!)}`);
        } catch (err) {
          const msg = err instanceof Error ? err.message : String(err);
          failures.push(`round ${r + 1}: Syncthing failed: ${msg}`);
          log(`W2 round ${r + 1}: Syncthing FAILED: ${msg}`);
          await st.b.stop();
        }
      }
      if (ctx.raw) {
        try {
          runs.raw!.push(await rawRound(ctx, c, timeoutMs));
          log(`W2 round ${r + 1}: raw stream ${fmt(runs.raw!.at(-1)!)}`);
        } catch (err) {
          const msg = err instanceof Error ? err.message : String(err);
          failures.push(`round ${r + 1}: raw stream failed: ${msg}`);
          log(`W2 round ${r + 1}: raw stream FAILED: ${msg}`);
        }
      }
    }
  } finally {
    for (const lane of lanes) await lane.a.stop();
    await st?.stop();
  }
  if (failures.length) {
    // Partial: some system failed some round (reported in the notes and the summary); the others' figures stand.
    res.status = 'partial';
    res.notes.push(...failures);
    const roamFailed = failures.filter((f) => f.includes(': roam failed')).length;
    if (roamFailed) res.error = `roam failed ${roamFailed} of ${s.initialReps} round(s): ${failures.find((f) => f.includes(': roam failed'))!.replace(/^round \d+: roam failed: /, '')}`;
  }
  const labels: Record<string, string> = { roam: 'roam', syncthing: 'Syncthing (delay 2)', raw: 'raw libp2p stream (tcp+noise+yamux+pnet)' };
  for (const [k, rs] of Object.entries(runs)) {
    if (!rs.length) continue;
    res.figures.push({ id: `initial.time.${k}`, label: `initial sync, B spawn → identical, ${labels[k]}`, unit: 'ms', summary: summarize(rs.map((x) => x.ms)), samples: rs.map((x) => x.ms) });
    res.figures.push({ id: `initial.rate.${k}`, label: `initial sync throughput, ${labels[k]}`, unit: 'MB/s', summary: summarize(rs.map((x) => x.mbps)), samples: rs.map((x) => x.mbps) });
    res.figures.push({ id: `initial.wire.${k}`, label: `protocol bytes to B / corpus bytes (roam: sync frames; Syncthing: BEP totals; raw: payload + headers), ${labels[k]}`, unit: '×', summary: summarize(rs.map((x) => x.wireBytes / total)) });
    res.figures.push({ id: `initial.cpuA.${k}`, label: `CPU time, sending side, ${labels[k]}`, unit: 'ms', summary: summarize(rs.map((x) => x.cpuA)) });
    res.figures.push({ id: `initial.cpuB.${k}`, label: `CPU time, receiving side (incl. start-up), ${labels[k]}`, unit: 'ms', summary: summarize(rs.map((x) => x.cpuB)) });
    res.figures.push({ id: `initial.rssB.${k}`, label: `peak RSS while syncing, receiving side, ${labels[k]}`, unit: 'MB', summary: summarize(rs.map((x) => x.peakRssB / 1e6)) });
    res.figures.push({ id: `initial.rssA.${k}`, label: `peak RSS while syncing, sending side, ${labels[k]}`, unit: 'MB', summary: summarize(rs.map((x) => x.peakRssA / 1e6)) });
  }
  const paired = (a: Run[], b: Run[]) => median(a.map((x, i) => (b[i] ? x.mbps / b[i]!.mbps : NaN)).filter(Number.isFinite));
  for (const k of ['roam']) {
    const rm_ = runs[k]!;
    if (!rm_.length) continue;
    const who = labels[k]!;
    if (runs.syncthing!.length) {
      const ratio = median(rm_.map((x) => x.mbps)) / median(runs.syncthing!.map((x) => x.mbps));
      res.comparisons.push({ label: `initial sync throughput, ${who} / Syncthing`, figure: `initial.rate.${k}`, reference: 'initial.rate.syncthing', ratio, pairedRatio: paired(rm_, runs.syncthing!), sense: 'above 1: roam is faster', target: { text: '≥ 1 (at least as fast as Syncthing)', met: ratio >= 1 } });
    }
    if (runs.raw!.length) {
      const rawRatio = median(rm_.map((x) => x.mbps)) / median(runs.raw!.map((x) => x.mbps));
      res.comparisons.push({ label: `initial sync throughput, ${who} / raw stream`, figure: `initial.rate.${k}`, reference: 'initial.rate.raw', ratio: rawRatio, pairedRatio: paired(rm_, runs.raw!), sense: 'above 1: roam is faster', target: { text: '≥ 0.8 of the raw stream', met: rawRatio >= 0.8 } });
    }
  }
}

function fmt(r: Run): string {
  return `${(r.ms / 1000).toFixed(2)} s, ${r.mbps.toFixed(1)} MB/s`;
}

async function roamRound(ctx: Ctx, c: Corpus, a: RoamNode, nodeArgs: string[], timeoutMs: number): Promise<Run> {
  const n = c.manifest.files.length;
  const total = c.manifest.totalBytes;
  const root = scratch(ctx, 'iB');
  const b = new RoamNode(root, 'B', { nodeArgs });
  const before = (await a.status()).traffic.bytesOut;
  const cpuA0 = cpuMs([a.pid]);
  const memA = sampleMemory(() => [a.pid]);
  let memB: ReturnType<typeof sampleMemory> | null = null;
  try {
    await b.start([a.address]);
    memB = sampleMemory(() => (b.running ? [b.pid] : []));
    // Watch the disk, not the daemon (its status costs it CPU); its own verdict is checked after.
    const arrivals = new Arrivals(b.projects, c.manifest.files);
    await untilOk(() => {
      a.assertAlive();
      b.assertAlive();
      return arrivals.poll();
    }, { what: 'roam B identical', timeoutMs: timeoutMs, everyMs: 200 });
    const landed = lastLanded(b.projects, c.manifest.files);
    const cpuB = cpuMs([b.pid]);
    const cpuA = cpuMs([a.pid]) - cpuA0;
    const peakB = memB.stop().peakRss;
    const peakA = memA.stop().peakRss;
    await untilOk(async () => pairState(await b.statusOrNull(), a.peerId, { items: n, bytes: total }), { what: 'roam B to report itself in sync', timeoutMs: 60_000, everyMs: 200 });
    const wire = (await a.status()).traffic.bytesOut - before;
    const problems = await verifyTree(b.projects, c.manifest.files);
    if (problems.length) throw new Error(`roam B differs: ${problems.slice(0, 5).join('; ')}`);
    const ms = landed - b.spawnedAt;
    return { ms, mbps: total / 1e6 / (ms / 1000), wireBytes: wire, cpuA, cpuB, peakRssA: peakA, peakRssB: peakB };
  } finally {
    memA.stop();
    memB?.stop();
    await b.stop();
    await rm(root, { recursive: true, force: true });
  }
}

async function stRound(c: Corpus, st: StPair, timeoutMs: number): Promise<Run> {
  const n = c.manifest.files.length;
  const total = c.manifest.totalBytes;
  const b = st.b;
  // A fresh B: no database, empty folder (the marker stays).
  await b.wipeDatabase();
  await rm(b.folder, { recursive: true, force: true });
  await mkdir(path.join(b.folder, '.stfolder'), { recursive: true });
  const cpuA0 = cpuMs(st.a.pids());
  const memA = sampleMemory(() => st.a.pids());
  let memB: ReturnType<typeof sampleMemory> | null = null;
  try {
    await b.start();
    memB = sampleMemory(() => b.pids());
    const arrivals = new Arrivals(b.folder, c.manifest.files);
    await untilOk(() => {
      st.a.assertAlive();
      b.assertAlive();
      return arrivals.poll();
    }, { what: 'Syncthing B identical', timeoutMs: timeoutMs, everyMs: 200 });
    const landed = lastLanded(b.folder, c.manifest.files);
    const cpuB = cpuMs(b.pids());
    const cpuA = cpuMs(st.a.pids()) - cpuA0;
    const peakB = memB.stop().peakRss;
    const peakA = memA.stop().peakRss;
    await untilOk(async () => {
      const s = await b.dbStatus();
      return s.state === 'idle' && s.needBytes === 0 && stHolds(s, n, total) ? undefined : `${s.state}, ${s.localFiles} files / ${s.localBytes} B`;
    }, { what: 'Syncthing B to report itself in sync', timeoutMs: 60_000, everyMs: 200 });
    const wire = (await b.totals()).inBytesTotal;
    const problems = await verifyTree(b.folder, c.manifest.files);
    if (problems.length) throw new Error(`Syncthing B differs: ${problems.slice(0, 5).join('; ')}`);
    const ms = landed - b.spawnedAt;
    return { ms, mbps: total / 1e6 / (ms / 1000), wireBytes: wire, cpuA, cpuB, peakRssA: peakA, peakRssB: peakB };
  } finally {
    memA.stop();
    memB?.stop();
    await b.stop();
  }
}

async function rawRound(ctx: Ctx, c: Corpus, timeoutMs: number): Promise<Run> {
  const total = c.manifest.totalBytes;
  const root = scratch(ctx, 'iR');
  const dst = path.join(root, 'dst');
  await mkdir(dst, { recursive: true });
  const list = `${c.dir}.manifest.json`;
  const sender = track(spawn(process.execPath, [RAW_PEER, 'send', '--dir', c.dir, '--list', list], { stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  sender.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  sender.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  let receiver: ReturnType<typeof spawn> | null = null;
  const memA = sampleMemory(() => (sender.pid && sender.exitCode === null ? [sender.pid] : []));
  let memB: ReturnType<typeof sampleMemory> | null = null;
  try {
    await untilOk(() => (/listening (\S+)/.test(out) || sender.exitCode !== null ? undefined : 'not yet'), { what: 'raw sender to listen', timeoutMs: 60_000, everyMs: 10 });
    const addr = /listening (\S+)/.exec(out)?.[1];
    if (!addr) throw new Error(`raw sender failed: ${out}`);
    const cpuA0 = cpuMs([sender.pid!]);
    const spawnedAt = Date.now();
    const rcv = track(spawn(process.execPath, [RAW_PEER, 'recv', '--dir', dst, '--peer', addr], { stdio: ['ignore', 'pipe', 'pipe'] }));
    receiver = rcv;
    let rout = '';
    rcv.stdout!.setEncoding('utf8').on('data', (d: string) => (rout += d));
    rcv.stderr!.setEncoding('utf8').on('data', (d: string) => (rout += d));
    memB = sampleMemory(() => (rcv.pid && rcv.exitCode === null ? [rcv.pid] : []));
    await untilOk(() => {
      if (/done \d+ cpu \d+/.test(rout)) return undefined;
      if (rcv.exitCode !== null) throw new Error(`raw receiver exited ${rcv.exitCode}: ${rout.trim()}; sender: ${out.trim().split('\n').find((l) => /Error/.test(l)) ?? out.trim().split('\n').at(-1)}`);
      return 'not done';
    }, { what: 'raw receiver done', timeoutMs: timeoutMs, everyMs: 50 });
    const cpuA = cpuMs([sender.pid!]) - cpuA0;
    const cpuB = Number(/done \d+ cpu (\d+)/.exec(rout)![1]);
    const landed = lastLanded(dst, c.manifest.files);
    const problems = await verifyTree(dst, c.manifest.files);
    if (problems.length) throw new Error(`raw receiver's copy differs: ${problems.slice(0, 5).join('; ')}`);
    const ms = landed - spawnedAt;
    // The payload plus the per-file headers (noise/yamux/pnet overhead not counted, as for the others).
    const wire = total + c.manifest.files.reduce((a, f) => a + 4 + JSON.stringify({ path: f.path, size: f.size }).length, 0);
    return { ms, mbps: total / 1e6 / (ms / 1000), wireBytes: wire, cpuA, cpuB, peakRssA: memA.stop().peakRss, peakRssB: memB.stop().peakRss };
  } finally {
    memA.stop();
    memB?.stop();
    for (const p of [receiver, sender]) if (p && p.exitCode === null) p.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    await rm(root, { recursive: true, force: true });
  }
}
