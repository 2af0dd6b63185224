/**
 * The trash (`roam restore`): what roam removes or replaces is kept under
 * `<stateDir>/trash/<stamp>/<name>`, listed, restored as a new file, and expired by age.
 */
import { constants, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { ErrorCodes, RoamError } from '../errors.js';
import { isLogName, validateName } from '../names.js';
import { errnoCode, syncDir } from './io.js';
import { ensureParents, itemPath, lstatItem } from './safe-path.js';
import { conflict, emptyIfMissing, isValidName, nullIfMissing, tempName } from './store-helpers.js';
import type { StoreCtx } from './store-context.js';

/** `<stateDir>/trash/<YYYYMMDDTHHMMSS-ms>[.n]/<name>`, not yet taken. */
export async function trashPath(ctx: StoreCtx, name: string): Promise<string> {
  const stamp = new Date(ctx.now()).toISOString().replace(/[-:]/g, '').replace('.', '-').slice(0, 19);
  for (let n = 0; ; n++) {
    const p = path.join(ctx.stateDir, 'trash', n === 0 ? stamp : `${stamp}.${n}`, ...name.split('/'));
    if ((await fsp.lstat(p).catch(nullIfMissing)) === null) return p;
  }
}

/** Puts the current content of an item in the trash, leaving the item in place. */
export async function keepInTrash(ctx: StoreCtx, name: string): Promise<void> {
  const from = itemPath(ctx.root, name);
  const to = await trashPath(ctx, name);
  await fsp.mkdir(path.dirname(to), { recursive: true, mode: 0o700 });
  await fsp.link(from, to).catch(async (e: unknown) => {
    if (errnoCode(e) !== 'EXDEV' && errnoCode(e) !== 'EPERM') throw e;
    await fsp.copyFile(from, to, constants.COPYFILE_EXCL);
  });
}

/**
 * What the trash holds: every file roam removed or replaced in this folder, newest first.
 * `entry` (`<stamp>/<name>`) names it for `restoreFromTrash`; `deletedAt` comes from the stamp.
 */
export async function listTrash(ctx: StoreCtx): Promise<TrashEntry[]> {
  const root = path.join(ctx.stateDir, 'trash');
  const out: TrashEntry[] = [];
  for (const stamp of await fsp.readdir(root).catch(emptyIfMissing)) {
    const deletedAt = trashStampTime(stamp);
    if (deletedAt === null) continue;
    const walk = async (rel: string): Promise<void> => {
      const dir = path.join(root, stamp, ...rel.split('/').filter(Boolean));
      for (const d of await fsp.readdir(dir, { withFileTypes: true }).catch(emptyIfMissing)) {
        const name = rel ? `${rel}/${d.name}` : d.name;
        if (d.isDirectory()) await walk(name);
        else if (d.isFile() && isValidName(name)) {
          const st = await fsp.lstat(path.join(dir, d.name));
          out.push({ entry: `${stamp}/${name}`, name, deletedAt, size: st.size, mtimeMs: st.mtimeMs });
        }
      }
    };
    await walk('');
  }
  return out.sort((a, b) => b.deletedAt - a.deletedAt || (a.entry < b.entry ? -1 : a.entry > b.entry ? 1 : 0));
}

/**
 * Puts a trash entry back at its name (or at `as`), as a new file the next scan reports as a
 * local change: the engine gives it a new version, so it reaches the other devices. Never
 * replaces anything: a name that exists is ROAM_STORE_CONFLICT. The file is hard-linked into
 * place (or copied beside it and then linked, across file systems), so it appears whole.
 */
export async function restoreFromTrash(ctx: StoreCtx, entry: string, as?: string): Promise<string> {
  const cut = entry.indexOf('/');
  const stamp = cut > 0 ? entry.slice(0, cut) : '';
  const name = validateName(entry.slice(cut + 1));
  if (trashStampTime(stamp) === null) throw new RoamError(ErrorCodes.USAGE, `not a trash entry: ${entry}`);
  const to = validateName(as ?? name);
  if (isLogName(to) !== isLogName(name)) throw new RoamError(ErrorCodes.PATH_INVALID, `restoring ${name} as ${to} would change its kind`, { name, to });
  const src = path.join(ctx.stateDir, 'trash', stamp, ...name.split('/'));
  const st = await fsp.lstat(src).catch(nullIfMissing);
  if (!st?.isFile()) throw new RoamError(ErrorCodes.SESSION_NOT_FOUND, `no trash entry ${entry}`, { entry });
  if ((await lstatItem(ctx.root, to)) !== null) throw conflict(to, 'already exists; roam never restores over a file (move it away first)');
  await ensureParents(ctx.root, to, ctx.stats);
  const dst = itemPath(ctx.root, to);
  try {
    await fsp.link(src, dst);
  } catch (e) {
    if (errnoCode(e) === 'EEXIST') throw conflict(to, 'already exists; roam never restores over a file (move it away first)');
    if (errnoCode(e) !== 'EXDEV' && errnoCode(e) !== 'EPERM') throw e;
    const tmp = path.join(path.dirname(dst), tempName(path.basename(dst)));
    try {
      await fsp.copyFile(src, tmp, constants.COPYFILE_EXCL);
      await fsp.utimes(tmp, st.atime, st.mtime);
      await fsp.link(tmp, dst).catch((e2: unknown) => {
        throw errnoCode(e2) === 'EEXIST' ? conflict(to, 'already exists; roam never restores over a file (move it away first)') : e2;
      });
    } finally {
      await fsp.rm(tmp, { force: true });
    }
  }
  await syncDir(path.dirname(dst), ctx.stats);
  await fsp.unlink(src);
  await pruneEmptyTrash(ctx, path.dirname(src));
  return to;
}

/** Deletes trash entries removed more than `maxAgeMs` ago (by their stamp; never a younger one). Returns how many. */
export async function expireTrash(ctx: StoreCtx, maxAgeMs: number): Promise<number> {
  const root = path.join(ctx.stateDir, 'trash');
  const cutoff = ctx.now() - maxAgeMs;
  let n = 0;
  for (const stamp of await fsp.readdir(root).catch(emptyIfMissing)) {
    const t = trashStampTime(stamp);
    if (t === null || t >= cutoff) continue;
    await fsp.rm(path.join(root, stamp), { recursive: true, force: true });
    n++;
  }
  return n;
}

/** Removes the empty directories a restore left in the trash, up to the trash itself. */
export async function pruneEmptyTrash(ctx: StoreCtx, dir: string): Promise<void> {
  const root = path.join(ctx.stateDir, 'trash');
  for (let d = dir; d.startsWith(`${root}${path.sep}`); d = path.dirname(d)) {
    try {
      await fsp.rmdir(d);
    } catch {
      return;
    }
  }
}

/** One file in a folder's trash (see `FsFolderStore.listTrash`). */
export interface TrashEntry {
  /** `<stamp>/<name>`: what `restoreFromTrash` takes. */
  readonly entry: string;
  /** The item's name in the folder when it was removed. */
  readonly name: string;
  /** When roam removed or replaced it (ms since the epoch, from the stamp). */
  readonly deletedAt: number;
  readonly size: number;
  /** The file's own mtime (kept from when it was live). */
  readonly mtimeMs: number;
}

/** The time of a trash directory `<YYYYMMDDTHHMMSS-mmm>[.n]` (UTC), or null for any other name. */
export function trashStampTime(stamp: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})-(\d{3})(?:\.\d{1,6})?$/.exec(stamp);
  if (!m) return null;
  const [y, mo, d, h, mi, s, ms] = m.slice(1).map(Number) as [number, number, number, number, number, number, number];
  const t = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  return Number.isFinite(t) ? t : null;
}
