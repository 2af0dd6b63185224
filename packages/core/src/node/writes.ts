/**
 * The store's other writes: remove (to the trash), rename, touch, copy, a partial last line cut,
 * each checked first against the expected state in the index and on disk.
 */
import { randomBytes } from 'node:crypto';
import { constants, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { ErrorCodes, RoamError } from '../errors.js';
import type { DiskState } from '../items.js';
import { isLogName, validateName } from '../names.js';
import type { PartialTail } from '../store.js';
import { errnoCode, syncDir } from './io.js';
import { cutPartialTail, partialTrashName } from './partial-tail.js';
import { ensureParents, itemPath, lstatItem, setMode } from './safe-path.js';
import { encodeEntry, type Entry, fingerprint, sameDisk, sameDiskState } from './index-records.js';
import { conflict, nullIfMissing, TEMP_PREFIX } from './store-helpers.js';
import type { StoreCtx } from './store-context.js';
import { trashPath } from './trash.js';

/**
 * Checks that item `name` is still `expected` (null or deleted: absent) in the index and on
 * disk; ROAM_STORE_CONFLICT otherwise. Returns the index entry (undefined when absent).
 */
export async function checkExpected(ctx: StoreCtx, name: string, expected: DiskState | null): Promise<Entry | undefined> {
  const st = await lstatItem(ctx.root, name);
  if (expected === null || expected.deleted) {
    if (st !== null) throw conflict(name, 'exists');
    return undefined;
  }
  const known = ctx.index.entries.get(name);
  if (!known || !sameDiskState(known.state, expected)) throw conflict(name, 'the index differs from the expected state');
  if (!st?.isFile() || !sameDisk(fingerprint(st), known.disk)) throw conflict(name, 'changed on disk');
  return known;
}

export async function remove(ctx: StoreCtx, name: string, expected: DiskState): Promise<void> {
  if (!(await checkExpected(ctx, name, expected))) return; // expected absent, and it is
  const from = itemPath(ctx.root, name);
  const to = await trashPath(ctx, name);
  await fsp.mkdir(path.dirname(to), { recursive: true, mode: 0o700 });
  await fsp.rename(from, to).catch(async (e: unknown) => {
    if (errnoCode(e) !== 'EXDEV') throw e;
    await fsp.copyFile(from, to, constants.COPYFILE_EXCL);
    await fsp.unlink(from);
  });
  await syncDir(path.dirname(from), ctx.stats);
  await ctx.index.persist([{ t: 'del', name }]);
  await pruneEmptyParents(ctx, name);
}

/**
 * Removes the directories above a removed item that it left empty, up to the folder root: a
 * peer that deleted a directory (rm -rf, a renamed project) leaves none behind here either.
 */
export async function pruneEmptyParents(ctx: StoreCtx, name: string): Promise<void> {
  for (let dir = path.posix.dirname(name); dir !== '.'; dir = path.posix.dirname(dir)) {
    const abs = itemPath(ctx.root, dir);
    const st = await fsp.lstat(abs).catch(nullIfMissing);
    if (!st?.isDirectory()) return;
    try {
      await fsp.rmdir(abs);
    } catch {
      return; // not empty (or not ours to remove): stop here
    }
  }
}

export async function rename(ctx: StoreCtx, from: string, to: string, expected: DiskState): Promise<DiskState> {
  validateName(to);
  if (isLogName(from) !== isLogName(to)) {
    throw new RoamError(ErrorCodes.PATH_INVALID, `renaming ${from} to ${to} would change its kind`, { from, to });
  }
  const known = await checkExpected(ctx, from, expected);
  if (!known) throw conflict(from, 'absent');
  if ((await lstatItem(ctx.root, to)) !== null) throw conflict(to, 'already exists');
  await ensureParents(ctx.root, to, ctx.stats);
  const src = itemPath(ctx.root, from);
  const dst = itemPath(ctx.root, to);
  await fsp.rename(src, dst);
  await syncDir(path.dirname(dst), ctx.stats);
  if (path.dirname(src) !== path.dirname(dst)) await syncDir(path.dirname(src), ctx.stats);
  const entry: Entry = { ...known, state: { ...known.state, name: to } };
  await ctx.index.persist([
    { t: 'del', name: from },
    { t: 'set', name: to, e: encodeEntry(entry) },
  ]);
  return entry.state;
}

export async function touch(ctx: StoreCtx, name: string, mtimeMs: number, expected: DiskState): Promise<DiskState> {
  const known = await checkExpected(ctx, name, expected);
  if (!known) throw conflict(name, 'absent');
  const abs = itemPath(ctx.root, name);
  await fsp.utimes(abs, mtimeMs / 1000, mtimeMs / 1000);
  const entry: Entry = { ...known, state: { ...known.state, mtimeMs }, disk: fingerprint(await fsp.lstat(abs)) };
  await ctx.index.persist([{ t: 'set', name, e: encodeEntry(entry) }]);
  return entry.state;
}

export async function copy(ctx: StoreCtx, from: string, to: string, expected: DiskState): Promise<DiskState> {
  validateName(to);
  if (isLogName(from) !== isLogName(to)) {
    throw new RoamError(ErrorCodes.PATH_INVALID, `copying ${from} to ${to} would change its kind`, { from, to });
  }
  const known = await checkExpected(ctx, from, expected);
  if (!known) throw conflict(from, 'absent');
  if ((await lstatItem(ctx.root, to)) !== null) throw conflict(to, 'already exists');
  await ensureParents(ctx.root, to, ctx.stats);
  const tmpName = path.posix.join(path.posix.dirname(to), `${TEMP_PREFIX}${randomBytes(6).toString('hex')}-${path.posix.basename(to)}`.replace(/^\.\//, ''));
  const tmp = itemPath(ctx.root, tmpName);
  try {
    await fsp.copyFile(itemPath(ctx.root, from), tmp, constants.COPYFILE_EXCL);
    const fh = await fsp.open(tmp, 'r+');
    try {
      await fh.sync();
      ctx.stats.fsyncs++;
      await setMode(fh, known.state.mode);
      await fh.utimes(known.state.mtimeMs / 1000, known.state.mtimeMs / 1000);
    } finally {
      await fh.close();
    }
    const st = await fsp.lstat(tmp);
    // The copy must be what the index says `from` holds (a writer may have appended since).
    if (st.size !== known.disk.size) throw conflict(from, 'changed on disk');
    await fsp.rename(tmp, itemPath(ctx.root, to));
    await syncDir(path.dirname(itemPath(ctx.root, to)), ctx.stats);
    const entry: Entry = { ...known, state: { ...known.state, name: to }, disk: fingerprint(await fsp.lstat(itemPath(ctx.root, to))) };
    await ctx.index.persist([{ t: 'set', name: to, e: encodeEntry(entry) }]);
    return entry.state;
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

export async function dropPartialTail(ctx: StoreCtx, name: string, expected: DiskState, tail: PartialTail): Promise<DiskState> {
  const known = ctx.index.entries.get(validateName(name));
  if (!known || !sameDiskState(known.state, expected)) throw conflict(name, 'the index differs from the expected state');
  const after = await cutPartialTail(ctx.root, name, known.state, known.disk, tail, await trashPath(ctx, partialTrashName(name)), ctx.stats);
  await ctx.index.persist([{ t: 'add', name, e: encodeEntry({ ...known, disk: fingerprint(after) }, []) }]);
  return known.state;
}
