/**
 * Deciding what to pull: for one item, given what the connected peers hold, whether to fetch,
 * take a tombstone, check a position, or resolve a conflict.
 */
import { bytesEqual } from '../bytes.js';
import { diskStateOf, type ItemMeta, sameContent } from '../items.js';
import { endOf, type LogPos, relate, samePos } from '../log/position.js';
import type { Effect } from './effects.js';
import { bumpVersion, compareVersions, mergeVersions } from './version.js';
import { type Fetch, type FolderState, key, type ReplicatorState } from './state.js';
import { commitLocal } from './serving.js';
import { dropFetch, startFetch } from './fetch.js';
import { conflict, isSettled } from './conflicts.js';

/** Whether a peer's record holds what a log dropped here (a local delete) never had: a newer epoch, or more lines. */
export function grewElsewhere(dropped: ItemMeta, r: ItemMeta): boolean {
  const ord = compareVersions(dropped.version, r.version);
  return ord === 'lesser' || ((ord === 'equal' || ord === 'concurrent') && r.size > dropped.size);
}

/** Decide what to do about one item, given what the connected peers hold. */
export function evaluate(st: ReplicatorState, f: FolderState, name: string, now: number, prefix?: LogPos): Effect[] {
  const k = key(f.cfg.id, name);
  if (st.blocked.has(k) || st.opts.ignores?.(f.cfg.id, name)) return [];
  let active = st.fetches.get(k);
  // A log pulled whole (a new epoch, or a conflict's winner) is committed once its runs reach
  // the target's end. If the source has since put another log of the same version in its place
  // that does not reach that end (it lost a divergence within one epoch and took another
  // device's lines), no run will ever get there and the pull would wait for good: drop it and
  // decide again from what the source holds now.
  const stale = active?.mode === 'stage' && sourceReplaced(st, f, active) ? dropFetch(st, active, true) : null;
  if (stale) active = undefined;
  if (active && !(active.mode === 'append' && active.runStart === null)) return [];
  const peers = [...st.links.values()].filter((s) => s.phase === 'open' && s.ready.has(f.cfg.id)).map((s) => s.peer).sort();
  for (const peer of peers) {
    const r = f.peers.get(peer)?.items.get(name);
    if (!r || st.failed.get(`${k}\u0000${peer}`) === r.seq || isSettled(st, f, k, peer, r)) continue;
    if (active && r.size > active.expected.offset) {
      // Stay with the current source while it can give what this peer has more than us.
      const src = f.peers.get(active.peer)?.items.get(name) ?? active.target;
      if (compareVersions(src.version, r.version) === 'equal' && (peer === active.peer || src.size >= r.size)) continue;
    }
    if (prefix && samePos(prefix, endOf(r))) continue;
    const effects = judge(st, f, name, peer, r, now);
    if (effects.length) {
      if (active && st.fetches.get(k) === active) effects.unshift(...dropFetch(st, active, true));
      return stale ? [...stale, ...effects] : effects;
    }
  }
  return stale ?? [];
}

/** Whether the source of a whole-log pull now announces a log of the target's version that does not reach the target. */
export function sourceReplaced(st: ReplicatorState, f: FolderState, fe: Fetch): boolean {
  const src = f.peers.get(fe.peer)?.items.get(fe.name);
  const t = fe.target;
  if (!src || src.seq === t.seq || src.deleted || src.kind !== 'log' || compareVersions(src.version, t.version) !== 'equal') return false;
  return src.size < t.size || (src.size === t.size && !bytesEqual(src.hash, t.hash));
}

