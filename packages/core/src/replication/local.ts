/**
 * Local changes: what the store found on disk recorded as this device's records, and `roam rm`
 * (a delete on every device).
 */
import { diskStateOf, type ItemMeta, type LocalChange } from '../items.js';
import { endOf, ZERO_HASH } from '../log/position.js';
import type { Effect } from './effects.js';
import { bumpVersion, EMPTY_VERSION, mergeVersions } from './version.js';
import { type FolderState, key, type ReplicatorState } from './state.js';
import { persistLocal } from './persist.js';
import { commitLocal, pushToSubs } from './serving.js';
import { dropFetch } from './fetch.js';
import { evaluate } from './need.js';

/** Changes the store found on disk (a tool wrote, or the daemon was down). */
export function localChanges(st: ReplicatorState, folder: string, changes: readonly LocalChange[], now: number): Effect[] {
  const f = st.folders.get(folder);
  if (!f) return [];
  const out: Effect[] = [];
  for (const c of changes) out.push(...localChange(st, f, c, now));
  return out;
}

export function localChange(st: ReplicatorState, f: FolderState, c: LocalChange, now: number): Effect[] {
  // Any change in the folder may have cleared what blocked an item (its own write completed,
  // or the name its conflict copy needed was found taken): try those again afterwards.
  const retry = [...st.blocked].filter((b) => b.startsWith(`${f.cfg.id}\u0000`));
  for (const b of retry) st.blocked.delete(b);
  const out = recordLocal(st, f, c, now);
  for (const b of retry) if (b !== key(f.cfg.id, c.state.name)) out.push(...evaluate(st, f, b.slice(f.cfg.id.length + 1), now));
  return out;
}

export function recordLocal(st: ReplicatorState, f: FolderState, c: LocalChange, now: number): Effect[] {
  const name = c.state.name;
  const k = key(f.cfg.id, name);
  const l = f.local.get(name);
  const out: Effect[] = [];
  // A pull in progress expected the old content: drop it and decide again once this is recorded.
  const fe = st.fetches.get(k);
  if (fe) out.push(...dropFetch(st, fe, true));
  let next: ItemMeta;
  if (c.change === 'append' && l && !l.deleted && l.kind === 'log') {
    next = { ...c.state, version: l.version, seq: l.seq, modifiedBy: st.device };
  } else if (c.change === 'delete' || c.state.deleted) {
    if (!l || l.deleted) return out;
    if (l.kind === 'log' && f.cfg.logDeletes === 'local') {
      f.dropped.set(name, l);
      f.local.delete(name);
      persistLocal(st, f, name);
      return [...out, ...pushToSubs(st, f, { ...l, deleted: true })];
    }
    // A log's tombstone keeps the position it deleted, so a peer can tell lines it appended
    // meanwhile (which the delete never saw, and which win over it) from lines it merely had.
    const at = l.kind === 'log' ? { size: l.size, lines: l.lines, hash: l.hash } : { size: 0, lines: 0, hash: ZERO_HASH };
    next = { ...l, ...at, deleted: true, mtimeMs: now, version: bumpVersion(l.version, st.device), seq: l.seq, modifiedBy: st.device };
  } else {
    next = { ...c.state, version: bumpVersion(l?.version ?? f.dropped.get(name)?.version ?? EMPTY_VERSION, st.device), seq: 0, modifiedBy: st.device };
    f.dropped.delete(name);
  }
  out.push(...commitLocal(st, f, next));
  // A local change may diverge from what peers hold: decide again. After an append, a peer at
  // our previous end is known to hold our prefix and needs no check.
  const before = c.change === 'append' && l ? endOf(l) : undefined;
  out.push(...evaluate(st, f, name, now, before));
  return out;
}

/**
 * `roam rm`: delete an item on every device, even a log in a folder whose local deletes stay
 * local. A live item here is moved to the trash by a `remove` effect and its tombstone committed
 * once that is done; an item only peers hold gets its tombstone at once. The tombstone's version
 * dominates every version this device knows of the item, and a log's tombstone keeps the
 * position deleted (ours, or the longest a peer announced), so a device holding lines the delete
 * never saw keeps them and announces them again: a modification beats a concurrent delete.
 * Returns no effects when no device is known to hold the item.
 */
export function removeEverywhere(st: ReplicatorState, folder: string, name: string, now: number): Effect[] {
  const f = st.folders.get(folder);
  if (!f) return [];
  const k = key(f.cfg.id, name);
  const out: Effect[] = [];
  const fe = st.fetches.get(k);
  if (fe) out.push(...dropFetch(st, fe, true));
  st.replacing.delete(k);
  const l = f.local.get(name);
  if (l && !l.deleted) {
    st.removing.add(k);
    return [...out, { t: 'remove', folder: f.cfg.id, name, expected: diskStateOf(l) }];
  }
  return [...out, ...commitRemoval(st, f, name, now)];
}

/** The tombstone of `removeEverywhere` (see there); nothing when no device holds the item. */
export function commitRemoval(st: ReplicatorState, f: FolderState, name: string, now: number): Effect[] {
  const l = f.local.get(name);
  const known: ItemMeta[] = [];
  if (l) known.push(l);
  const d = f.dropped.get(name);
  if (d) known.push(d);
  for (const v of f.peers.values()) {
    const r = v.items.get(name);
    if (r) known.push(r);
  }
  const live = known.filter((m) => !m.deleted);
  if (!live.length) return [];
  const base = l && !l.deleted ? l : live.reduce((a, b) => (b.size > a.size ? b : a));
  let version = EMPTY_VERSION;
  for (const m of known) version = mergeVersions(version, m.version);
  const at = base.kind === 'log' ? { size: base.size, lines: base.lines, hash: base.hash } : { size: 0, lines: 0, hash: ZERO_HASH };
  f.dropped.delete(name);
  st.notes.push(`${f.cfg.id}/${name}: removed on every device (roam rm)`);
  return commitLocal(st, f, { ...base, ...at, name, deleted: true, mtimeMs: now, version: bumpVersion(version, st.device), seq: 0, modifiedBy: st.device });
}
