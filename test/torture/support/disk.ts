/** A small tmpfs to run out of space on (needs root; `mount -t tmpfs`). Unmounted by cleanupAll. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, statfsSync } from 'node:fs';
import { trackMount } from './cleanup.js';

export function mountTmpfs(dir: string, bytes: number): { ok: true } | { ok: false; reason: string } {
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0755`, 'tmpfs', dir], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) return { ok: false, reason: `mount -t tmpfs: ${(r.stderr || r.error?.message || '').trim()}` };
  trackMount(dir);
  return { ok: true };
}

/** Free bytes on the file system holding `dir`. */
export function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}
