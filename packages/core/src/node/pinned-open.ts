/**
 * How files from peers land here: their modes, the directories made for them, and an open that a
 * swapped parent directory cannot redirect.
 *
 * - A peer's mode keeps its owner bits and loses group and other (0755 → 0700, 0644 → 0600):
 *   session files hold secrets, scripts keep their run bit. The owner can always read and write
 *   (roam serves and appends to what it received).
 * - Directories roam makes are 0700.
 * - Node has no openat: the parents of an item are checked by path, then the item is opened by
 *   path, and a local writer could swap a parent for a symlink in between. So after the open and
 *   before the first byte is written, `openPinned` checks that the parent directory is the one
 *   checked (same device and inode, still not a symlink), that the path names the file opened
 *   (lstat against fstat), and on Linux that the kernel's path of the descriptor is the intended
 *   one. On a mismatch the file is closed (and removed where the open created it), and the write is
 *   refused with ROAM_PATH_ESCAPE: the item is skipped, the daemon carries on.
 */
import { constants, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { ErrorCodes, RoamError } from '../errors.js';
import { validateName } from '../names.js';

/** Mode bits of directories roam creates in a synced folder. */
export const DIR_MODE = 0o700;

/** The mode a file from a peer gets here: its owner bits (at least read and write), nothing for group and other. */
export function peerMode(mode: number): number {
  return (mode & 0o700) | 0o600;
}

/**
 * chmod through the handle. A file system that keeps no modes (FAT through FUSE answers ENOSYS)
 * keeps the modes it has: the content is what matters, and the write goes on.
 */
export async function setMode(fh: FileHandle, mode: number): Promise<void> {
  await fh.chmod(mode).catch((e: unknown) => {
    if (!['ENOSYS', 'ENOTSUP', 'EOPNOTSUPP'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
  });
}

type OpenHook = (abs: string) => void | Promise<void>;
let beforeOpen: OpenHook | null = null;

/** For tests: runs between the parent check and the open (to swap a parent deterministically). `null` removes it. */
export function setBeforeOpenHook(hook: OpenHook | null): void {
  beforeOpen = hook;
}

function swapped(name: string, why: string): RoamError {
  return new RoamError(ErrorCodes.PATH_ESCAPE, `refused to write ${JSON.stringify(name)}: ${why} (a directory swapped while it was opened?)`, { name });
}

/**
 * Opens item `name` under `root` (its parents checked by the caller) with O_NOFOLLOW and checks,
 * before anything is written, that what was opened is where it was meant to be (see above).
 * Errors of the open itself (ELOOP, EEXIST, ENOENT, …) are thrown as they are.
 */
export async function openPinned(root: string, name: string, flags: number, mode: number): Promise<FileHandle> {
  const abs = path.join(root, ...validateName(name).split('/'));
  const parent = path.dirname(abs);
  const before = await fsp.lstat(parent);
  if (!before.isDirectory()) throw swapped(name, `${path.relative(root, parent) || '.'} is not a directory`);
  await beforeOpen?.(abs);
  const fh = await fsp.open(abs, flags | (constants.O_NOFOLLOW ?? 0), mode);
  const actual = await fsp.readlink(`/proc/self/fd/${fh.fd}`).catch(() => null);
  try {
    const [fst, after, at] = await Promise.all([fh.stat(), fsp.lstat(parent).catch(() => null), fsp.lstat(abs).catch(() => null)]);
    if (!after || after.isSymbolicLink() || after.dev !== before.dev || after.ino !== before.ino) throw swapped(name, `${path.relative(root, parent)} changed`);
    if (!at || at.dev !== fst.dev || at.ino !== fst.ino) throw swapped(name, 'the file opened is not the one at its path');
    if (actual !== null && actual !== abs) throw swapped(name, 'the file opened lies elsewhere');
    return fh;
  } catch (err) {
    const fst = await fh.stat().catch(() => null);
    await fh.close().catch(() => undefined);
    // Created by this open (O_EXCL) where it does not belong: remove it, if it is still that file.
    if (fst && actual && (flags & constants.O_EXCL) !== 0) {
      const there = await fsp.lstat(actual).catch(() => null);
      if (there && there.dev === fst.dev && there.ino === fst.ino) await fsp.unlink(actual).catch(() => undefined);
    }
    throw err;
  }
}
