/**
 * Serving a peer's want: a log streamed as runs of whole lines ending at known positions (or
 * hashed here when those are too far apart), a file in chunks; a serve the store refuses ends
 * that pull (`gone`), not the connection.
 */
import { concatBytes } from '../bytes.js';
import { ErrorCodes, isRoamError } from '../errors.js';
import type { ItemMeta } from '../items.js';
import { LineChain } from '../log/chain.js';
import type { Hasher } from '../log/hash.js';
import { GENESIS, endOf, samePos, type LogPos } from '../log/position.js';
import { MAX_CHECKPOINTS, MAX_DATA_BYTES, type Message } from '../protocol/index.js';
import type { Effect } from '../replication/effects.js';
import type { Replicator } from '../replication/replicator.js';
import { compareVersions } from '../replication/version.js';
import type { FolderStore } from '../store.js';

/** Longest run served between known positions without hashing (the receiver holds a run in memory). */
const MAX_KNOWN_RUN = 4 * MAX_DATA_BYTES;

/** What a serve reads and where it sends. */
export interface ServeCtx {
  readonly stores: ReadonlyMap<string, FolderStore>;
  readonly replicator: Replicator;
  readonly hasher: Hasher;
  /** Sends a message to the peer now (the serve runs on the peer's queue). */
  send(peer: string, msg: Message): Promise<void>;
  /** The serve could not go on: the replicator hears it as a new input. */
  serveFailed(peer: string, folder: string, wantId: number): void;
  log(line: string): void;
}

/**
 * Runs a serve. If the store refuses it because the item changed under it (removed or
 * rewritten before the replicator recorded that, or unreadable), that pull ends, not the
 * connection: the peer hears `gone` and decides again from our next record, and the item is
 * looked at again here. Closing the link for it dropped every message queued behind the serve,
 * the removal's own tombstone included.
 */
export async function serving(ctx: ServeCtx, peer: string, folder: string, name: string, wantId: number, job: () => Promise<void>): Promise<void> {
  try {
    await job();
  } catch (err) {
    if (!isRoamError(err) || (err.code !== ErrorCodes.STORE_CONFLICT && err.code !== ErrorCodes.STORE_IO)) throw err;
    ctx.log(`serving ${folder}/${name} to ${peer} stopped: ${err.code}: ${err.message}`);
    ctx.serveFailed(peer, folder, wantId);
    await ctx.send(peer, { t: 'gone', folder, name, wantId, reason: 'version' });
  }
}

/**
 * Streams complete lines of a log from `from` to `to`, as runs ending at known positions (see
 * `serveRuns`); a run longer than a frame travels as several chunks. Without known positions
 * close enough, a run is at most one frame of whole lines (a longer line: several chunks).
 */
