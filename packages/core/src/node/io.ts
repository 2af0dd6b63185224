/** Small file-system helpers shared by the node store. */
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { concatBytes } from '../bytes.js';
import { ErrorCodes, RoamError, isRoamError } from '../errors.js';

/** Counts fsync/fdatasync calls (the store's `stats`). */
export interface SyncCounter {
  fsyncs: number;
}

/** Writes every byte of `data`: at the handle's position (appends for O_APPEND handles), or from `position`. */
export async function writeAll(fh: FileHandle, data: Uint8Array, position: number | null = null): Promise<void> {
  for (let at = 0; at < data.length; ) {
    const { bytesWritten } = await fh.write(data, at, data.length - at, position === null ? null : position + at);
    at += bytesWritten;
  }
}

/** fsyncs a directory so that a create, rename or unlink inside it is durable. */
export async function syncDir(dir: string, counter: SyncCounter): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
    counter.fsyncs++;
  } finally {
    await fh.close();
  }
}

/** The errno code of a node fs error, if any. */
export function errnoCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

/** Lets RoamErrors through; wraps anything else as ROAM_STORE_IO. */
export function asRoamError(e: unknown): RoamError {
  if (isRoamError(e)) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new RoamError(ErrorCodes.STORE_IO, `store I/O failed: ${message}`, { code: errnoCode(e) }, { cause: e });
}

/**
 * An error of a write to the state directory (the index journal): a full disk or quota says
 * which directory is full and what stops until space is freed there; anything else as it is.
 */
export function stateDirFull(e: unknown, dir: string): unknown {
  const code = errnoCode(e);
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return e;
  return new RoamError(
    ErrorCodes.STORE_IO,
    `store I/O failed: the state directory ${dir} is full (${code}: no space left on device): what arrives is not written until space is freed there; nothing recorded is lost`,
    { code, dir },
    { cause: e },
  );
}

/**
 * Throws ENOSPC (as a store I/O error) when the file system holding `dir` has less than `bytes`
 * (plus a block) free for this user. Best effort: another writer may take the space meanwhile,
 * and the write itself still fails cleanly then; when the space is unknown, nothing is said.
 */
export async function checkRoom(dir: string, bytes: number): Promise<void> {
  let free: number;
  let block: number;
  try {
    const st = await fsp.statfs(dir);
    if (!(st.blocks > 0 && st.bsize > 0)) return; // a file system that does not say (some FUSE ones)
    free = st.bavail * st.bsize;
    block = st.bsize;
  } catch {
    return;
  }
  if (free < bytes + block) {
    throw new RoamError(ErrorCodes.STORE_IO, `store I/O failed: ENOSPC: no space left on device (${bytes} bytes to write, ${free} free)`, { code: 'ENOSPC' });
  }
}

/**
 * Appends a batch at the end of an O_APPEND handle. A short write (the disk filled up midway)
 * goes on with the rest, which fails with the real cause (ENOSPC…) for the log to name.
 * `midway` (fault injection for tests) runs when about half the batch is written and synced,
 * cut inside a line, before the rest is written: a crash there leaves a partial batch on disk.
 */
export async function appendBatch(fh: FileHandle, data: readonly Uint8Array[], total: number, midway?: () => Promise<void>): Promise<void> {
  if (total === 0) return;
  if (midway) {
    const all = concatBytes(data);
    let cut = Math.max(1, Math.floor(total / 2));
    while (cut > 1 && all[cut - 1] === 0x0a) cut--;
    await writeAll(fh, all.subarray(0, cut));
    await fh.sync();
    await midway();
    await writeAll(fh, all.subarray(cut));
    return;
  }
  const wrote = (await fh.writev(data as Uint8Array[])).bytesWritten;
  if (wrote !== total) await writeAll(fh, concatBytes(data).subarray(wrote));
}
