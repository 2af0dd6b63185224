/**
 * A real case-insensitive file system for tests: a FAT image made with mkfs.vfat, mounted with
 * fusefat (FUSE, no kernel module, no loop device). FAT compares names without case and keeps the
 * case it was given (the behaviour of macOS's and Windows' default file systems). `unmount`
 * unmounts (lazily when busy) and removes the image; call it even when the test failed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FatMount {
  readonly dir: string;
  unmount(): void;
}

export type FatMountResult = { readonly ok: true; readonly mount: FatMount } | { readonly ok: false; readonly reason: string };

const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8', timeout: 15_000 });

/** Mounts a fresh 32 MiB FAT file system at `at` (created if missing). */
export function mountFat(at: string): FatMountResult {
  if (!existsSync('/dev/fuse')) return { ok: false, reason: 'no /dev/fuse' };
  for (const tool of ['mkfs.vfat', 'fusefat', 'fusermount']) {
    if (run('sh', ['-c', `command -v ${tool}`]).status !== 0) return { ok: false, reason: `${tool} is not installed (Debian: fusefat, dosfstools, fuse)` };
  }
  const work = mkdtempSync(join(tmpdir(), 'roam-fat-'));
  const image = join(work, 'fat.img');
  const fail = (why: string): FatMountResult => {
    rmSync(work, { recursive: true, force: true });
    return { ok: false, reason: why };
  };
  const mk = run('sh', ['-c', `truncate -s 32M '${image}' && mkfs.vfat '${image}'`]);
  if (mk.status !== 0) return fail(`mkfs.vfat failed: ${mk.stderr}`);
  mkdirSync(at, { recursive: true });
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const m = run('fusefat', ['-o', `rw+,uid=${uid},gid=${gid}`, image, at]);
  if (m.status !== 0) return fail(`fusefat failed: ${m.stderr}${m.stdout}`);
  if (run('grep', ['-q', ` ${at} fuse`, '/proc/mounts']).status !== 0) return fail('fusefat did not mount');
  let mounted = true;
  const unmount = (): void => {
    if (mounted && run('fusermount', ['-u', at]).status !== 0) run('fusermount', ['-u', '-z', at]);
    mounted = false;
    process.off('exit', unmount);
    rmSync(work, { recursive: true, force: true });
  };
  // If the worker exits before the test's hooks ran (a killed run), the mount still goes.
  process.on('exit', unmount);
  return { ok: true, mount: { dir: at, unmount } };
}