export function judge(st: ReplicatorState, f: FolderState, name: string, peer: string, r: ItemMeta, now: number): Effect[] {
  const l = f.local.get(name);
  if (!l) {
    if (r.deleted) {
      // A log dropped here (a local delete) that is now deleted everywhere: the tombstone replaces it.
      f.dropped.delete(name);
      return commitLocal(st, f, { ...r, seq: 0 });
    }
    const d = f.dropped.get(name);
    if (d && !grewElsewhere(d, r)) return [];
    return startFetch(st, f, peer, r, null);
  }
  const ord = compareVersions(l.version, r.version);
  if (ord === 'greater') return [];
  if (l.deleted && r.deleted) return ord === 'lesser' ? commitLocal(st, f, { ...r, seq: 0 }) : [];
  if (ord === 'lesser') {
    if (r.deleted) {
      // A modification beats a concurrent delete (as in Syncthing). Appends do not bump the
      // version, so for a log "concurrent" means: this log holds lines the deleted one did not.
      if (l.kind === 'log' && !l.deleted && (l.size > r.size || (l.size === r.size && !bytesEqual(l.hash, r.hash)))) {
        st.notes.push(`${f.cfg.id}/${name}: kept against a delete from ${r.modifiedBy}, which had not seen its last lines`);
        return commitLocal(st, f, { ...l, version: bumpVersion(mergeVersions(l.version, r.version), st.device), modifiedBy: st.device });
      }
      return [{ t: 'remove', folder: f.cfg.id, name, expected: diskStateOf(l) }];
    }
    if (l.deleted) return startFetch(st, f, peer, r, null);
    if (sameContent(l, r)) {
      // A newer record of the same bytes (a writer set the mtime after the content, say): the
      // file takes its mtime first, then its record; the record alone left the disk behind.
      if (r.mtimeMs !== l.mtimeMs) return [{ t: 'touch', folder: f.cfg.id, name, mtimeMs: r.mtimeMs, expected: diskStateOf(l) }];
      return commitLocal(st, f, { ...l, version: r.version, mtimeMs: r.mtimeMs, modifiedBy: r.modifiedBy });
    }
    return startFetch(st, f, peer, r, l);
  }
  // Equal or concurrent versions.
  if (l.deleted !== r.deleted) return l.deleted ? startFetch(st, f, peer, r, null) : [];
  // Identical content under concurrent versions is no conflict; both keep the newer mtime, as
  // Syncthing does. Versions are never merged: a merged vector would dominate a peer that kept
  // appending in the same epoch and read as a truncation there.
  if (sameContent(l, r)) return r.mtimeMs > l.mtimeMs ? [{ t: 'touch', folder: f.cfg.id, name, mtimeMs: r.mtimeMs, expected: diskStateOf(l) }] : [];
  if (l.kind === 'log') {
    switch (relate(endOf(l), endOf(r))) {
      case 'remote-longer':
        return startFetch(st, f, peer, r, l);
      case 'local-longer':
        // A peer pulling from us is catching up with our prefix; any other is checked.
        if ((st.subs.get(key(f.cfg.id, name)) ?? []).some((s) => s.peer === peer)) return [];
        return [{ t: 'positionAt', folder: f.cfg.id, name, offset: r.size, peer }];
      default:
        break; // divergent (equal content was handled above)
    }
  }
  return conflict(st, f, l, r, peer, now);
}

/**
 * A conflict found outside `evaluate`'s pass over the peers (a `diverged` answer, a position
 * checked): when ours wins, decide about the item with the remaining peers too, which that
 * pass stopped short of when it sent the question.
 */
export function conflictThenOthers(st: ReplicatorState, f: FolderState, l: ItemMeta, r: ItemMeta, peer: string, now: number): Effect[] {
  const out = conflict(st, f, l, r, peer, now);
  return out.length ? out : evaluate(st, f, l.name, now);
}

/**
 * Pulls that failed on a store I/O error (ENOSPC, EIO…) are not retried until the peer's record
 * changes, like any failed pull; the runner calls this later to try them again (the disk may
 * have room again).
 */
export function retryFailedIo(st: ReplicatorState, now: number): Effect[] {
  const items = new Set<string>();
  for (const fk of st.ioFailed) {
    st.failed.delete(fk);
    items.add(fk.slice(0, fk.lastIndexOf('\u0000')));
  }
  st.ioFailed.clear();
  const out: Effect[] = [];
  for (const k of items) {
    const cut = k.indexOf('\u0000');
    const f = st.folders.get(k.slice(0, cut));
    if (f) out.push(...evaluate(st, f, k.slice(cut + 1), now));
  }
  return out;
}

/** Decide about an item again (the runner asks after a deep scan that found nothing new). */
export function recheck(st: ReplicatorState, folder: string, name: string, now: number, unblock = false): Effect[] {
  const f = st.folders.get(folder);
  if (unblock) st.blocked.delete(key(folder, name)); // what held it is gone (a partial last line dropped)
  return f ? evaluate(st, f, name, now) : [];
}
