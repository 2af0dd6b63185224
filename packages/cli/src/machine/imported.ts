/**
 * `roam import` writes a whole session at once; roamd must not take that for a tool writing it
 * (a session whose log grew here is leased for a while, and `roam rm` / `roam resume` elsewhere
 * refuse a leased session). The import notes each transcript it is about to write in
 * `<state>/imported.json` (session id, size, when); roamd does not lease a change of that session
 * at that size, made within IMPORT_WINDOW_MS of the note. A line the tool appends afterwards
 * changes the size, and leases as usual.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const IMPORT_WINDOW_MS = 120_000;

interface Note {
  readonly session: string;
  readonly size: number;
  readonly at: number;
}

function file(stateDir: string): string {
  return join(stateDir, 'imported.json');
}

function read(stateDir: string): Note[] {
  try {
    const v = JSON.parse(readFileSync(file(stateDir), 'utf8')) as unknown;
    return Array.isArray(v) ? v.filter((n): n is Note => !!n && typeof n.session === 'string' && typeof n.size === 'number' && typeof n.at === 'number') : [];
  } catch {
    return [];
  }
}

/** Notes a transcript `roam import` is about to write (kept with the notes still in their window). */
export function noteImport(stateDir: string, session: string, size: number, now = Date.now()): void {
  const notes = [...read(stateDir).filter((n) => now - n.at < IMPORT_WINDOW_MS), { session, size, at: now }];
  const f = file(stateDir);
  mkdirSync(dirname(f), { recursive: true, mode: 0o700 });
  const tmp = `${f}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(notes), { mode: 0o600 });
  renameSync(tmp, f);
}

/** roamd's side: whether a change of `session` to `size` bytes is an import's own write. Re-reads the notes only when their file changed. */
export function importedWrites(stateDir: string): (session: string, size: number, now?: number) => boolean {
  let seen = -1;
  let notes: Note[] = [];
  return (session, size, now = Date.now()) => {
    let mtime: number;
    try {
      mtime = statSync(file(stateDir)).mtimeMs;
    } catch {
      return false;
    }
    if (mtime !== seen) {
      seen = mtime;
      notes = read(stateDir);
    }
    return notes.some((n) => n.session === session && n.size === size && now - n.at < IMPORT_WINDOW_MS);
  };
}
