/**
 * Serving peers: a `want` answered (a file served, a log subscribed), the growth of a log pushed
 * to its subscribers, and a new local record committed and announced to every open link.
 */
import { bytesEqual } from '../bytes.js';
import type { ItemMeta } from '../items.js';
import { endOf } from '../log/position.js';
import type { Message } from '../protocol/index.js';
import type { Effect } from './effects.js';
import { compareVersions } from './version.js';
import { type FolderState, key, type PeerLink, type ReplicatorState, type Sub } from './state.js';
import { persistFolder, persistLocal } from './persist.js';

export function onWant(st: ReplicatorState, s: PeerLink, msg: Extract<Message, { t: 'want' }>): Effect[] {
  const f = st.folders.get(msg.folder);
  const l = f?.local.get(msg.name);
  const gone = (reason: 'missing' | 'version' | 'deleted'): Effect[] => [
    { t: 'send', peer: s.peer, msg: { t: 'gone', folder: msg.folder, name: msg.name, wantId: msg.wantId, reason } },
  ];
  if (!f || !s.ready.has(f.cfg.id) || !l) return gone('missing');
  if (l.deleted) return gone('deleted');
  if (compareVersions(l.version, msg.version) !== 'equal' || l.kind !== msg.kind) return gone('version');
  if (l.kind === 'file') {
    if (!bytesEqual(l.hash, msg.hash)) return gone('version');
    return [{ t: 'serveFile', peer: s.peer, folder: f.cfg.id, wantId: msg.wantId, meta: l }];
  }
  const k = key(f.cfg.id, l.name);
  const list = (st.subs.get(k) ?? []).filter((x) => x.peer !== s.peer);
  const end = endOf(l);
  list.push({ peer: s.peer, wantId: msg.wantId, version: l.version, cursor: end });
  st.subs.set(k, list);
  return [{ t: 'serveLog', peer: s.peer, folder: f.cfg.id, name: l.name, wantId: msg.wantId, version: l.version, from: msg.from, to: end }];
}

/** Ends a subscription; returns the names of the items it was for. */
export function removeSub(st: ReplicatorState, peer: string, folder: string, wantId: number): string[] {
  const names: string[] = [];
  for (const [k, list] of st.subs) {
    if (!k.startsWith(`${folder}\u0000`)) continue;
    const rest = list.filter((x) => !(x.peer === peer && x.wantId === wantId));
    if (rest.length !== list.length) {
      names.push(k.slice(folder.length + 1));
      if (rest.length) st.subs.set(k, rest);
      else st.subs.delete(k);
    }
  }
  return names;
}

/** Push the growth of a log to its subscribers; end subscriptions of an older epoch. */
export function pushToSubs(st: ReplicatorState, f: FolderState, m: ItemMeta): Effect[] {
  const k = key(f.cfg.id, m.name);
  const list = st.subs.get(k);
  if (!list) return [];
  const out: Effect[] = [];
  const end = endOf(m);
  const keep: Sub[] = [];
  for (const sub of list) {
    if (m.deleted || m.kind !== 'log' || compareVersions(sub.version, m.version) !== 'equal') {
      out.push({ t: 'send', peer: sub.peer, msg: { t: 'gone', folder: f.cfg.id, name: m.name, wantId: sub.wantId, reason: m.deleted ? 'deleted' : 'version' } });
      continue;
    }
    if (end.offset > sub.cursor.offset) {
      out.push({ t: 'serveLog', peer: sub.peer, folder: f.cfg.id, name: m.name, wantId: sub.wantId, version: m.version, from: sub.cursor, to: end });
      sub.cursor = end;
    }
    keep.push(sub);
  }
  if (keep.length) st.subs.set(k, keep);
  else st.subs.delete(k);
  return out;
}

/** Record a new local state: next sequence number, persist, announce, push to subscribers. */
export function commitLocal(st: ReplicatorState, f: FolderState, m: ItemMeta): Effect[] {
  f.seq += 1;
  const rec: ItemMeta = { ...m, seq: f.seq };
  f.local.set(rec.name, rec);
  for (const peer of st.links.keys()) st.settled.delete(`${key(f.cfg.id, rec.name)}\u0000${peer}`);
  persistLocal(st, f, rec.name);
  persistFolder(st, f);
  const out: Effect[] = [];
  for (const s of st.links.values()) {
    if (s.phase === 'open' && s.ready.has(f.cfg.id)) {
      out.push({ t: 'send', peer: s.peer, msg: { t: 'index', folder: f.cfg.id, indexId: f.indexId, items: [rec], upTo: f.seq } });
    }
  }
  out.push(...pushToSubs(st, f, rec));
  return out;
}
