/**
 * roam's own per-directory watcher (packages/cli/src/daemon/watcher.ts) against chokidar and
 * @parcel/watcher, side by side in one run, on a corpus folder of W4/W5's shape (the generator's
 * Claude Code-shaped tree: ~3 directories per 10 files):
 *   node bench/dist/tools/watcher-cost.js --dir <corpus> [--rounds 3] [--appends 15] [--json]
 * Each watcher runs in a fresh child process per round (the order rotates every round), which
 * reports: ms from the start call until the watcher says it is ready; CPU ms of that start; RSS
 * added by the start (RSS after ready and a full GC, minus RSS before, the module already loaded);
 * and the latency of an append: from `appendFileSync` returning to the watcher's callback naming
 * the file (median of --appends appends to different sessions, 150 ms apart). Medians over rounds.
 * chokidar and @parcel/watcher are not the project's dependencies (chokidar 6 declares Node >= 22.22):
 * install them for this measurement only, `npm i --no-save chokidar@6.0.0 @parcel/watcher@2.5.1`.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const KINDS = ['roam', 'chokidar', 'parcel'] as const;

/** A watcher library installed for this measurement only (a module name in a variable: not a dependency). */
async function optional(name: string): Promise<unknown> {
  try {
    return (await import(name)) as unknown;
  } catch {
    throw new Error(`${name} is not installed: npm i --no-save chokidar@6.0.0 @parcel/watcher@2.5.1`);
  }
}
type Kind = (typeof KINDS)[number];
interface Sample { readyMs: number; startCpuMs: number; rssAddedMb: number; appendMs: number[] }

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rssMb = () => Number(readFileSync('/proc/self/statm', 'utf8').split(' ')[1]) * 4096 / 1e6;
const gc = () => (globalThis as { gc?: () => void }).gc?.();

async function child(kind: Kind, dir: string, files: string[], appends: number): Promise<Sample> {
  const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');
  let onName: (name: string) => void = () => undefined;
  let start: () => Promise<() => Promise<void>>;
  if (kind === 'roam') {
    const { FolderWatcher } = (await import(pathToFileURL(path.join(root, 'packages', 'cli', 'dist', 'daemon', 'watcher.js')).href)) as {
      FolderWatcher: { start(root: string, ignores: (n: string) => boolean, onChange: (names: string[] | null) => void, hooks: { onError: (err: unknown) => void }): Promise<{ close(): Promise<void> }> };
    };
    start = async () => {
      const w = await FolderWatcher.start(dir, () => false, (names) => names?.forEach((n) => onName(n)), { onError: () => undefined });
      return () => w.close();
    };
  } else if (kind === 'chokidar') {
    const chokidar = (await optional('chokidar')) as { watch(dir: string, o: object): { on(e: string, f: (p: string) => void): void; close(): Promise<void> } };
    start = () => new Promise((resolve) => {
      const w = chokidar.watch(dir, { ignoreInitial: true, persistent: true });
      w.on('change', (p: string) => onName(path.relative(dir, p)));
      w.on('ready', () => resolve(() => w.close()));
    });
  } else {
    const parcel = (await optional('@parcel/watcher')) as {
      subscribe(dir: string, f: (err: unknown, events: Array<{ path: string }>) => void): Promise<{ unsubscribe(): Promise<void> }>;
    };
    start = async () => {
      const sub = await parcel.subscribe(dir, (_err, events) => events.forEach((e) => onName(path.relative(dir, e.path))));
      return () => sub.unsubscribe();
    };
  }
  gc();
  const rss0 = rssMb();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const stop = await start();
  const readyMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  gc();
  const rssAddedMb = rssMb() - rss0;
  const appendMs: number[] = [];
  const targets = files.filter((f) => f.endsWith('.jsonl')).slice(0, appends);
  for (const f of targets) {
    await new Promise((r) => setTimeout(r, 150));
    const seen = new Promise<number>((resolve) => {
      onName = (n) => {
        if (n === f) resolve(performance.now());
      };
    });
    appendFileSync(path.join(dir, f), '{"type":"user","bench":"watcher-cost"}\n');
    const t = performance.now();
    const timeout = new Promise<number>((resolve) => setTimeout(() => resolve(Number.NaN), 5_000));
    appendMs.push((await Promise.race([seen, timeout])) - t);
  }
  onName = () => undefined;
  await stop();
  return { readyMs, startCpuMs: (cpu.user + cpu.system) / 1000, rssAddedMb, appendMs };
}

async function main(): Promise<void> {
  const dir = opt('dir');
  if (!dir) throw new Error('usage: watcher-cost.js --dir <corpus> [--rounds 3] [--appends 15] [--json]');
  const appends = Number(opt('appends') ?? 15);
  if (opt('child')) {
    const files = (JSON.parse(readFileSync(`${dir.replace(/\/$/, '')}.manifest.json`, 'utf8')) as { files: Array<{ path: string }> }).files.map((f) => f.path);
    process.stdout.write(`${JSON.stringify(await child(opt('child') as Kind, dir, files, appends))}\n`);
    process.exit(0);
  }
  const rounds = Number(opt('rounds') ?? 3);
  const samples = new Map<Kind, Sample[]>(KINDS.map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < KINDS.length; i++) {
      const kind = KINDS[(i + r) % KINDS.length]!;
      const res = spawnSync(process.execPath, ['--expose-gc', new URL(import.meta.url).pathname, '--dir', dir, '--appends', String(appends), '--child', kind], { encoding: 'utf8', timeout: 300_000 });
      if (res.status !== 0) throw new Error(`${kind}: ${res.stderr || res.error?.message}`);
      samples.get(kind)!.push(JSON.parse(res.stdout) as Sample);
    }
  }
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const rows = KINDS.map((k) => {
    const s = samples.get(k)!;
    return {
      watcher: k,
      readyMs: median(s.map((x) => x.readyMs)),
      startCpuMs: median(s.map((x) => x.startCpuMs)),
      rssAddedMb: median(s.map((x) => x.rssAddedMb)),
      appendP50Ms: median(s.map((x) => median(x.appendMs.filter((v) => !Number.isNaN(v))))),
      appendsMissed: s.reduce((n, x) => n + x.appendMs.filter((v) => Number.isNaN(v)).length, 0),
      readySamplesMs: s.map((x) => Math.round(x.readyMs)),
    };
  });
  if (args.includes('--json')) {
    process.stdout.write(`${JSON.stringify({ dir, rounds, appends, load, rows }, null, 2)}\n`);
    return;
  }
  process.stdout.write(`${dir}: ${rounds} rounds, ${appends} appends each; load after: ${load}\n`);
  process.stdout.write('watcher    ready ms  start CPU ms  RSS added MB  append p50 ms  missed  ready samples\n');
  for (const r of rows) {
    process.stdout.write(`${r.watcher.padEnd(10)} ${r.readyMs.toFixed(0).padStart(8)}  ${r.startCpuMs.toFixed(0).padStart(12)}  ${r.rssAddedMb.toFixed(1).padStart(12)}  ${r.appendP50Ms.toFixed(1).padStart(13)}  ${String(r.appendsMissed).padStart(6)}  ${r.readySamplesMs.join(' ')}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`watcher-cost: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
