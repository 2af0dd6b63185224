/**
 * `roam restore [<entry|session>] [--list] [--json]`: what roam removed or replaced, back.
 *
 * The list is read from the trash on disk when roamd is not running. Every device keeps what roam deletes (`roam rm`, a delete from another device) or replaces (a
 * lost conflict, a newer epoch) in its trash for 30 days. Without an argument (or with --list) this
 * lists the trash, newest first, with the id of each entry. Given an entry id it puts that file
 * back; given a session id (or a unique prefix) it puts back the newest copy of each of the
 * session's files. A restored file is a new change here, so it reaches the other devices again.
 *
 * Nothing is ever restored over an existing file: a single entry whose name is taken is refused
 * (ROAM_STORE_CONFLICT: move the file away first); of a session's files, those that exist are left
 * in the trash and reported.
 */
import type { Io } from '../io.js';
import { call } from '../control/client.js';
import { roamPaths } from '../machine/paths.js';
import type { TrashView } from '../control/results.js';
import { TRASH_DAYS } from '../machine/trash.js';
import { OFFLINE_NOTE, localTrash, orOffline } from './helpers/local-state.js';
import { relativeTime } from '../sessions/index.js';
import { displayWire } from './helpers/wire-display.js';
import { wireProjects } from '../tools/registry.js';

export async function restore(ref: string | undefined, opts: { list?: boolean; json?: boolean }, io: Io): Promise<void> {
  const socket = roamPaths().socket;
  if (ref === undefined || opts.list) {
    // The trash is files under the state directory: listed without roamd too (restoring needs it).
    const { value: r, live } = await orOffline(() => call(socket, 'trash'), () => ({ entries: localTrash(), keepDays: TRASH_DAYS }));
    if (!live) io.err(`roam: ${OFFLINE_NOTE}; \`roam restore <id>\` needs it running`);
    const entries = ref === undefined ? r.entries : r.entries.filter((e) => e.id === ref || e.session?.startsWith(ref));
    if (opts.json) {
      io.out(JSON.stringify(entries, null, 2));
      return;
    }
    if (!entries.length) {
      io.out(`the trash is empty (roam keeps what it removes or replaces for ${r.keepDays} days)`);
      return;
    }
    for (const e of entries) io.out(line(e));
    io.out(`roam restore <id> puts one file back; roam restore <session id> every file of a session (kept ${r.keepDays} days)`);
    return;
  }
  const r = await call(socket, 'restore', { ref });
  if (opts.json) {
    io.out(JSON.stringify(r, null, 2));
    return;
  }
  io.out(`restored ${r.restored.length} file(s); the other devices get them as a new change`);
  for (const e of r.restored) io.out(`  ${e.path}`);
  for (const e of r.skipped) io.out(`  left in the trash (${e.path} exists): ${e.id}`);
}

function line(e: TrashView): string {
  const name = wireProjects(e.folder) ? displayWire(e.name.split('/')[0]!) + e.name.slice(e.name.indexOf('/')) : e.name;
  return `${e.id}  ${relativeTime(e.deletedAt).padEnd(11)}  ${e.folder.padEnd(7)}  ${size(e.size).padStart(8)}  ${name}`;
}

function size(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
