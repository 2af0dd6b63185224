/**
 * Index exchange (docs/PROTOCOL.md): hello, the folders each side holds, and the index entries
 * the other has not seen, in batches, then live updates.
 */
import { IgnoreRules, parseRules } from '../ignore.js';
import { isLogName } from '../names.js';
import { DECLINED_INDEX_ID, FOLDER_ID_RE, isDeclined, MAX_IGNORE_LINE, MAX_IGNORE_LINES, MAX_INDEX_ITEMS, type Message, MIN_PROTOCOL_VERSION, negotiate, PROTOCOL_VERSION } from '../protocol/index.js';
import type { Effect } from './effects.js';
import { type FolderEntry, key, type PeerLink, type ReplicatorState, view } from './state.js';
import { persistPeer } from './persist.js';
import { evaluate } from './need.js';

export function violation(st: ReplicatorState, peer: string, why: string, code = 'ROAM_PROTOCOL_VIOLATION'): Effect[] {
  st.notes.push(`closing session with ${peer}: ${why}`);
  return [
    { t: 'send', peer, msg: { t: 'error', code, message: why.slice(0, 1000) } },
    { t: 'close', peer, reason: why },
  ];
}

export function onHello(st: ReplicatorState, s: PeerLink, msg: Extract<Message, { t: 'hello' }>): Effect[] {
  if (msg.device !== s.peer) return violation(st, s.peer, `hello names device ${msg.device}, the link is with ${s.peer}`);
  negotiate({ protocol: PROTOCOL_VERSION, minProtocol: MIN_PROTOCOL_VERSION }, msg);
  s.phase = 'open';
  s.name = msg.name;
  return [foldersMessage(st, s.peer)];
}

export function foldersMessage(st: ReplicatorState, peer: string): Effect {
  const folders = [...st.folders.values()].map((f) => {
    const v = f.peers.get(peer);
    const only = st.opts.only?.(f.cfg.id) ?? null;
    const ignore = (st.opts.ignoreLines?.(f.cfg.id) ?? []).filter((l) => l.length <= MAX_IGNORE_LINE).slice(0, MAX_IGNORE_LINES);
    return { id: f.cfg.id, indexId: f.indexId, seq: f.seq, only: only ? [...only] : null, ignore, seenIndexId: v?.indexId ?? '', seenSeq: v?.maxSeq ?? 0 };
  });
  // Opted out here: announced with the declined index id and an empty selection (docs/PROTOCOL.md §4).
  for (const id of st.opts.declined?.() ?? []) if (!st.folders.has(id) && FOLDER_ID_RE.test(id)) folders.push({ id, indexId: DECLINED_INDEX_ID, seq: 0, only: [], ignore: [], seenIndexId: '', seenSeq: 0 });
  return { t: 'send', peer, msg: { t: 'folders', folders } };
}

/**
 * Tells every connected peer this device's folder state again (after its selective sync
 * changed). A peer answers with the index entries we have not seen, usually none.
 */
export function announceFolders(st: ReplicatorState, now: number): Effect[] {
  const out: Effect[] = [];
  for (const s of st.links.values()) if (s.phase === 'open') out.push(foldersMessage(st, s.peer));
  // Items a new selection includes may already be on peers: decide about them again.
  for (const f of st.folders.values()) for (const v of f.peers.values()) for (const name of v.items.keys()) out.push(...evaluate(st, f, name, now));
  return out;
}

export function onFolders(st: ReplicatorState, s: PeerLink, msg: Extract<Message, { t: 'folders' }>, now: number): Effect[] {
  s.announced = new Map(msg.folders.map((e) => [e.id, e]));
  return msg.folders.flatMap((entry) => onFolderEntry(st, s, entry, now));
}

export function onFolderEntry(st: ReplicatorState, s: PeerLink, entry: FolderEntry, now: number): Effect[] {
  const out: Effect[] = [];
  const f = st.folders.get(entry.id);
  if (f) {
    const v = view(f, s.peer);
    if (v.indexId !== entry.indexId) {
      // The peer's index is new to us (first contact, or its database was reset): forget the old one.
      for (const name of v.items.keys()) st.dirty.set(`r/${f.cfg.id}/${s.peer}/${name}`, null);
      v.items.clear();
      v.indexId = entry.indexId;
      v.maxSeq = 0;
      persistPeer(st, f, s.peer);
    }
    v.announcedSeq = entry.seq;
    v.skips = entry.only || entry.ignore.length ? new IgnoreRules(parseRules(entry.ignore), entry.only) : null;
    const since = entry.seenIndexId === f.indexId ? entry.seenSeq : 0;
    // A peer that declined the folder holds none of it: it gets no index.
    const items = isDeclined(entry) ? [] : [...f.local.values()].filter((m) => m.seq > since).sort((a, b) => a.seq - b.seq);
    for (let i = 0; i < items.length || i === 0; i += MAX_INDEX_ITEMS) {
      const batch = items.slice(i, i + MAX_INDEX_ITEMS);
      // `upTo` promises the peer every record up to it: only the last batch may claim f.seq. An
      // earlier batch claims its own last record, so a stream lost between batches makes the
      // peer ask again from there (it used to claim f.seq at once, and the rest never came).
      const last = i + MAX_INDEX_ITEMS >= items.length;
      out.push({ t: 'send', peer: s.peer, msg: { t: 'index', folder: f.cfg.id, indexId: f.indexId, items: batch, upTo: last ? f.seq : batch[batch.length - 1]!.seq } });
    }
    s.ready.add(f.cfg.id);
    for (const name of v.items.keys()) out.push(...evaluate(st, f, name, now));
  }
  return out;
}

export function onIndex(st: ReplicatorState, s: PeerLink, msg: Extract<Message, { t: 'index' }>, now: number): Effect[] {
  const f = st.folders.get(msg.folder);
  if (!f || !s.ready.has(f.cfg.id)) return [];
  const v = view(f, s.peer);
  if (msg.indexId !== v.indexId) return violation(st, s.peer, `index id ${msg.indexId} does not match announced ${v.indexId}`);
  const out: Effect[] = [];
  for (const item of msg.items) {
    if ((item.kind === 'log') !== isLogName(item.name)) return violation(st, s.peer, `item ${item.name} has kind ${item.kind}`);
    v.items.set(item.name, item);
    st.settled.delete(`${key(f.cfg.id, item.name)}\u0000${s.peer}`);
    v.maxSeq = Math.max(v.maxSeq, item.seq);
    st.failed.delete(`${key(f.cfg.id, item.name)}\u0000${s.peer}`);
    persistPeer(st, f, s.peer, item.name);
  }
  v.maxSeq = Math.max(v.maxSeq, msg.upTo);
  persistPeer(st, f, s.peer);
  for (const item of msg.items) out.push(...evaluate(st, f, item.name, now));
  return out;
}
