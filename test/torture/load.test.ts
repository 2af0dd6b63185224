/**
 * Torture: load. Real roamd daemons in a full mesh on 127.0.0.1; writers append real-shaped lines
 * concurrently to many sessions, each session on one daemon (its writer's), for a fixed time.
 * Reports throughput, the replication lag (p50, p99, max: from a line's write to its appearance
 * on each other daemon, sampled every 50 ms) and each daemon's RSS (VmRSS, sampled every second).
 * All must converge, every line of every session on every daemon checked against its writer.
 *
 * Quick (npm test): 3 daemons, 3 writers, 30 sessions, 20 s. Full: 5 daemons, 10 writers,
 * 200 sessions, 5 minutes.
 */
import { statSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../packages/core/test/support/poll.js';
import { cleanupAll } from './support/cleanup.js';
import { TortureDaemon, meshConnected } from './support/daemon.js';
import { LagSampler, RssSampler } from './support/lag.js';
import { Ledger, Writer, sizesMatch, startWriting, verifyExact } from './support/lines.js';
import { SEED, sized } from './support/profile.js';
import { percentile, report, saveLogs } from './support/report.js';
import { Rng } from './support/rng.js';

afterEach(cleanupAll);

/** ROAM_TORTURE_LOAD=daemons,writers,sessions,seconds,bytesPerSecPerWriter overrides the profile. */
const custom = process.env.ROAM_TORTURE_LOAD?.split(',').map(Number);
const DAEMONS = custom?.[0] ?? sized(3, 5);
const WRITERS = custom?.[1] ?? sized(3, 10);
const SESSIONS = custom?.[2] ?? sized(30, 200);
const SECONDS = custom?.[3] ?? sized(15, 300);
/** Per writer. */
const BYTES_PER_SEC = custom?.[4] ?? sized(40_000, 15_000);
/** How long the daemons may take to catch up once the writers stop. */
const DRAIN_MS = sized(120_000, 600_000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sizeOf = (p: string): number | null => {
  try {
    return statSync(p).size;
  } catch {
    return null;
  }
};

describe('torture: load', () => {
  it(`${DAEMONS} daemons in a mesh, ${WRITERS} writers appending to ${SESSIONS} sessions for ${SECONDS} s: all converge; throughput, lag and RSS reported`, { timeout: SECONDS * 1000 + DRAIN_MS + 120_000 }, async () => {
    const rng = new Rng(SEED ^ 0x10ad);
    const ds: TortureDaemon[] = [];
    for (let i = 0; i < DAEMONS; i++) {
      const d = await TortureDaemon.create({ name: `node${i}`, peers: ds.map((o) => o.address) });
      await d.start();
      ds.push(d);
    }
    await meshConnected(ds, 60_000);

    const ledger = new Ledger();
    const owned = Array.from({ length: WRITERS }, () => [] as string[]);
    const origin = new Map<string, TortureDaemon>();
    for (let s = 0; s < SESSIONS; s++) {
      const w = s % WRITERS;
      const file = `-home-me-p${s % 17}/s${s.toString().padStart(3, '0')}-${(s * 2654435761 >>> 0).toString(16)}.jsonl`;
      owned[w]!.push(file);
      origin.set(file, ds[w % DAEMONS]!);
    }
    // The lag sampler watches every replica (a session on each daemon but its origin).
    const replicas = [...origin].flatMap(([file, o]) => ds.filter((d) => d !== o).map((d) => join(d.folder, file)));
    const lag = new LagSampler(replicas, 50);
    const rss = new RssSampler(() => ds.map((d) => ({ name: d.name, rssKiB: () => d.rssKiB() })));
    const writing = startWriting(
      owned.map((files, w) => ({
        writer: new Writer(`w${w}`, ledger, rng.fork(w)),
        root: () => ds[w % DAEMONS]!.folder,
        files: () => files,
        bytesPerSec: BYTES_PER_SEC,
      })),
      rng.fork(99),
    );
    let failed = true;
    const drain: Array<[number, number]> = [];
    let drainTimeline: Array<[number, number]> = [];
    let progress: NodeJS.Timeout | undefined;
    try {
      const t0 = Date.now();
      await sleep(SECONDS * 1000);
      await writing.stop();
      const writeMs = Date.now() - t0;
      const stoppedAt = Date.now();
      // How much the replicas hold, every 5 s while draining (a stall shows as a flat line).
      const held = () => ds.reduce((n, d) => n + [...ledger.files.keys()].reduce((m, f) => m + (sizeOf(join(d.folder, f)) ?? 0), 0), 0);
      progress = setInterval(() => drain.push([Math.round((Date.now() - stoppedAt) / 1000), held()]), 5000);
      drainTimeline = drain;
      await until(() => ds.every((d) => sizesMatch(d.folder, ledger)), {
        timeoutMs: DRAIN_MS,
        everyMs: 250,
        what: 'every daemon to hold every line',
        detail: () => ds.map((d) => ({ name: d.name, behind: [...ledger.files.keys()].filter((f) => !sizesMatch(d.folder, ledger, [f])).length })),
      });
      clearInterval(progress);
      const drainMs = Date.now() - stoppedAt;
      const cpu = Object.fromEntries(ds.map((d) => [d.name, +(d.cpuSeconds() ?? 0).toFixed(1)]));
      const { lags, lines: sampled } = await lag.stop();
      rss.stop();
      const verdicts = ds.map((d) => verifyExact(d.folder, ledger));
      const sum = (k: 'lines' | 'torn' | 'corrupt' | 'unknown' | 'duplicated' | 'reordered' | 'lost') => verdicts.reduce((n, v) => n + v[k], 0);
      const mb = ledger.bytes / 1e6;
      report('load', {
        daemons: DAEMONS,
        writers: WRITERS,
        sessions: SESSIONS,
        writeSeconds: Math.round(writeMs / 1000),
        linesWritten: ledger.count,
        megabytesWritten: +mb.toFixed(1),
        writeLinesPerSecond: Math.round(ledger.count / (writeMs / 1000)),
        writeMegabytesPerSecond: +(mb / (writeMs / 1000)).toFixed(2),
        replicatedMegabytesPerSecond: +((mb * (DAEMONS - 1)) / ((writeMs + drainMs) / 1000)).toFixed(2),
        drainAfterWritesStoppedMs: drainMs,
        lagSampledLines: sampled,
        lagMs: { p50: percentile(lags, 50), p90: percentile(lags, 90), p99: percentile(lags, 99), max: percentile(lags, 100) },
        cpuSecondsPerDaemon: cpu,
        cpuSecondsPerMegabyteReceived: +(Object.values(cpu).reduce((n, x) => n + x, 0) / (mb * (DAEMONS - 1))).toFixed(2),
        machine: { cpus: availableParallelism(), loadAverage1m: +loadavg()[0]!.toFixed(1) },
        rssMaxMB: rss.maxMB(),
        rssEndMB: rss.lastMB(),
        linesChecked: sum('lines'),
        torn: sum('torn'),
        corrupt: sum('corrupt'),
        unknown: sum('unknown'),
        duplicated: sum('duplicated'),
        reordered: sum('reordered'),
        lost: sum('lost'),
      });
      for (const v of verdicts) expect(v.problems).toEqual([]);
      expect(sum('lines')).toBe(ledger.count * DAEMONS);
      // Every replica line was seen arriving (the sampler missed none that exist).
      expect(sampled).toBe(ledger.count * (DAEMONS - 1));
      failed = false;
    } finally {
      clearInterval(progress);
      rss.stop();
      if (failed) {
        await writing.stop().catch(() => undefined);
        await lag.stop().catch(() => undefined);
        const status = JSON.stringify(await Promise.all(ds.map((d) => d.status().catch(String))), null, 2);
        const behind = JSON.stringify(ds.map((d) => ({ name: d.name, behind: [...ledger.files.keys()].filter((f) => !sizesMatch(d.folder, ledger, [f])).map((f) => ({ f, origin: origin.get(f)?.name, want: ledger.fileBytes.get(f), have: sizeOf(join(d.folder, f)) })) })), null, 1);
        const timeline = JSON.stringify({ expectedBytes: ledger.bytes * DAEMONS, drain: drainTimeline });
        console.error(`[torture] load failed: daemon logs in ${saveLogs('load', { ...Object.fromEntries(ds.map((d) => [d.name, d.history])), status, behind, timeline })}`);
      }
    }
  });
});
