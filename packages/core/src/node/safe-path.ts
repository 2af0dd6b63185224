/**
 * Resolving item names inside a folder root without ever leaving it.
 *
 * Names pass `validateName` (no `..`, no absolute paths, …). Then every existing parent directory
 * is checked with lstat: it must be a real directory, a symlink anywhere on the path is
 * ROAM_PATH_ESCAPE (one realpath of the parent when it resolves to itself, else an lstat per
 * level). Missing parents are created one level at a time, each re-checked. The item
 * itself is opened with O_NOFOLLOW, so a symlink there is refused too. Node has no openat: a
 * directory swapped for a symlink between the check and the open is caught after the open, before
 * anything is written (`openPinned`, pinned-open.ts). Directories are made 0700.
 */
import { constants, promises as fsp, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { ErrorCodes, RoamError } from '../errors.js';
import { validateName } from '../names.js';
import { errnoCode, syncDir, type SyncCounter } from './io.js';
import { checkExactName } from './folding.js';
import { DIR_MODE, openPinned } from './pinned-open.js';

export { openPinned, peerMode, setMode } from './pinned-open.js';

/** O_NOFOLLOW where the platform has it (not on Windows). */
export const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;

function escape(name: string, why: string): RoamError {
  return new RoamError(ErrorCodes.PATH_ESCAPE, `refused item name ${JSON.stringify(name)}: ${why}`, { name });
}

/** Absolute path of item `name` inside `root` (validates the name; no file-system access). */
export function itemPath(root: string, name: string): string {
  return path.join(root, ...validateName(name).split('/'));
}

/**
 * Checks the parent directories of `name` from the root down: true when all are real directories,
 * false when one is missing or is not a directory (so the item cannot exist). A symlink is
 * ROAM_PATH_ESCAPE.
 */
export function checkParents(root: string, name: string): Promise<boolean> {
  return walkParents(root, name, null);
}

/**
 * Creates the missing parent directories of `name`, one level at a time, each fsynced into its
 * parent and re-checked. A symlink is ROAM_PATH_ESCAPE, a non-directory in the way ROAM_STORE_CONFLICT.
 */
export async function ensureParents(root: string, name: string, counter: SyncCounter): Promise<void> {
  await walkParents(root, name, counter);
}

async function walkParents(root: string, name: string, create: SyncCounter | null): Promise<boolean> {
  const parts = validateName(name).split('/');
  if (parts.length > 1) {
    // Fast path, one call instead of an lstat per level: the parent resolves to itself only if
    // every level exists as a real directory (a symlink resolves elsewhere, a file is ENOTDIR
    // under the trailing separator). Anything else takes the level-by-level walk below.
    const parent = path.join(root, ...parts.slice(0, -1));
    if ((await fsp.realpath(parent + path.sep).catch(() => null)) === parent) return true;
  }
  let dir = root;
  for (const part of parts.slice(0, -1)) {
    const parent = dir;
    dir = path.join(dir, part);
    let st = await lstatOrNull(dir);
    if (st === null && create) {
      await fsp.mkdir(dir, DIR_MODE).catch((e: unknown) => {
        if (errnoCode(e) !== 'EEXIST') throw e; // lost a race: re-checked below
      });
      await syncDir(parent, create);
      st = await lstatOrNull(dir);
    }
    if (st?.isSymbolicLink()) throw escape(name, `${path.relative(root, dir)} is a symlink`);
    if (st?.isDirectory()) continue;
    if (create) throw new RoamError(ErrorCodes.STORE_CONFLICT, `cannot create ${name}: ${path.relative(root, dir)} is not a directory`, { name });
    return false;
  }
  return true;
}

/**
 * lstat of item `name`, or null when absent. A symlink, at the item or above it, is ROAM_PATH_ESCAPE;
 * on a file system that folds names, another spelling of it is ROAM_NAME_CLASH.
 */
export async function lstatItem(root: string, name: string): Promise<Stats | null> {
  await checkExactName(root, name); // a name this file system folds onto another: ROAM_NAME_CLASH (folding.ts)
  if (!(await checkParents(root, name))) return null;
  const st = await lstatOrNull(itemPath(root, name));
  if (st?.isSymbolicLink()) throw escape(name, 'the item is a symlink');
  return st;
}

/**
 * Opens item `name` with O_NOFOLLOW after checking its parents (creating them when `flags` has
 * O_CREAT). A symlink is ROAM_PATH_ESCAPE; anything but a regular file is ROAM_STORE_CONFLICT.
 * Other fs errors (ENOENT, EEXIST, …) are thrown as they are.
 */
export async function openItem(root: string, name: string, flags: number, counter: SyncCounter, mode = 0o644): Promise<FileHandle> {
  const create = (flags & constants.O_CREAT) !== 0;
  if (!(await walkParents(root, name, create ? counter : null))) {
    throw Object.assign(new Error(`ENOENT: no such file: ${name}`), { code: 'ENOENT' });
  }
  let fh: FileHandle;
  try {
    fh = await openPinned(root, name, flags, mode);
  } catch (e) {
    if (errnoCode(e) === 'ELOOP' || errnoCode(e) === 'EMLINK') throw escape(name, 'the item is a symlink');
    throw e;
  }
  if (!(await fh.stat()).isFile()) {
    await fh.close();
    throw new RoamError(ErrorCodes.STORE_CONFLICT, `${name} is not a regular file`, { name });
  }
  return fh;
}

async function lstatOrNull(p: string): Promise<Stats | null> {
  try {
    return await fsp.lstat(p);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return null;
    throw e;
  }
}
