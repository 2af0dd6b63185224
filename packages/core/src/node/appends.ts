/**
 * Appends to a line log (docs/RELIABILITY.md): an intent journaled before the data, the new state
 * after its fsync; a brand-new log written whole under a temp name and renamed into place; an
 * interrupted append rolled back at `open`.
 */
import { constants, promises as fsp, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { ErrorCodes, RoamError } from '../errors.js';
import type { DiskState } from '../items.js';
import { LineChain } from '../log/chain.js';
import { endOf, GENESIS, type LogPos, samePos } from '../log/position.js';
import { isLogName, validateName } from '../names.js';
import { appendBatch, checkRoom, syncDir } from './io.js';
import { ensureParents, itemPath, lstatItem, openItem, openPinned, peerMode, setMode } from './safe-path.js';
import { encodeEntry, type Entry, fingerprint, type IndexRecord, type IntentRecord, sameDisk } from './index-records.js';
import { conflict, nullIfMissing, tempName } from './store-helpers.js';
import type { StoreCtx } from './store-context.js';
import { lstatForScan } from './scan.js';

const { O_RDWR, O_APPEND, O_CREAT, O_EXCL } = constants;

export async function appendLog(ctx: StoreCtx, name: string, start: LogPos, data: readonly Uint8Array[], end: LogPos, mtimeMs: number, mode?: number): Promise<DiskState> {
  validateName(name);
  if (!isLogName(name)) throw conflict(name, 'not a line log');
  const known = ctx.index.entries.get(name);
  if (!samePos(known ? endOf(known.state) : GENESIS, start)) throw conflict(name, 'the log does not end at the start position');
  // Fold first: nothing is written unless the data is complete lines leading exactly to `end`.
  const chain = new LineChain(ctx.hasher, start, ctx.interval);
  let total = 0;
  for (const d of data) {
    chain.push(d);
    total += d.length;
  }
  ctx.stats.bytesHashed += total;
  if (chain.partialBytes !== 0 || !samePos(chain.pos, end)) {
    throw new RoamError(ErrorCodes.STORE_HASH_MISMATCH, `append to ${name} does not fold to the announced end`, { name });
  }
  // The disk must still be what the index says, with no partial line a local writer left.
  const st = await lstatItem(ctx.root, name);
  if (known ? !(st?.isFile() && sameDisk(fingerprint(st), known.disk) && st.size === start.offset) : st !== null) {
    throw conflict(name, 'changed on disk');
  }
  // Refuse a batch the disk cannot hold before writing any of it: a write that runs out of
  // space midway shows a partial line (or a new, half-written file) until it is undone.
  await checkRoom(ctx.root, total);
  if (!known) return await createLog(ctx, name, data, total, end, mtimeMs, mode, chain);
  const intent: IntentRecord = { t: 'intent', name, from: start.offset, to: end.offset, ino: known?.disk.ino ?? null, dev: known?.disk.dev ?? null };
  await ctx.index.persist([intent]);
  let fh: FileHandle | undefined;
  let undo: (() => Promise<unknown>) | undefined;
  try {
    fh = await openItem(ctx.root, name, O_RDWR | O_APPEND | O_CREAT | (known ? 0 : O_EXCL), ctx.stats);
    const file = fh;
    if (!known) undo = () => fsp.unlink(itemPath(ctx.root, name)); // O_EXCL: we created it
    else if (sameDisk(fingerprint(await file.stat()), known.disk)) undo = () => file.truncate(start.offset);
    else throw conflict(name, 'changed on disk');
    await appendBatch(file, data, total, ctx.midAppendWrite && (() => ctx.midAppendWrite!(name))); // undone below if it fails
    await file.sync();
    ctx.stats.fsyncs++;
    await ctx.afterAppendWrite?.(name);
    if (mode !== undefined && ((await file.stat()).mode & 0o777) !== peerMode(mode)) await setMode(file, peerMode(mode));
    // A tool may append right behind us. Then its mtime is kept, and the fingerprint records
    // our end (not the size seen), so the next scan reads its lines as a local append instead
    // of taking the grown file for the state just written.
    const raced = (await file.stat()).size !== end.offset;
    if (!raced) await file.utimes(mtimeMs / 1000, mtimeMs / 1000);
    const after = await file.stat();
    if (!known) await syncDir(path.dirname(itemPath(ctx.root, name)), ctx.stats);
    const state: DiskState = { name, kind: 'log', deleted: false, size: end.offset, lines: end.line, hash: end.hash, mtimeMs, mode: after.mode & 0o777 };
    const disk = raced || after.size !== end.offset ? { ...fingerprint(after), size: end.offset, mtimeMs: -1 } : fingerprint(after);
    const entry: Entry = { state, disk, tail: await ctx.reader.tailOf(file, end.offset), checkpoints: [] };
    await ctx.index.persist([{ t: known ? 'add' : 'set', name, e: encodeEntry(entry, chain.takeCheckpoints()) }]);
    return state;
  } catch (e) {
    // Undo the write and close the intent; if that fails too, the next open() does it.
    await (undo?.() ?? Promise.resolve())
      .then(() => ctx.index.persist([{ t: 'abort', name }]))
      .catch(() => undefined);
    throw e;
  } finally {
    await fh?.close();
  }
}

/**
 * A brand-new log: written whole under a temp name, fsynced, then renamed into place (so the
 * name only ever holds the whole batch) before its record is journaled. No intent record is
 * needed: a crash before the rename leaves a temp file (`open` deletes it); a crash between
 * the rename and the record leaves the whole log unknown to the index, which the next scan
 * reports as a new item (the replicator takes it for the same content it pulled, no conflict).
 * Saves one journal fsync per received file.
 */
export async function createLog(ctx: StoreCtx, name: string, data: readonly Uint8Array[], total: number, end: LogPos, mtimeMs: number, mode: number | undefined, chain: LineChain): Promise<DiskState> {
  await ensureParents(ctx.root, name, ctx.stats);
  const slash = name.lastIndexOf('/') + 1;
  const tmpName = name.slice(0, slash) + tempName(name.slice(slash));
  const tmp = itemPath(ctx.root, tmpName);
  const dst = itemPath(ctx.root, name);
  const file = await openPinned(ctx.root, tmpName, O_RDWR | O_CREAT | O_EXCL, mode === undefined ? 0o600 : peerMode(mode));
  let renamed = false;
  try {
    await appendBatch(file, data, total);
    if (mode !== undefined && ((await file.stat()).mode & 0o777) !== peerMode(mode)) await setMode(file, peerMode(mode));
    await file.utimes(mtimeMs / 1000, mtimeMs / 1000);
    await file.sync();
    ctx.stats.fsyncs++;
    // A local tool may have created the item meanwhile: never rename over it. (The parents
    // were checked just above; a symlink at the item is taken as present too.)
    if ((await fsp.lstat(dst).catch(nullIfMissing)) !== null) throw conflict(name, 'changed on disk');
    await fsp.rename(tmp, dst);
    renamed = true;
    await ctx.afterAppendWrite?.(name);
    const after = await file.stat();
    // A tool may append right behind us (see appendLog): its lines are read by the next scan.
    const raced = after.size !== end.offset;
    const state: DiskState = { name, kind: 'log', deleted: false, size: end.offset, lines: end.line, hash: end.hash, mtimeMs, mode: after.mode & 0o777 };
    const disk = raced ? { ...fingerprint(after), size: end.offset, mtimeMs: -1 } : fingerprint(after);
    // The tail fingerprint from the data in hand: the file begins with exactly these bytes.
    const entry: Entry = { state, disk, tail: ctx.reader.tailOfData(data, total), checkpoints: [] };
    // Group commit: the directory fsync and the record wait for the next journal write.
    const record: IndexRecord = { t: 'set', name, e: encodeEntry(entry, chain.takeCheckpoints()) };
    ctx.index.pendingDirs.add(path.dirname(dst));
    ctx.index.pendingRecords.push(record);
    ctx.index.apply(record);
    return state;
  } catch (e) {
    // Before the rename only the temp file exists; after it the log is whole, and a scan
    // reports it if its record is missing.
    if (!renamed) await fsp.rm(tmp, { force: true }).catch(() => undefined);
    else {
      // Undo our own creation, unless a tool wrote to it meanwhile (then a scan takes it).
      const st = await fsp.lstat(dst).catch(() => null);
      const own = await file.stat().catch(() => null);
      if (st && own && st.ino === own.ino && st.dev === own.dev && st.size === end.offset) {
        await fsp.unlink(dst).then(() => syncDir(path.dirname(dst), ctx.stats)).catch(() => undefined);
      }
    }
    throw e;
  } finally {
    await file.close();
  }
}

/** Undoes an interrupted append (see `appendLog`). Returns the log's stat if it was truncated. */
export async function rollBack(ctx: StoreCtx, intent: IntentRecord): Promise<Stats | null> {
  const st = await lstatForScan(ctx, intent.name);
  // Only touch our own write: the same file, not grown past the batch by another writer.
  if (!st || st.size > intent.to) return null;
  if (intent.ino === null) {
    await fsp.unlink(itemPath(ctx.root, intent.name));
    await syncDir(path.dirname(itemPath(ctx.root, intent.name)), ctx.stats);
    return null;
  }
  if (st.ino !== intent.ino || st.dev !== intent.dev || st.size <= intent.from) return null;
  const fh = await openItem(ctx.root, intent.name, O_RDWR, ctx.stats);
  try {
    await fh.truncate(intent.from);
    await fh.sync();
    ctx.stats.fsyncs++;
    return await fh.stat();
  } finally {
    await fh.close();
  }
}
