/**
 * Pulls: one fetch per item at a time, started from our end of a log (append) or from the
 * beginning (a new epoch staged beside ours, a file, a conflict's winner), and dropped.
 */
import { diskStateOf, type ItemMeta } from '../items.js';
import { endOf, GENESIS } from '../log/position.js';
import type { Effect } from './effects.js';
import { type Fetch, type FolderState, key, type ReplicatorState } from './state.js';

export function startFetch(st: ReplicatorState, f: FolderState, peer: string, r: ItemMeta, l: ItemMeta | null): Effect[] {
  const k = key(f.cfg.id, r.name);
  const wantId = st.nextWantId++;
  const live = l && !l.deleted ? l : null;
  const from = r.kind === 'log' && live ? endOf(live) : GENESIS;
  const fe: Fetch = {
    wantId, peer, folder: f.cfg.id, name: r.name, target: r,
    mode: r.kind === 'file' ? 'file' : 'append',
    expected: from, runStart: null, parts: [], partBytes: 0, nextChunk: 0,
    replaces: live ? diskStateOf(live) : null, staged: false,
  };
  st.fetches.set(k, fe);
  if (r.kind === 'log' && r.size === 0) return commitEmpty(st, f, fe);
  return [{ t: 'send', peer, msg: { t: 'want', folder: f.cfg.id, name: r.name, wantId, version: r.version, kind: r.kind, from, hash: r.hash } }];
}

/** Pulls `r` whole and puts it in place of `l` (the loser of a conflict, already copied aside). */
export function replaceWith(st: ReplicatorState, f: FolderState, peer: string, r: ItemMeta, l: ItemMeta): Effect[] {
  if (!st.links.has(peer)) return [];
  const k = key(f.cfg.id, r.name);
  const wantId = st.nextWantId++;
  const fe: Fetch = {
    wantId, peer, folder: f.cfg.id, name: r.name, target: r,
    mode: r.kind === 'file' ? 'file' : 'stage',
    expected: GENESIS, runStart: null, parts: [], partBytes: 0, nextChunk: 0,
    replaces: diskStateOf(l), staged: false,
  };
  st.fetches.set(k, fe);
  if (r.kind === 'log' && r.size === 0) return commitEmpty(st, f, fe);
  return [{ t: 'send', peer, msg: { t: 'want', folder: f.cfg.id, name: r.name, wantId, version: r.version, kind: r.kind, from: GENESIS, hash: r.hash } }];
}

/** An empty log (new, or truncated to zero) has no lines to pull: write it as it is. */
export function commitEmpty(st: ReplicatorState, f: FolderState, fe: Fetch): Effect[] {
  const r = fe.target;
  st.fetches.set(key(f.cfg.id, r.name), { ...fe, mode: 'file' });
  return [{ t: 'stageCommit', folder: f.cfg.id, name: r.name, target: { kind: 'log', size: 0, lines: 0, hash: r.hash, mtimeMs: r.mtimeMs, mode: r.mode }, expected: fe.replaces }];
}

export function dropFetch(st: ReplicatorState, fe: Fetch, cancel: boolean): Effect[] {
  st.fetches.delete(key(fe.folder, fe.name));
  const out: Effect[] = [];
  if (cancel && st.links.has(fe.peer)) out.push({ t: 'send', peer: fe.peer, msg: { t: 'cancel', folder: fe.folder, wantId: fe.wantId } });
  if (fe.staged) out.push({ t: 'stageAbort', folder: fe.folder, name: fe.name });
  return out;
}

export function fetchFor(st: ReplicatorState, peer: string, folder: string, name: string, wantId: number): Fetch | undefined {
  const fe = st.fetches.get(key(folder, name));
  return fe && fe.peer === peer && fe.wantId === wantId ? fe : undefined;
}
