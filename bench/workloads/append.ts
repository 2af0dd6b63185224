/**
 * W1, append latency: one line appended to a live session log on A → B's copy byte-identical.
 * roam, Syncthing with fsWatcherDelayS 2 (session-roam's setting) and 1, each a synced pair holding
 * the same small corpus; rounds alternate roam, Syncthing(2), Syncthing(1), the same seeded line each.
 * Latency = from the append's write() returning on A to B's file having the expected size and the
 * expected bytes (polled every millisecond; the whole file is compared, not just its size).
 */
import { appendFileSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { appendLines } from '../lib/corpus.js';
import { corpus, type Ctx, type Figure, type WorkloadResult } from '../lib/context.js';
import { startRoamPair, startStPair, type RoamPair, type SyncthingPair } from '../lib/pairs.js';
import { cpuMs } from '../lib/proc.js';
import { log, median, sleep, summarize } from '../lib/util.js';

interface Lane {
  id: string;
  label: string;
  count: number;
  aFile: string;
  bFile: string;
  expected: Buffer;
  latencies: number[];
  timeouts: number;
  timeoutMs: number;
  pids: () => number[];
  /** CPU ms of A+B over each append's own window (append → identical on B). */
  cpu: number[];
  broken?: string;
}

export async function appendLatency(ctx: Ctx, res: WorkloadResult): Promise<void> {
  const s = ctx.sizes;
  const c = await corpus(ctx, 'append', { kind: 'corpus', files: s.appendCorpusFiles, bytes: s.appendCorpusBytes });
  // The live session: the main transcript closest to 200 KB.
  const mains = c.manifest.files.filter((f) => /^[^/]+\/[^/]+\.jsonl$/.test(f.path));
  const target = [...mains].sort((x, y) => Math.abs(x.size - 200_000) - Math.abs(y.size - 200_000))[0]!;
  const sessionId = path.basename(target.path, '.jsonl');
  res.sizes = { corpus: `${c.manifest.files.length} files, ${(c.manifest.totalBytes / 1e6).toFixed(1)} MB`, log: `${target.path} (${target.size} B at start)`, roamAppends: s.appends, syncthingAppends: ctx.syncthing ? s.stAppends : 0, gapMs: s.appendGapMs };
  const lines = appendLines(ctx.seed, Math.max(s.appends, s.stAppends), sessionId).map((l) => Buffer.from(l));
  const lineSizes = lines.map((l) => l.length);
  res.notes.push(`appended lines: ${lines.length} from the generator's distribution, median ${median(lineSizes)} B, max ${Math.max(...lineSizes)} B; the same sequence on every tool`);

  const roam: RoamPair = await startRoamPair(ctx, c, { copy: true });
  const st: SyncthingPair[] = [];
  try {
    if (ctx.syncthing) {
      for (const d of s.stDelays) st.push(await startStPair(ctx, c, d, { copy: true }));
    }
    const lanes: Lane[] = [
      {
        id: 'roam', label: 'roam', count: s.appends, aFile: path.join(roam.a.projects, target.path), bFile: path.join(roam.b.projects, target.path),
        expected: readFileSync(path.join(c.dir, target.path)), latencies: [], timeouts: 0, timeoutMs: 30_000,
        pids: () => [roam.a.pid, roam.b.pid], cpu: [],
      },
      ...st.map((p): Lane => ({
        id: `syncthing${p.pair.delayS}`, label: `Syncthing fsWatcherDelayS=${p.pair.delayS}`, count: s.stAppends,
        aFile: path.join(p.folderA, target.path), bFile: path.join(p.folderB, target.path),
        expected: readFileSync(path.join(c.dir, target.path)), latencies: [], timeouts: 0, timeoutMs: 60_000 + p.pair.delayS * 6_000,
        pids: () => [...p.pair.a.pids(), ...p.pair.b.pids()], cpu: [],
      })),
    ];
    const rounds = Math.max(...lanes.map((l) => l.count));
    const t0 = Date.now();
    for (let i = 0; i < rounds; i++) {
      for (const lane of lanes) {
        if (i >= lane.count || lane.broken) continue;
        const line = lines[i]!;
        lane.expected = Buffer.concat([lane.expected, line]);
        const ms = await appendAndWait(lane, line);
        if (ms === null) {
          lane.timeouts++;
          // Let it catch up before going on; if it cannot, stop measuring this tool.
          if ((await waitIdentical(lane, lane.timeoutMs)) === null) lane.broken = `B never caught up after append ${i + 1}`;
        } else lane.latencies.push(ms);
        await sleep(s.appendGapMs);
      }
      if ((i + 1) % 25 === 0 || i + 1 === rounds) log(`W1 round ${i + 1}/${rounds} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    }
    for (const lane of lanes) {
      const fig: Figure = {
        id: `append.${lane.id}`, label: `append → identical on B, ${lane.label}`, unit: 'ms',
        summary: summarize(lane.latencies), samples: lane.latencies.map((x) => Math.round(x * 100) / 100),
        ...(lane.timeouts || lane.broken ? { note: `${lane.timeouts} timed out${lane.broken ? `; ${lane.broken}` : ''}` } : {}),
      };
      if (lane.id === 'roam') {
        fig.target = { text: 'p50 ≤ 50 ms and p99 ≤ 250 ms', met: fig.summary.n > 0 && fig.summary.median <= 50 && fig.summary.p99 <= 250 && lane.timeouts === 0 };
      }
      res.figures.push(fig);
      const total = lane.cpu.reduce((a, b) => a + b, 0);
      res.figures.push({
        id: `append.cpu.${lane.id}`, label: `CPU of A+B per append, mean over its own windows (append → identical), ${lane.label}`, unit: 'ms',
        summary: summarize(lane.cpu.length ? [total / lane.cpu.length] : []),
        note: `${Math.round(total)} ms over ${lane.cpu.length} appends (10 ms clock ticks: single windows are too coarse, the mean is not)`,
      });
    }
    const r = res.figures.find((f) => f.id === 'append.roam')!;
    for (const lane of lanes.slice(1)) {
      const ref = res.figures.find((f) => f.id === `append.${lane.id}`)!;
      res.comparisons.push({
        label: `append latency p50, roam vs ${lane.label}`, figure: r.id, reference: ref.id,
        ratio: r.summary.median / ref.summary.median, sense: 'below 1: roam is faster',
      });
    }
    if (lanes.some((l) => l.broken)) res.status = 'partial';
  } finally {
    await roam.stop();
    for (const p of st) await p.stop();
  }
}

/** Appends `line` on A and polls B until identical; ms, or null on timeout. */
async function appendAndWait(lane: Lane, line: Buffer): Promise<number | null> {
  const cpu0 = cpuMs(lane.pids());
  appendFileSync(lane.aFile, line);
  const t0 = performance.now();
  const got = await waitIdentical(lane, lane.timeoutMs);
  if (got !== null) lane.cpu.push(cpuMs(lane.pids()) - cpu0);
  return got === null ? null : got - t0;
}

/** performance.now() when B's file equals `lane.expected`, or null after `timeoutMs`. */
async function waitIdentical(lane: Lane, timeoutMs: number): Promise<number | null> {
  const deadline = performance.now() + timeoutMs;
  const size = lane.expected.length;
  for (;;) {
    let st: number | null = null;
    try {
      st = statSync(lane.bFile).size;
    } catch {
      st = null; // Syncthing deletes the old file before renaming the new one in
    }
    if (st === size) {
      const now = performance.now();
      try {
        if (readFileSync(lane.bFile).equals(lane.expected)) return now;
      } catch {
        // replaced under us: poll again
      }
    }
    if (performance.now() > deadline) return null;
    await sleep(1);
  }
}