export async function serveLog(ctx: ServeCtx, e: Extract<Effect, { t: 'serveLog' }>): Promise<void> {
  const store = ctx.stores.get(e.folder)!;
  const at = e.from.offset === 0 ? GENESIS : await store.positionAt(e.name, e.from.offset);
  if (!at || !samePos(at, e.from)) {
    ctx.serveFailed(e.peer, e.folder, e.wantId);
    const end = ctx.replicator.local(e.folder, e.name);
    const checkpoints = (await store.checkpoints(e.name)).slice(-MAX_CHECKPOINTS);
    await ctx.send(e.peer, {
      t: 'diverged', folder: e.folder, name: e.name, wantId: e.wantId, version: e.version, at,
      end: end ? endOf(end) : e.to, checkpoints,
    });
    return;
  }
  // Runs end where the position is already known, at the store's checkpoints and at `to`, so
  // serving hashes nothing (the receiver folds every byte against those ends anyway). Only if
  // those are too far apart to hold a run in the receiver's memory are lines hashed here.
  const cuts = (await store.checkpoints(e.name)).filter((cp) => cp.offset > e.from.offset && cp.offset < e.to.offset);
  cuts.push(e.to);
  if (cuts.every((cp, i) => cp.offset - (i === 0 ? e.from.offset : cuts[i - 1]!.offset) <= MAX_KNOWN_RUN)) {
    await serveRuns(ctx, e, cuts);
    return;
  }
  const chain = new LineChain(ctx.hasher, e.from, Number.MAX_SAFE_INTEGER);
  let runStart: LogPos = e.from;
  let chunk = 0;
  let carry = new Uint8Array(0);
  let offset = e.from.offset;
  while (offset < e.to.offset) {
    const cur = ctx.replicator.local(e.folder, e.name);
    if (!cur || cur.deleted || compareVersions(cur.version, e.version) !== 'equal' || cur.size < e.to.offset) return;
    const block = await store.read(e.name, offset, Math.min(MAX_DATA_BYTES - carry.length, e.to.offset - offset));
    if (block.length === 0) return;
    offset += block.length;
    chain.push(block);
    const data = carry.length ? concatBytes([carry, block]) : block;
    const cut = data.lastIndexOf(0x0a) + 1;
    const mtimeMs = cur.mtimeMs;
    if (cut === 0) {
      await ctx.send(e.peer, { t: 'logData', folder: e.folder, name: e.name, wantId: e.wantId, version: e.version, start: runStart, chunk: chunk++, data, end: null, mtimeMs });
      carry = new Uint8Array(0);
      continue;
    }
    await ctx.send(e.peer, { t: 'logData', folder: e.folder, name: e.name, wantId: e.wantId, version: e.version, start: runStart, chunk, data: data.subarray(0, cut), end: chain.pos, mtimeMs });
    runStart = chain.pos;
    chunk = 0;
    carry = data.slice(cut);
  }
}

/** Streams `from`..`to` as runs ending at `cuts` (known positions, ascending, the last one `to`). */
export async function serveRuns(ctx: ServeCtx, e: Extract<Effect, { t: 'serveLog' }>, cuts: readonly LogPos[]): Promise<void> {
  const store = ctx.stores.get(e.folder)!;
  let runStart: LogPos = e.from;
  let offset = e.from.offset;
  for (const cut of cuts) {
    let chunk = 0;
    while (offset < cut.offset) {
      const cur = ctx.replicator.local(e.folder, e.name);
      if (!cur || cur.deleted || compareVersions(cur.version, e.version) !== 'equal' || cur.size < e.to.offset) return;
      const data = await store.read(e.name, offset, Math.min(MAX_DATA_BYTES, cut.offset - offset));
      if (data.length === 0) return;
      offset += data.length;
      const end = offset === cut.offset ? cut : null;
      await ctx.send(e.peer, { t: 'logData', folder: e.folder, name: e.name, wantId: e.wantId, version: e.version, start: runStart, chunk: chunk++, data, end, mtimeMs: cur.mtimeMs });
    }
    runStart = cut;
  }
}

export async function serveFile(ctx: ServeCtx, peer: string, folder: string, wantId: number, meta: ItemMeta): Promise<void> {
  const store = ctx.stores.get(folder)!;
  let offset = 0;
  do {
    const cur = ctx.replicator.local(folder, meta.name);
    if (!cur || cur.deleted || compareVersions(cur.version, meta.version) !== 'equal') {
      await ctx.send(peer, { t: 'gone', folder, name: meta.name, wantId, reason: 'version' });
      return;
    }
    const data = await store.read(meta.name, offset, Math.min(MAX_DATA_BYTES, meta.size - offset));
    const done = offset + data.length >= meta.size || data.length === 0;
    await ctx.send(peer, {
      t: 'fileData', folder, name: meta.name, wantId, version: meta.version, offset, data, size: meta.size,
      hash: meta.hash, lines: 0, mtimeMs: meta.mtimeMs, mode: meta.mode, done,
    });
    offset += data.length;
    if (done) return;
  } while (offset < meta.size);
}
