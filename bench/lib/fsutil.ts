/**
 * Files: hard-linked copies of a corpus (instant, no extra disk), byte-identity checks against a
 * manifest, the moment the last byte landed (max ctime), directory sizes, and page-cache eviction.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, statSync, type Stats } from 'node:fs';
import { copyFile, link, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { ManifestFile } from './corpus.js';

/** Recreates `files` of `src` under `dst` as hard links (or copies with `copy`). */
export async function linkTree(src: string, dst: string, files: readonly ManifestFile[], copy = false): Promise<void> {
  const made = new Set<string>();
  for (const f of files) {
    const to = path.join(dst, f.path);
    const dir = path.dirname(to);
    if (!made.has(dir)) {
      await mkdir(dir, { recursive: true });
      made.add(dir);
    }
    if (copy) await copyFile(path.join(src, f.path), to);
    else await link(path.join(src, f.path), to);
  }
}

export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file, { highWaterMark: 1 << 20 })
      .on('data', (b) => h.update(b))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}

/** Every manifest file has the expected size (cheap; stats only). Returns the first mismatch. */
export function sizesMatch(root: string, files: readonly ManifestFile[]): string | undefined {
  for (const f of files) {
    let st: Stats;
    try {
      st = statSync(path.join(root, f.path));
    } catch {
      return `${f.path} missing`;
    }
    if (st.size !== f.size) return `${f.path}: ${st.size} of ${f.size} B`;
  }
  return undefined;
}

/** Sizes and SHA-256 of every file as in the manifest; returns the problems (empty when identical). */
export async function verifyTree(root: string, files: readonly ManifestFile[]): Promise<string[]> {
  const problems: string[] = [];
  for (const f of files) {
    const p = path.join(root, f.path);
    let st: Stats;
    try {
      st = statSync(p);
    } catch {
      problems.push(`${f.path} missing`);
      continue;
    }
    if (st.size !== f.size) problems.push(`${f.path}: size ${st.size}, expected ${f.size}`);
    else if (f.sha256 && (await sha256File(p)) !== f.sha256) problems.push(`${f.path}: content differs`);
    if (problems.length > 10) break;
  }
  return problems;
}

/** The latest ctime (ms since the epoch) of the manifest's files under root: when the last one landed. */
export function lastLanded(root: string, files: readonly ManifestFile[]): number {
  let max = 0;
  for (const f of files) {
    const st = statSync(path.join(root, f.path), { bigint: true });
    const ms = Number(st.ctimeNs / 1_000_000n);
    if (ms > max) max = ms;
  }
  return max;
}

/** Bytes of every regular file under `dir` (recursive). */
export function dirBytes(dir: string): number {
  let total = 0;
  const walk = (d: string) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) total += statSync(p).size;
    }
  };
  walk(dir);
  return total;
}

/**
 * Drops the page cache of every file under the dirs (posix_fadvise DONTNEED after fdatasync, via
 * python3), so that a process's `read_bytes` afterwards shows what it really reads from disk. Only
 * these files are evicted, not the whole machine's cache. Returns false when it could not.
 */
export function evictCache(dirs: readonly string[]): boolean {
  const script = `
import os, sys
for root in sys.argv[1:]:
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            try:
                fd = os.open(p, os.O_RDONLY | os.O_NOFOLLOW)
            except OSError:
                continue
            try:
                os.fdatasync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            except OSError:
                pass
            finally:
                os.close(fd)
`;
  const r = spawnSync('python3', ['-c', script, ...dirs], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 300_000 });
  return r.status === 0;
}

/**
 * Tracks which manifest files have arrived (expected size) under `root`, cheaply: each `poll` stats
 * at most `budget` of the files still missing (round robin), so watching 10,000 files does not load
 * the machine (or the daemons being measured, as asking them for their status would). Once nothing
 * is missing the caller checks the content (`verifyTree`) and takes `lastLanded` as the time.
 */
export class Arrivals {
  private missing: ManifestFile[];
  private cursor = 0;

  constructor(private readonly root: string, files: readonly ManifestFile[], private readonly budget = 500) {
    this.missing = [...files];
  }

  get remaining(): number {
    return this.missing.length;
  }

  /** Returns undefined when every file has its expected size, else a description. */
  poll(): string | undefined {
    const n = Math.min(this.budget, this.missing.length);
    const still: ManifestFile[] = [];
    const checked = new Set<ManifestFile>();
    for (let i = 0; i < n; i++) {
      const f = this.missing[(this.cursor + i) % this.missing.length]!;
      checked.add(f);
      try {
        if (statSync(path.join(this.root, f.path)).size === f.size) continue;
      } catch {
        // not there yet
      }
      still.push(f);
    }
    const rest = this.missing.filter((f) => !checked.has(f));
    this.missing = [...rest, ...still];
    this.cursor = 0;
    return this.missing.length === 0 ? undefined : `${this.missing.length} files not complete yet`;
  }
}
