/**
 * Scanning: the folder walked (directories read side by side), each item's stat compared with the
 * index, a grown log read past its known end, anything else hashed again; changes recorded.
 */
import { constants, promises as fsp, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { ErrorCodes, isRoamError } from '../errors.js';
import type { DiskState, LocalChange } from '../items.js';
import { LineChain } from '../log/chain.js';
import { endOf, GENESIS, type LogPos, samePos, ZERO_HASH } from '../log/position.js';
import { isLogName, validateName } from '../names.js';
import type { ScanOptions } from '../store.js';
import { errnoCode } from './io.js';
import { lstatItem, openItem } from './safe-path.js';
import { encodeEntry, type Entry, fingerprint, sameDisk, sameDiskState } from './index-records.js';
import { isValidName, nullIfMissing, TEMP_PREFIX } from './store-helpers.js';
import type { StoreCtx } from './store-context.js';

const { O_RDONLY } = constants;

/** lstat calls a full scan has in flight at once. */
const SCAN_BATCH = 64;
/** Items a scan examines (opens, reads, hashes, journals) at once. */
const EXAMINE_CONCURRENCY = 8;

/** A file found by `walk`: its name in the folder, its absolute path, and whether it is a temp file of the store. */
export interface WalkedFile {
  readonly name: string;
  readonly abs: string;
  readonly temp: boolean;
}

/**
 * Scans `names`, or every item and any new file (the folder walked, or `walked`: the walk the
 * store's open made just before, when nothing has written since).
 */
export async function scan(ctx: StoreCtx, names?: readonly string[], opts: ScanOptions = {}, walked?: readonly WalkedFile[]): Promise<LocalChange[]> {
  const found = new Map<string, Stats | null | undefined>();
  // An ignored item is left as it is: not examined, and never reported deleted (an ignore
  // rule or a selective-sync change must not delete anything on other devices).
  if (names) {
    for (const name of names) if (!ctx.ignore(name)) found.set(name, await lstatForScan(ctx, name));
  } else {
    const files = (walked ?? (await walk(ctx))).filter((f) => !f.temp && isValidName(f.name));
    // lstat in batches, not one at a time: with a cold cache each waits on the disk (W4). A file
    // the index does not know is opened and stat'ed by `examine` anyway: no lstat before.
    for (let i = 0; i < files.length; i += SCAN_BATCH) {
      const batch = files.slice(i, i + SCAN_BATCH);
      const stats = await Promise.all(batch.map((f) => (ctx.index.entries.has(f.name) ? fsp.lstat(f.abs).catch(nullIfMissing) : undefined)));
      batch.forEach((f, j) => {
        const st = stats[j];
        found.set(f.name, st === undefined ? undefined : st?.isFile() ? st : null);
      });
    }
    for (const name of ctx.index.entries.keys()) if (!found.has(name) && !ctx.ignore(name)) found.set(name, null);
  }
  // Items examined several at once: one's reads and hashing overlap another's open, stat and
  // journal write (the index groups the writes made meanwhile into one fdatasync). Changes keep
  // the walk's order.
  const list = [...found];
  const results: Array<LocalChange | null> = new Array<LocalChange | null>(list.length).fill(null);
  let next = 0;
  let failure: { e: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (next < list.length && !failure) {
      const i = next++;
      const [name, st] = list[i]!;
      try {
        results[i] = await examine(ctx, name, st, opts.deep === true);
      } catch (e) {
        failure ??= { e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(EXAMINE_CONCURRENCY, list.length) }, worker));
  if (failure) throw (failure as { e: unknown }).e;
  return results.filter((c): c is LocalChange => c !== null);
}

/**
 * Compares one item's disk stat (null: absent; undefined: not taken, the item is opened to see)
 * with the index; records and returns the change.
 */
export async function examine(ctx: StoreCtx, name: string, st: Stats | null | undefined, deep: boolean): Promise<LocalChange | null> {
  const known = ctx.index.entries.get(name);
  if (!deep && st && known && sameDisk(fingerprint(st), known.disk)) return null;
  const fh = st !== null ? await openForScan(ctx, name) : null;
  if (!fh) {
    if (!known) return null;
    await ctx.index.persist([{ t: 'del', name }]);
    return { change: 'delete', state: { ...known.state, deleted: true, size: 0, lines: 0, hash: ZERO_HASH, mtimeMs: ctx.now() } };
  }
  try {
    const fst = await fh.stat();
    const disk = fingerprint(fst);
    // An append: same file, grown since last seen (a change that keeps the size is an edit),
    // and the bytes just before the known end unchanged.
    if (
      !deep &&
      known?.state.kind === 'log' &&
      disk.ino === known.disk.ino &&
      disk.dev === known.disk.dev &&
      disk.size > known.disk.size &&
      disk.size >= known.state.size &&
      (await ctx.reader.tailOf(fh, known.state.size)) === known.tail
    ) {
      return await readAppended(ctx, name, fh, known, fst);
    }
    return await rehash(ctx, name, fh, known, fst);
  } finally {
    await fh.close();
  }
}

/** A log that only grew: folds the bytes past its known end (a partial last line is held back). */
export async function readAppended(ctx: StoreCtx, name: string, fh: FileHandle, known: Entry, fst: Stats): Promise<LocalChange | null> {
  const chain = new LineChain(ctx.hasher, endOf(known.state), ctx.interval);
  await ctx.reader.readRange(fh, known.state.size, fst.size, (c) => chain.push(c));
  const grew = chain.pos.offset > known.state.size;
  const entry: Entry = grew
    ? {
        state: { ...known.state, size: chain.pos.offset, lines: chain.pos.line, hash: chain.pos.hash, mtimeMs: fst.mtimeMs, mode: fst.mode & 0o777 },
        disk: fingerprint(fst),
        tail: await ctx.reader.tailOf(fh, chain.pos.offset),
        checkpoints: [],
      }
    : { ...known, disk: fingerprint(fst) };
  await ctx.index.persist([{ t: 'add', name, e: encodeEntry(entry, chain.takeCheckpoints()) }]);
  return grew ? { change: 'append', state: entry.state } : null;
}

/** Hashes an item from scratch: `replace` unless the content is what the index already had. */
export async function rehash(ctx: StoreCtx, name: string, fh: FileHandle, known: Entry | undefined, fst: Stats): Promise<LocalChange | null> {
  let pos: LogPos;
  let checkpoints: LogPos[] = [];
  let tail = '';
  let appended = false;
  if (isLogName(name)) {
    const chain = new LineChain(ctx.hasher, GENESIS, ctx.interval);
    // A log that still holds its known content and only grew past it was appended to, not
    // rewritten, even when a deep scan reads it whole: a new epoch would make this device's
    // version dominate a peer's concurrent lines, which would then be replaced, not forked.
    const prefix = known?.state.kind === 'log' ? Math.min(known.state.size, fst.size) : 0;
    await ctx.reader.readRange(fh, 0, prefix, (c) => chain.push(c));
    if (known?.state.kind === 'log' && samePos(chain.pos, endOf(known.state))) appended = true;
    await ctx.reader.readRange(fh, prefix, fst.size, (c) => chain.push(c));
    pos = chain.pos;
    checkpoints = chain.takeCheckpoints();
    tail = await ctx.reader.tailOf(fh, pos.offset);
  } else {
    const sha = ctx.hasher.createSha256();
    const size = await ctx.reader.readRange(fh, 0, fst.size, (c) => sha.update(c));
    pos = { offset: size, line: 0, hash: sha.digest() };
  }
  const state: DiskState = { name, kind: isLogName(name) ? 'log' : 'file', deleted: false, size: pos.offset, lines: pos.line, hash: pos.hash, mtimeMs: fst.mtimeMs, mode: fst.mode & 0o777 };
  // A whole file whose mtime alone moved is a change, as in Syncthing: peers take the mtime
  // (a tool that writes and then sets the time would otherwise leave them with the first one).
  // A log's mtime follows its appends and is not a version of its own.
  const same = known !== undefined && sameDiskState(known.state, state) && (state.kind === 'log' || known.state.mtimeMs === state.mtimeMs);
  const entry: Entry = { state: same ? known.state : state, disk: fingerprint(fst), tail, checkpoints };
  await ctx.index.persist([{ t: 'set', name, e: encodeEntry(entry) }]);
  return same ? null : { change: appended && pos.offset > known!.state.size ? 'append' : 'replace', state };
}

/** lstat for a named scan: a symlink or non-file counts as absent (an invalid name is still refused). */
export async function lstatForScan(ctx: StoreCtx, name: string): Promise<Stats | null> {
  const st = await lstatItem(ctx.root, validateName(name)).catch((e: unknown) => {
    if (isRoamError(e, ErrorCodes.PATH_ESCAPE) || isRoamError(e, ErrorCodes.NAME_CLASH)) return null;
    throw e;
  });
  return st?.isFile() ? st : null;
}

/** Opens an item for reading, or null if it vanished or turned into a symlink or non-file meanwhile. */
export async function openForScan(ctx: StoreCtx, name: string): Promise<FileHandle | null> {
  return openItem(ctx.root, name, O_RDONLY, ctx.stats).catch((e: unknown) => {
    if (errnoCode(e) === 'ENOENT' || isRoamError(e, ErrorCodes.PATH_ESCAPE) || isRoamError(e, ErrorCodes.STORE_CONFLICT)) return null;
    throw e;
  });
}

/** Regular files under the root, without following symlinks, skipping ignored paths and the state dir. */
export async function walk(ctx: StoreCtx): Promise<WalkedFile[]> {
  type Found = WalkedFile;
  // Sub-directories are read side by side (a cold cache waits on each readdir; libuv's pool
  // bounds the I/O in flight), and the result keeps the order of a depth-first walk.
  const visit = async (dir: string, prefix: string): Promise<Found[]> => {
    const dirents = await fsp.readdir(dir, { withFileTypes: true }).catch((e: unknown) => {
      if (errnoCode(e) === 'ENOENT') return []; // removed meanwhile
      throw e;
    });
    const parts: Array<Found | Promise<Found[]>> = [];
    for (const d of dirents) {
      const name = prefix + d.name;
      const abs = path.join(dir, d.name);
      if (d.isFile() && d.name.startsWith(TEMP_PREFIX)) parts.push({ name, abs, temp: true });
      else if (abs === ctx.stateDir || ctx.ignore(name)) continue;
      else if (d.isDirectory()) parts.push(visit(abs, name + '/'));
      else if (d.isFile()) parts.push({ name, abs, temp: false });
    }
    const out: Found[] = [];
    for (const p of await Promise.all(parts)) {
      if (Array.isArray(p)) for (const f of p) out.push(f);
      else out.push(p);
    }
    return out;
  };
  return visit(ctx.root, '');
}
