/**
 * W3, one line appended to a 100 MB log: what it costs. A synced pair of each tool holds one large
 * session log; B dials A through a counting TCP proxy. Each round appends one line on A (roam, then
 * Syncthing), waits until B's log has it (size, then the tail bytes), then until the link has been
 * quiet for a second (acknowledgements and index updates included), and reads:
 * - bytes on the wire: both directions at the proxy (TCP payload: encryption and muxing included);
 * - the tool's own count (roam: sync frames in `roam status --json` traffic; Syncthing: BEP bytes of
 *   /rest/system/connections) — protocol payload;
 * - CPU time of A and of B over the round (utime+stime; Syncthing: monitor + child);
 * - bytes A and B read (rchar: files and sockets, cached or not).
 * An idle baseline (the same window with no append) is measured first and reported beside it.
 */
import { appendFileSync, closeSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { appendLines } from '../lib/corpus.js';
import { corpus, type Ctx, type WorkloadResult } from '../lib/context.js';
import { sha256File } from '../lib/fsutil.js';
import { startRoamPair, startStPair, type RoamPair, type SyncthingPair } from '../lib/pairs.js';
import { cpuMs, ioCounters } from '../lib/proc.js';
import type { CountingProxy } from '../lib/proxy.js';
import { log, sleep, summarize } from '../lib/util.js';
import { untilOk } from '#harness/poll.js';

interface Side {
  id: string;
  label: string;
  aFile: string;
  bFile: string;
  size: number;
  proxy: CountingProxy;
  pidsA: () => number[];
  pidsB: () => number[];
  payload: () => Promise<number>;
  delayS: number;
}

interface Sample {
  wire: number;
  payload: number;
  cpuA: number;
  cpuB: number;
  rcharA: number;
  rcharB: number;
  latency: number;
  windowMs: number;
}


export async function bigLogAppend(ctx: Ctx, res: WorkloadResult): Promise<void> {
  const s = ctx.sizes;
  const c = await corpus(ctx, 'biglog', { kind: 'log', bytes: s.bigLogBytes });
  const f = c.manifest.files[0]!;
  res.sizes = { log: `${(f.size / 1e6).toFixed(1)} MB`, rounds: s.bigLogReps };
  const lines = appendLines(`${ctx.seed}:big`, s.bigLogReps + 1, path.basename(f.path, '.jsonl'), 1_000).map((l) => Buffer.from(l));
  res.notes.push(`appended line: ${lines[0]!.length} B each; a round ends once the link has been silent for ${s.quietMs} ms after B has the line`);

  let roam: RoamPair | null = null;
  let st: SyncthingPair | null = null;
  try {
    roam = await startRoamPair(ctx, c, { copy: true, proxy: true });
    const rp = roam;
    const sides: Side[] = [{
      id: 'roam', label: 'roam', aFile: path.join(rp.a.projects, f.path), bFile: path.join(rp.b.projects, f.path), size: f.size, proxy: rp.proxy!,
      pidsA: () => [rp.a.pid], pidsB: () => [rp.b.pid],
      payload: async () => {
        const t = (await rp.a.status()).traffic;
        return t.bytesIn + t.bytesOut;
      },
      delayS: 0,
    }];
    if (ctx.syncthing) {
      st = await startStPair(ctx, c, 2, { copy: true, proxy: true });
      const sp = st;
      sides.push({
        id: 'syncthing', label: 'Syncthing (delay 2)', aFile: path.join(sp.folderA, f.path), bFile: path.join(sp.folderB, f.path), size: f.size, proxy: sp.proxy!,
        pidsA: () => sp.pair.a.pids(), pidsB: () => sp.pair.b.pids(),
        payload: async () => {
          const t = await sp.pair.a.totals();
          return t.inBytesTotal + t.outBytesTotal;
        },
        delayS: 2,
      });
    }
    const samples: Record<string, Sample[]> = {};
    const idle: Record<string, Sample> = {};
    for (const side of sides) {
      samples[side.id] = [];
      await quiet(side, s.quietMs);
      // The idle baseline (a window with no append); the quick mode skips it.
      if (!ctx.quick) idle[side.id] = await measure(side, null, s.quietMs);
    }
    for (let r = 0; r < s.bigLogReps; r++) {
      for (const side of sides) {
        samples[side.id]!.push(await measure(side, lines[r]!, s.quietMs));
      }
      log(`W3 round ${r + 1}/${s.bigLogReps}: ${sides.map((x) => `${x.id} ${samples[x.id]!.at(-1)!.wire} B on the wire`).join(', ')}`);
    }
    for (const side of sides) {
      const h = await sha256File(side.bFile);
      if (h !== (await sha256File(side.aFile))) throw new Error(`${side.label}: B's log differs from A's after the rounds`);
    }
    const lineBytes = lines[0]!.length;
    for (const side of sides) {
      const xs = samples[side.id]!;
      const base = idle[side.id];
      const wire = summarize(xs.map((x) => x.wire));
      res.figures.push({
        id: `biglog.wire.${side.id}`, label: `bytes on the wire (TCP, both ways), ${side.label}`, unit: 'B', summary: wire, samples: xs.map((x) => x.wire),
        ...(base ? { note: `idle window: ${base.wire} B` } : {}),
        ...(side.id === 'roam' ? { target: { text: `≤ line + 1 KB = ${lineBytes + 1024} B`, met: wire.median <= lineBytes + 1024 } } : {}),
      });
      res.figures.push({ id: `biglog.payload.${side.id}`, label: `protocol payload both ways (tool's own counter), ${side.label}`, unit: 'B', summary: summarize(xs.map((x) => x.payload)), ...(base ? { note: `idle window: ${base.payload} B` } : {}) });
      res.figures.push({ id: `biglog.cpuA.${side.id}`, label: `CPU time on A (sender), ${side.label}`, unit: 'ms', summary: summarize(xs.map((x) => x.cpuA)), ...(base ? { note: `idle window: ${base.cpuA} ms` } : {}) });
      res.figures.push({ id: `biglog.cpuB.${side.id}`, label: `CPU time on B (receiver), ${side.label}`, unit: 'ms', summary: summarize(xs.map((x) => x.cpuB)), ...(base ? { note: `idle window: ${base.cpuB} ms` } : {}) });
      res.figures.push({ id: `biglog.readA.${side.id}`, label: `bytes read on A (rchar), ${side.label}`, unit: 'B', summary: summarize(xs.map((x) => x.rcharA)) });
      res.figures.push({ id: `biglog.readB.${side.id}`, label: `bytes read on B (rchar), ${side.label}`, unit: 'B', summary: summarize(xs.map((x) => x.rcharB)) });
      res.figures.push({ id: `biglog.latency.${side.id}`, label: `latency of that append (through the proxy), ${side.label}`, unit: 'ms', summary: summarize(xs.map((x) => x.latency)) });
      res.figures.push({ id: `biglog.window.${side.id}`, label: `measurement window (append → quiet), ${side.label}`, unit: 'ms', summary: summarize(xs.map((x) => x.windowMs)) });
    }
    if (sides.length > 1) {
      for (const k of ['wire', 'cpuA', 'cpuB'] as const) {
        const r = res.figures.find((x) => x.id === `biglog.${k}.roam`)!;
        const ref = res.figures.find((x) => x.id === `biglog.${k}.syncthing`)!;
        res.comparisons.push({ label: `${k === 'wire' ? 'bytes on the wire' : k === 'cpuA' ? 'CPU on A' : 'CPU on B'}, roam / Syncthing`, figure: r.id, reference: ref.id, ratio: r.summary.median / ref.summary.median, sense: 'below 1: roam spends less' });
      }
    }
  } finally {
    await roam?.stop();
    await st?.stop();
  }
}

/** Waits until the proxy has seen no byte for `quietMs` (at most 20 s). */
async function quiet(side: Side, quietMs: number): Promise<void> {
  let last = side.proxy.total;
  let since = Date.now();
  await untilOk(() => {
    if (side.proxy.total !== last) {
      last = side.proxy.total;
      since = Date.now();
    }
    return Date.now() - since >= quietMs ? undefined : 'traffic';
  }, { what: `${side.label}: a quiet link`, timeoutMs: 20_000, everyMs: 50 });
}

/** One round: append (or, with null, nothing: the idle baseline) and measure until quiet again. */
async function measure(side: Side, line: Buffer | null, quietMs: number): Promise<Sample> {
  const payload0 = await side.payload();
  const wire0 = side.proxy.total;
  const cpuA0 = cpuMs(side.pidsA());
  const cpuB0 = cpuMs(side.pidsB());
  const ioA0 = ioCounters(side.pidsA());
  const ioB0 = ioCounters(side.pidsB());
  const t0 = performance.now();
  let latency = NaN;
  if (line) {
    appendFileSync(side.aFile, line);
    side.size += line.length;
    const tailOk = (): boolean => {
      try {
        if (statSync(side.bFile).size !== side.size) return false;
        const fd = openSync(side.bFile, 'r');
        try {
          const buf = Buffer.alloc(line.length);
          readSync(fd, buf, 0, line.length, side.size - line.length);
          return buf.equals(line);
        } finally {
          closeSync(fd);
        }
      } catch {
        return false;
      }
    };
    await untilOk(() => (tailOk() ? undefined : 'not yet'), { what: `${side.label}: B to get the line`, timeoutMs: 60_000 + side.delayS * 6_000, everyMs: 2 });
    latency = performance.now() - t0;
    await quiet(side, quietMs);
  } else {
    await sleep(quietMs + 500 + side.delayS * 1000);
  }
  const windowMs = performance.now() - t0;
  const wire = side.proxy.total - wire0;
  const cpuA = cpuMs(side.pidsA()) - cpuA0;
  const cpuB = cpuMs(side.pidsB()) - cpuB0;
  const ioA = ioCounters(side.pidsA());
  const ioB = ioCounters(side.pidsB());
  return {
    wire,
    // Read last: asking the tool costs it a little CPU.
    payload: (await side.payload()) - payload0,
    cpuA,
    cpuB,
    rcharA: ioA.rchar - ioA0.rchar,
    rcharB: ioB.rchar - ioB0.rchar,
    latency,
    windowMs,
  };
}
