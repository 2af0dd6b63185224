/**
 * Keeps the benchmark harness working: `npm run bench -- --quick` at tiny sizes must run every
 * workload and write a well-formed results.json and RESULTS.md, and leave no process or directory
 * behind. Speeds are never asserted (this is not a pass/fail benchmark).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('..', import.meta.url));
const STATUSES = ['ok', 'partial', 'error', 'skipped'];

interface Summary { n: number; median: number | null; p99: number | null; min: number | null; max: number | null }
interface Figure { id: string; label: string; unit: string; summary: Summary; target?: { text: string; met: boolean | null } }
interface Workload { id: string; title: string; status: string; figures: Figure[]; comparisons: Array<{ figure: string; reference: string; ratio: number | null }>; load: { before: { loadavg: number[] }; after: { loadavg: number[] } } }
interface Results {
  schema: number;
  meta: { mode: string; machine: { cpu: string; cores: number; ramGiB: number }; versions: Record<string, string>; load: { start: { loadavg: number[] }; end: { loadavg: number[] } }; sizes: { appends: number } };
  workloads: Workload[];
}

/** Processes whose command line or environment mentions `dir` (the run's scratch dir). */
function processesUsing(dir: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    if (Number(pid) === process.pid) continue;
    for (const f of ['cmdline', 'environ']) {
      try {
        if (readFileSync(`/proc/${pid}/${f}`, 'latin1').includes(dir)) out.push(`${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ')}`);
      } catch {
        // gone, or not ours to read
      }
    }
  }
  return out;
}

describe('npm run bench -- --quick', () => {
  it('runs every workload at small sizes, writes well-formed results, leaves nothing behind', () => {
    const tsc = path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
    const build = spawnSync(process.execPath, [tsc, '-p', path.join(repo, 'bench')], { encoding: 'utf8' });
    expect(build.status, `${build.stdout}${build.stderr}`).toBe(0);

    const out = mkdtempSync(path.join(tmpdir(), 'rbq-'));
    const work = path.join(out, 'w');
    mkdirSync(work);
    try {
      const t0 = Date.now();
      // spawnSync's timeout sends SIGTERM, on which the harness kills what it started and cleans up.
      const r = spawnSync(process.execPath, [path.join(repo, 'bench', 'dist', 'run.js'), '--quick', '--out', out, '--work-dir', work], { encoding: 'utf8', timeout: 420_000 });
      const log = `${r.stderr ?? ''}`.slice(-6000);
      expect(r.status, log).toBe(0);
      console.log(`bench --quick took ${((Date.now() - t0) / 1000).toFixed(1)} s`);

      const res = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as Results;
      expect(res.schema).toBe(1);
      expect(res.meta.mode).toBe('quick');
      expect(res.meta.machine.cores).toBeGreaterThan(0);
      expect(res.meta.machine.cpu).toBeTruthy();
      for (const k of ['node', 'roam', 'libp2p', '@chainsafe/libp2p-noise', '@chainsafe/libp2p-yamux', '@libp2p/pnet', 'syncthing']) expect(res.meta.versions[k], k).toBeTruthy();
      expect(res.meta.load.start.loadavg).toHaveLength(3);
      expect(res.workloads.map((w) => w.id)).toEqual(['w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7']);
      const syncthing = res.meta.versions.syncthing !== 'not installed';
      for (const w of res.workloads) {
        expect(STATUSES, `${w.id} status`).toContain(w.status);
        expect(w.status, `${w.id} failed`).not.toBe('error');
        expect(w.load.before.loadavg).toHaveLength(3);
        for (const f of w.figures) {
          const s = f.summary;
          expect(f.id && f.label && f.unit, JSON.stringify(f)).toBeTruthy();
          expect(s.n, f.id).toBeGreaterThan(0);
          for (const v of [s.median, s.p99, s.min, s.max]) expect(Number.isFinite(v), `${f.id}: ${JSON.stringify(s)}`).toBe(true);
          expect(s.min!).toBeLessThanOrEqual(s.median!);
          expect(s.median!).toBeLessThanOrEqual(s.max!);
          expect(s.p99!).toBeLessThanOrEqual(s.max!);
          if (f.target) expect([true, false, null]).toContain(f.target.met);
        }
        const ids = new Set(res.workloads.flatMap((x) => x.figures.map((f) => f.id)));
        for (const c of w.comparisons) {
          expect(ids.has(c.figure) && ids.has(c.reference), JSON.stringify(c)).toBe(true);
          expect(Number.isFinite(c.ratio), JSON.stringify(c)).toBe(true);
        }
      }
      const byId = new Map(res.workloads.map((w) => [w.id, w]));
      const fig = (w: string, id: string) => byId.get(w)!.figures.find((f) => f.id === id);
      expect(fig('w1', 'append.roam')?.summary.n).toBe(res.meta.sizes.appends);
      expect(fig('w2', 'initial.rate.roam')).toBeDefined();
      expect(fig('w2', 'initial.rate.raw')).toBeDefined();
      expect(fig('w3', 'biglog.wire.roam')).toBeDefined();
      expect(fig('w4', 'restart.time')).toBeDefined();
      expect(byId.get('w5')!.figures.filter((f) => f.id.startsWith('rss.sync.B.'))).toHaveLength(2);
      expect(byId.get('w6')!.status).toBe('ok');
      // W7 needs network namespaces (root): skipped without them, three paths with them.
      if (byId.get('w7')!.status !== 'skipped') for (const id of ['reach.lan', 'reach.relay', 'reach.direct']) expect(fig('w7', id)?.summary.n, id).toBe(res.meta.sizes.appends);
      if (syncthing) {
        expect(fig('w1', 'append.syncthing2')).toBeDefined();
        expect(byId.get('w2')!.comparisons.length).toBe(2);
        expect(fig('w3', 'biglog.wire.syncthing')).toBeDefined();
      }

      const md = readFileSync(path.join(out, 'RESULTS.md'), 'utf8');
      expect(md).toMatch(/^# roam benchmark results/);
      expect(md).toContain('| figure | unit | n | median | p99 | min | max | target |');
      for (const w of res.workloads) expect(md).toContain(`## ${w.title}`);

      expect(processesUsing(work)).toEqual([]);
      expect(readdirSync(work)).toEqual([]);
    } finally {
      if (existsSync(out)) rmSync(out, { recursive: true, force: true });
    }
  }, 480_000);
});
