/**
 * A line log's held-back partial last line in the file store: found by stat, and dropped into the
 * trash when nobody completes it (the rule is in docs/PROTOCOL.md, "Partial last lines"; the
 * engine decides when, `FsFolderStore.dropPartialTail` calls `cutPartialTail`).
 */
import { constants, promises as fsp, type Stats } from 'node:fs';
import * as path from 'node:path';
import { ErrorCodes, RoamError } from '../errors.js';
import type { DiskState } from '../items.js';
import { validateName } from '../names.js';
import type { PartialTail } from '../store.js';
import type { FsStoreStats } from './stats.js';
import { syncDir, writeAll } from './io.js';
import { openItem } from './safe-path.js';

/** A dropped partial line sits in the trash as `<name>.partial`: restored, it lands beside the log, not over it. */
export const PARTIAL_SUFFIX = '.partial';

/** The trash name of `name`'s dropped partial line (`name` itself if the suffix would make it too long). */
export function partialTrashName(name: string): string {
  try {
    return validateName(`${name}${PARTIAL_SUFFIX}`);
  } catch {
    return name;
  }
}

/** What a stat of a log shows past its known end `state`, when it is the same file (`ino`, `dev`). */
export function partialTailOf(state: DiskState, st: Stats | null, disk: { readonly ino: number; readonly dev: number }): PartialTail | null {
  if (state.kind !== 'log' || state.deleted || !st?.isFile() || st.ino !== disk.ino || st.dev !== disk.dev || st.size <= state.size) return null;
  return { bytes: st.size - state.size, mtimeMs: st.mtimeMs };
}

/**
 * Copies the bytes of the log past `state.size` to `trashFile` (fsynced, with its directory),
 * then cuts the log back to `state.size`, fsyncs it and sets its mtime back to `state.mtimeMs`.
 * Nothing is done unless the file is still exactly `disk`, the stat the store's last scan saw
 * (that scan found no `\n` past `state.size`), and `tail` describes it. Returns the stat after.
 *
 * A crash after the copy leaves the log as it was (the next drop copies again); a crash after the
 * cut leaves a log whose stat the index does not know: the next scan re-reads it and finds the
 * same complete lines, no change.
 */
export async function cutPartialTail(
  root: string,
  name: string,
  state: DiskState,
  disk: { readonly ino: number; readonly dev: number; readonly size: number; readonly mtimeMs: number },
  tail: PartialTail,
  trashFile: string,
  stats: FsStoreStats,
): Promise<Stats> {
  const changed = () => new RoamError(ErrorCodes.STORE_CONFLICT, `${name}: changed on disk (its partial last line is being written)`, { name });
  if (disk.size !== state.size + tail.bytes || disk.mtimeMs !== tail.mtimeMs) throw changed();
  const fh = await openItem(root, name, constants.O_RDWR, stats);
  try {
    const st = await fh.stat();
    if (st.ino !== disk.ino || st.dev !== disk.dev || st.size !== disk.size || st.mtimeMs !== disk.mtimeMs) throw changed();
    await fsp.mkdir(path.dirname(trashFile), { recursive: true });
    const out = await fsp.open(trashFile, 'wx', 0o600);
    try {
      const buf = new Uint8Array(Math.min(tail.bytes, 1 << 20));
      for (let at = state.size; at < disk.size; ) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, disk.size - at), at);
        if (bytesRead === 0) throw changed();
        await writeAll(out, buf.subarray(0, bytesRead));
        stats.bytesRead += bytesRead;
        at += bytesRead;
      }
      await out.sync();
      stats.fsyncs++;
    } finally {
      await out.close();
    }
    await syncDir(path.dirname(trashFile), stats);
    // Once more right before the cut: a writer that came back meanwhile keeps its bytes.
    const again = await fh.stat();
    if (again.size !== disk.size || again.mtimeMs !== disk.mtimeMs) {
      await fsp.rm(trashFile, { force: true });
      throw changed();
    }
    await fh.truncate(state.size);
    await fh.sync();
    stats.fsyncs++;
    await fh.utimes(state.mtimeMs / 1000, state.mtimeMs / 1000);
    return await fh.stat();
  } finally {
    await fh.close();
  }
}
