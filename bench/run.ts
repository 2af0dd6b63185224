/**
 * `npm run bench [-- flags]`: runs every benchmark and writes RESULTS.md and results.json.
 * See bench/README.md for what each figure means. Flags:
 *   --quick                 tiny sizes (≤ 60 s on an idle machine), output to bench/out/quick/ by default
 *   --only a,b              workloads: append, initial, biglog, restart (restart + memory), list,
 *                           reach (the NAT lab: root only) (aliases w1, w2, w3, w4, w5, w6, w7)
 *   --out <dir>             where RESULTS.md and results.json go (full mode default: bench/)
 *   --corpus-dir <dir>      keep generated corpora there and reuse them (default: generated in the
 *                           scratch dir and deleted at the end)
 *   --work-dir <dir>        scratch root (default: the OS temp dir; keep it short: unix sockets live there)
 *   --seed <s>              corpus seed (default "roam")
 *   --no-syncthing          skip the Syncthing reference
 *   --no-raw                skip the raw-stream reference (W2)
 *   --profile               run every roamd with --cpu-prof; profiles go to <out>/profiles/
 *   --roamd-node-args "…"   more node flags for every roamd (diagnostics, e.g. a --require probe)
 *   --analysis <file>       markdown appended to RESULTS.md (full mode default: bench/ANALYSIS.md)
 *   --render <results.json> only re-render the RESULTS.md beside it (e.g. after editing ANALYSIS.md)
 *   sizes: --appends N --st-appends N --st-delays 2,1 --initial-files N --initial-bytes 1g --initial-reps N
 *          --log-bytes 100m --log-reps N --restart-files N --restart-bytes 2g --restart-reps N
 *          --sync-box <seconds> --small-files N --small-bytes 200m --sessions N --sessions-bytes 1g
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseSize } from './lib/args.js';
import { FULL, QUICK, type Ctx, type Sizes, type WorkloadResult } from './lib/context.js';
import { loadNow } from './lib/proc.js';
import { collectVersions, gitInfo, machine, writeResults, type Results } from './lib/report.js';
import { syncthingVersion } from './lib/syncthing.js';
import { installCleanup, killEverything, log, REPO, removeDir, ROAMD, RAW_PEER, trackDir } from './lib/util.js';
import { appendLatency } from './workloads/append.js';
import { bigLogAppend } from './workloads/biglog.js';
import { initialSync } from './workloads/initial.js';
import { reachLatency } from './workloads/reach.js';
import { restartAndMemory } from './workloads/restart.js';
import { listSearch } from './workloads/sessions.js';

const argv = process.argv.slice(2);
const has = (f: string) => argv.includes(f);
const value = (f: string): string | undefined => {
  const i = argv.indexOf(f);
  if (i < 0) return undefined;
  const v = argv[i + 1];
  if (v === undefined || (v.startsWith('--') && f !== '--roamd-node-args')) throw new Error(`${f} needs a value`);
  return v;
};

const KNOWN = new Set(['--render', '--roamd-node-args', '--quick', '--st-delays', '--no-raw', '--sync-box', '--only', '--out', '--corpus-dir', '--work-dir', '--seed', '--no-syncthing', '--profile', '--analysis',
  '--appends', '--st-appends', '--initial-files', '--initial-bytes', '--initial-reps', '--log-bytes', '--log-reps', '--restart-files',
  '--restart-bytes', '--restart-reps', '--small-files', '--small-bytes', '--sessions', '--sessions-bytes']);

async function main(): Promise<number> {
  const render = value('--render');
  if (render !== undefined) {
    // Re-renders RESULTS.md from a results.json (after editing the analysis), measuring nothing.
    const res = JSON.parse(readFileSync(render, 'utf8')) as Results;
    const out = writeResults(path.dirname(path.resolve(render)), res, value('--analysis') ?? path.join(REPO, 'bench', 'ANALYSIS.md'));
    log(`wrote ${out.md} and ${out.json}`);
    return 0;
  }
  const BOOLEAN = new Set(['--quick', '--no-raw', '--no-syncthing', '--profile']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) continue;
    if (!KNOWN.has(a)) throw new Error(`unknown flag ${a} (see bench/run.ts)`);
    if (!BOOLEAN.has(a)) i++; // its value (which may itself start with --, as --roamd-node-args "--require …")
  }
  const quick = has('--quick');
  const sizes: Sizes = { ...(quick ? QUICK : FULL) };
  type NumKey = { [K in keyof Sizes]: Sizes[K] extends number ? K : never }[keyof Sizes];
  const int = (f: string, k: NumKey) => {
    const v = value(f);
    if (v !== undefined) sizes[k] = Number(v);
  };
  const size = (f: string, k: NumKey) => {
    const v = value(f);
    if (v !== undefined) sizes[k] = parseSize(v);
  };
  int('--appends', 'appends');
  int('--st-appends', 'stAppends');
  const delays = value('--st-delays');
  if (delays !== undefined) sizes.stDelays = delays.split(',').map(Number);
  int('--initial-files', 'initialFiles');
  size('--initial-bytes', 'initialBytes');
  int('--initial-reps', 'initialReps');
  size('--log-bytes', 'bigLogBytes');
  int('--log-reps', 'bigLogReps');
  int('--restart-files', 'restartFiles');
  size('--restart-bytes', 'restartBytes');
  int('--restart-reps', 'restartReps');
  const box = value('--sync-box');
  if (box !== undefined) sizes.syncBoxMs = Number(box) * 1000;
  int('--small-files', 'smallFiles');
  size('--small-bytes', 'smallBytes');
  int('--sessions', 'sessions');
  size('--sessions-bytes', 'sessionsBytes');

  const aliases: Record<string, string> = { w1: 'append', w2: 'initial', w3: 'biglog', w4: 'restart', w5: 'restart', w6: 'list', w7: 'reach', memory: 'restart' };
  const only = value('--only')?.split(',').map((x) => aliases[x.trim()] ?? x.trim());
  const outDir = path.resolve(value('--out') ?? (quick ? path.join(REPO, 'bench', 'out', 'quick') : path.join(REPO, 'bench')));
  mkdirSync(outDir, { recursive: true });
  if (!existsSync(ROAMD)) throw new Error(`${ROAMD} is missing: build first (npx tsc -b)`);
  if (!existsSync(RAW_PEER)) throw new Error(`${RAW_PEER} is missing: build the bench first (npx tsc -b bench)`);

  installCleanup();
  const work = trackDir(mkdtempSync(path.join(value('--work-dir') ?? os.tmpdir(), 'rb-')));
  const corpusDir = value('--corpus-dir');
  const corpusRoot = corpusDir ? path.resolve(corpusDir) : path.join(work, 'corpus');
  mkdirSync(corpusRoot, { recursive: true });
  const stVersion = syncthingVersion();
  const useSt = !has('--no-syncthing') && stVersion !== null;
  if (!useSt) log(stVersion === null ? 'syncthing is not installed: the Syncthing reference is skipped' : 'Syncthing reference skipped (--no-syncthing)');
  const profileDir = has('--profile') ? path.join(outDir, 'profiles') : null;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const ctx: Ctx = {
    quick, sizes, seed: value('--seed') ?? 'roam', work, corpusRoot, syncthing: useSt, raw: !has('--no-raw'),
    roamdNodeArgs: [...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []), ...(value('--roamd-node-args')?.split(' ').filter(Boolean) ?? [])], profileDir,
  };

  const versions = collectVersions();
  const started = new Date();
  const load0 = loadNow();
  const results: WorkloadResult[] = [];
  const blank = (id: string, title: string): WorkloadResult => ({ id, title, status: 'ok', sizes: {}, figures: [], comparisons: [], notes: [], load: { before: { loadavg: [0, 0, 0] }, after: { loadavg: [0, 0, 0] } }, seconds: 0 });
  const runOne = async (key: string, targets: WorkloadResult[], fn: () => Promise<void>) => {
    if (only && !only.includes(key)) return;
    const before = loadNow();
    const t0 = Date.now();
    log(`${targets.map((t) => t.title).join(' + ')}: start (load ${before.loadavg.join(' ')})`);
    try {
      await fn();
    } catch (err) {
      for (const t of targets) {
        t.status = 'error';
        t.error = err instanceof Error ? err.message : String(err);
      }
      log(`${key} failed: ${err instanceof Error ? err.stack : String(err)}`);
      killEverything();
    }
    const after = loadNow(before.totals);
    for (const t of targets) {
      t.load = { before: { loadavg: before.loadavg }, after: { loadavg: after.loadavg, ...(after.busy !== undefined ? { busy: after.busy } : {}) } };
      t.seconds = (Date.now() - t0) / 1000;
      results.push(t);
    }
    log(`${key}: done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    // Results so far, so that a long run that dies later keeps what it measured.
    writeResults(outDir, results_(false), null);
  };

  const w1 = blank('w1', 'W1 append latency');
  await runOne('append', [w1], () => appendLatency(ctx, w1));
  const w2 = blank('w2', 'W2 initial sync');
  await runOne('initial', [w2], () => initialSync(ctx, w2));
  const w3 = blank('w3', 'W3 one line appended to a 100 MB log');
  if (quick || sizes.bigLogBytes !== FULL.bigLogBytes) w3.title = `W3 one line appended to a ${(sizes.bigLogBytes / 1e6).toFixed(0)} MB log`;
  await runOne('biglog', [w3], () => bigLogAppend(ctx, w3));
  const w4 = blank('w4', 'W4 restart of a synced daemon');
  const w5 = blank('w5', 'W5 daemon RSS');
  await runOne('restart', [w4, w5], () => restartAndMemory(ctx, w4, w5));
  const w6 = blank('w6', 'W6 roam list / roam search');
  await runOne('list', [w6], () => listSearch(ctx, w6));
  const w7 = blank('w7', 'W7 append latency across NATs: LAN, relayed, direct');
  await runOne('reach', [w7], () => reachLatency(ctx, w7));

  const res = results_(true);
  const analysis = value('--analysis') ?? (quick ? null : path.join(REPO, 'bench', 'ANALYSIS.md'));
  const out = writeResults(outDir, res, analysis);
  log(`wrote ${out.md} and ${out.json} (${Math.round(res.meta.seconds)} s)`);
  if (!corpusDir) await removeDir(corpusRoot);
  await removeDir(work);
  return results.some((r) => r.status === 'error') ? 1 : 0;

  function results_(final: boolean): Results {
    const load1 = loadNow(load0.totals);
    const sorted = [...results].sort((a, b) => a.id.localeCompare(b.id));
    return {
      schema: 1,
      meta: {
        mode: quick ? 'quick' : 'full', started: started.toISOString(), seconds: (Date.now() - started.getTime()) / 1000, seed: ctx.seed, sizes,
        machine: machine(), versions, git: gitInfo(),
        load: { start: { loadavg: load0.loadavg }, end: { loadavg: load1.loadavg, ...(load1.busy !== undefined ? { busy: load1.busy } : {}) } },
        loaded: Math.max(load0.loadavg[0], load1.loadavg[0], ...results.map((r) => r.load.before.loadavg[0])) > os.cpus().length * 0.75,
        argv: final ? argv : [...argv, '(run in progress)'],
      },
      workloads: sorted,
    };
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(2);
  },
);
