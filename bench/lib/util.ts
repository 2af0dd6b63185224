/**
 * Small helpers shared by every benchmark: repository paths, summary
 * statistics, and a registry of child processes so that nothing outlives the run.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { sessionPids } from './proc.js';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is bench/lib/util.ts, compiled to bench/dist/lib/util.js). */
export const REPO = findRepo();
export const CLI_DIST = path.join(REPO, 'packages', 'cli', 'dist');
export { ROAM, ROAMD } from '#harness/roamd.js';
/** The compiled raw-stream peer (bench/raw-peer.ts). */
export const RAW_PEER = path.join(REPO, 'bench', 'dist', 'raw-peer.js');
/** The store-counter preload (bench/tools/store-stats.cts). */
export const STORE_STATS = path.join(REPO, 'bench', 'dist', 'tools', 'store-stats.cjs');

function findRepo(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'packages', 'cli'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error('bench: cannot find the repository root');
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));


// ------------------------------------------------------------------ statistics

export interface Summary {
  n: number;
  median: number;
  p99: number;
  min: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile (p in 0..100) of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function summarize(values: readonly number[]): Summary {
  const s = [...values].filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (s.length === 0) return { n: 0, median: NaN, p99: NaN, min: NaN, max: NaN, mean: NaN };
  return { n: s.length, median: median(s), p99: percentile(s, 99), min: s[0]!, max: s[s.length - 1]!, mean: s.reduce((a, b) => a + b, 0) / s.length };
}

// ------------------------------------------------------------------ processes and temp dirs

const children = new Set<ChildProcess>();
/** Process-group ids (Syncthing runs detached: a session of its own) to kill on exit. */
const groups = new Set<number>();
const tempDirs = new Set<string>();

export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export function trackGroup(pid: number): void {
  groups.add(pid);
}

export function untrackGroup(pid: number): void {
  groups.delete(pid);
}

export function trackDir(dir: string): string {
  tempDirs.add(dir);
  return dir;
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  tempDirs.delete(dir);
}

/** Synchronous: usable from 'exit' and signal handlers. Kills only what this run started. */
export function killEverything(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const sid of groups) for (const pid of sessionPids(sid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  groups.clear();
}

export function removeTempDirsSync(): void {
  for (const d of tempDirs) spawnSync('rm', ['-rf', d]);
  tempDirs.clear();
}

let installed = false;
/** On exit or Ctrl-C: kill every child this run started and remove its temp dirs. */
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  process.on('exit', () => {
    killEverything();
    removeTempDirsSync();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      process.stderr.write(`\nbench: ${sig}, cleaning up\n`);
      killEverything();
      removeTempDirsSync();
      process.exit(130);
    });
  }
}

export function fmtBytes(n: number): string {
  if (!Number.isFinite(n)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function log(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}
