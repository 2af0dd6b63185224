/**
 * Everything a torture test starts or creates is registered here and undone by `cleanupAll`, in
 * the test's `afterEach`/`finally`, even when the test failed: child processes (SIGTERM, then
 * SIGKILL), network namespaces, mounts, temp directories. If the worker dies before the hooks run,
 * an exit handler does what can be done synchronously (SIGKILL, `ip netns del`, `umount -l`,
 * `rm -rf`).
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const procs = new Set<ChildProcess>();
const namespaces = new Set<string>();
const mounts: string[] = [];
const dirs: string[] = [];
const finalizers: Array<() => Promise<unknown>> = [];
let hooked = false;

export const alive = (p: ChildProcess): boolean => p.exitCode === null && p.signalCode === null;

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', lastResort);
}

export function trackProcess(p: ChildProcess): ChildProcess {
  hook();
  procs.add(p);
  p.once('exit', () => procs.delete(p));
  return p;
}

export function trackNamespace(name: string): void {
  hook();
  namespaces.add(name);
}

export function trackMount(dir: string): void {
  hook();
  mounts.push(dir);
}

/** Something to undo first in `cleanupAll` (an in-process libp2p node, a timer…). */
export function onCleanup(fn: () => Promise<unknown>): void {
  finalizers.push(fn);
}

/** A new temp directory, removed by `cleanupAll`. */
export function tempDir(prefix: string): string {
  hook();
  const d = mkdtempSync(join(tmpdir(), `roam-torture-${prefix}-`));
  dirs.push(d);
  return d;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
export async function stopProcess(p: ChildProcess, graceMs = 5_000): Promise<void> {
  if (!alive(p)) return;
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGTERM');
  const timer = setTimeout(() => p.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export function listNamespaces(): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) return [];
  return r.stdout.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '').filter(Boolean);
}

function mounted(dir: string): boolean {
  return spawnSync('mountpoint', ['-q', dir], { timeout: 10_000 }).status === 0;
}

/**
 * Stops every process, deletes every namespace, unmounts every mount, removes every temp dir.
 * Throws (after doing all of it) if a namespace or a mount is left behind.
 */
export async function cleanupAll(): Promise<void> {
  for (const fn of finalizers.splice(0).reverse()) await fn().catch(() => undefined);
  await Promise.all([...procs].map((p) => stopProcess(p)));
  procs.clear();
  const problems: string[] = [];
  for (const n of namespaces) spawnSync('ip', ['netns', 'del', n], { timeout: 10_000 });
  const listed = listNamespaces();
  for (const n of namespaces) if (listed.includes(n)) problems.push(`namespace ${n} left behind`);
  namespaces.clear();
  for (const m of mounts.splice(0).reverse()) {
    for (let i = 0; i < 20 && mounted(m); i++) {
      const r = spawnSync('umount', [m], { timeout: 10_000 });
      if (r.status !== 0) await new Promise((res) => setTimeout(res, 250));
    }
    if (mounted(m)) {
      spawnSync('umount', ['-l', m], { timeout: 10_000 });
      if (mounted(m)) problems.push(`mount ${m} left behind`);
    }
  }
  for (const d of dirs.splice(0).reverse()) rmSync(d, { recursive: true, force: true });
  if (problems.length) throw new Error(`cleanup: ${problems.join('; ')}`);
}

function lastResort(): void {
  for (const p of procs) if (alive(p)) p.kill('SIGKILL');
  for (const n of namespaces) spawnSync('ip', ['netns', 'del', n], { timeout: 5_000 });
  for (const m of mounts) spawnSync('umount', ['-l', m], { timeout: 5_000 });
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
