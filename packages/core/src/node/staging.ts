/**
 * Staged whole-content writes (a new epoch of a log, a file): written to a temp file, checked
 * against the target when committed, then renamed over the item (what it replaces kept in the trash).
 */
import { constants, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { bytesEqual } from '../bytes.js';
import { ErrorCodes, RoamError } from '../errors.js';
import type { DiskState } from '../items.js';
import { LineChain } from '../log/chain.js';
import { GENESIS } from '../log/position.js';
import { isLogName } from '../names.js';
import type { StagedTarget } from '../store.js';
import { syncDir } from './io.js';
import { checkParents, ensureParents, itemPath, lstatItem, openPinned, peerMode, setMode } from './safe-path.js';
import { encodeEntry, fingerprint } from './index-records.js';
import { tempName } from './store-helpers.js';
import type { StoreCtx } from './store-context.js';
import { Staging } from './staged-file.js';
import { checkExpected } from './writes.js';
import { keepInTrash } from './trash.js';

const { O_RDWR, O_CREAT, O_EXCL } = constants;

/** Opens a staged write of `name`: a hidden temp file beside the item (parents made, never through a symlink). */
export async function openStaging(ctx: StoreCtx, name: string): Promise<Staging> {
  await ensureParents(ctx.root, name, ctx.stats);
  await lstatItem(ctx.root, name); // refuses a symlink at the item
  const tmpName = name.slice(0, name.lastIndexOf('/') + 1) + tempName(name.slice(name.lastIndexOf('/') + 1));
  const fh = await openPinned(ctx.root, tmpName, O_RDWR | O_CREAT | O_EXCL, 0o600);
  const s = new Staging(name, tmpName, fh, isLogName(name) ? new LineChain(ctx.hasher, GENESIS, ctx.interval) : ctx.hasher.createSha256(), ctx.stats);
  ctx.staging.add(s);
  return s;
}

export async function commitStaged(ctx: StoreCtx, s: Staging, target: StagedTarget, expected: DiskState | null): Promise<DiskState> {
  if (s.finished) throw new RoamError(ErrorCodes.STORE_IO, `staged write of ${s.name} is already finished`, { name: s.name });
  s.finished = true; // one attempt: any failure below discards the temp file
  try {
    await s.flushed();
    await s.fh.sync();
    ctx.stats.fsyncs++;
    const got = s.result();
    const ok =
      target.kind === (isLogName(s.name) ? 'log' : 'file') &&
      target.size === s.written &&
      got.size === s.written &&
      target.lines === got.lines &&
      bytesEqual(target.hash, got.hash);
    if (!ok) throw new RoamError(ErrorCodes.STORE_HASH_MISMATCH, `staged content of ${s.name} does not match its target`, { name: s.name });
    await checkExpected(ctx, s.name, expected);
    await setMode(s.fh, peerMode(target.mode));
    await s.fh.utimes(target.mtimeMs / 1000, target.mtimeMs / 1000);
    const st = await s.fh.stat();
    const tail = target.kind === 'log' ? await ctx.reader.tailOf(s.fh, target.size) : '';
    await s.close();
    const dst = itemPath(ctx.root, s.name);
    // What this replaces goes to the trash (a hard link: the name never goes missing).
    if (expected) await keepInTrash(ctx, s.name);
    await fsp.rename(itemPath(ctx.root, s.tmpName), dst);
    await syncDir(path.dirname(dst), ctx.stats);
    const state: DiskState = { name: s.name, kind: target.kind, deleted: false, size: target.size, lines: target.lines, hash: target.hash, mtimeMs: target.mtimeMs, mode: target.mode & 0o777 };
    await ctx.index.persist([{ t: 'set', name: s.name, e: encodeEntry({ state, disk: fingerprint(st), tail, checkpoints: got.checkpoints }) }]);
    ctx.staging.delete(s);
    return state;
  } catch (e) {
    await discard(ctx, s);
    throw e;
  }
}

/** Closes and deletes a staged temp file (idempotent; never through a symlinked parent). */
export async function discard(ctx: StoreCtx, s: Staging): Promise<void> {
  s.finished = true;
  ctx.staging.delete(s);
  await s.close();
  if (await checkParents(ctx.root, s.tmpName).catch(() => false)) await fsp.rm(itemPath(ctx.root, s.tmpName), { force: true });
}
