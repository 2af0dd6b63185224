/**
 * The replicator's persisted state: the records it marks dirty for `MetaStore.put` (its folders,
 * local records, dropped logs, peer views and their records) and their restore at start.
 */
import { fromHex, toHex } from '../bytes.js';
import type { ItemMeta } from '../items.js';
import { type FolderState, type ReplicatorState, view } from './state.js';

/**
 * The persisted peer view's format. 2: `maxSeq` only covers records received (before, an index
 * sent in several batches claimed its last sequence from the first batch on).
 */
const PEER_VIEW_FORMAT = 2;

export function persistFolder(st: ReplicatorState, f: FolderState): void {
  st.dirty.set(`f/${f.cfg.id}`, { indexId: f.indexId, seq: f.seq });
}

export function persistLocal(st: ReplicatorState, f: FolderState, name: string): void {
  const m = f.local.get(name);
  st.dirty.set(`l/${f.cfg.id}/${name}`, m ? metaToJson(m) : null);
  const d = f.dropped.get(name);
  st.dirty.set(`d/${f.cfg.id}/${name}`, d ? metaToJson(d) : null);
}

export function persistPeer(st: ReplicatorState, f: FolderState, peer: string, name?: string): void {
  const v = f.peers.get(peer);
  st.dirty.set(`p/${f.cfg.id}/${peer}`, v ? { indexId: v.indexId, maxSeq: v.maxSeq, format: PEER_VIEW_FORMAT } : null);
  if (name !== undefined) {
    const m = v?.items.get(name);
    st.dirty.set(`r/${f.cfg.id}/${peer}/${name}`, m ? metaToJson(m) : null);
  }
}

export function restore(st: ReplicatorState, saved: ReadonlyMap<string, unknown>): void {
  for (const [k, v] of saved) {
    const [kind, folder, ...rest] = k.split('/');
    const f = st.folders.get(folder ?? '');
    if (!f || v === null || v === undefined) continue;
    if (kind === 'f') {
      const s = v as { indexId: string; seq: number };
      f.indexId = s.indexId;
      f.seq = s.seq;
    } else if (kind === 'l') f.local.set(rest.join('/'), metaFromJson(v));
    else if (kind === 'd') f.dropped.set(rest.join('/'), metaFromJson(v));
    else if (kind === 'p') {
      const s = v as { indexId: string; maxSeq: number; format?: number };
      const pv = view(f, rest[0]!);
      pv.indexId = s.indexId;
      // A view written before PEER_VIEW_FORMAT 2 may claim records it never received: ask the
      // peer for its whole index once (the records themselves are kept and refreshed).
      pv.maxSeq = (s.format ?? 1) >= PEER_VIEW_FORMAT ? s.maxSeq : 0;
    } else if (kind === 'r') view(f, rest[0]!).items.set(rest.slice(1).join('/'), metaFromJson(v));
  }
}

interface MetaJson extends Omit<ItemMeta, 'hash'> {
  hash: string;
}

export function metaToJson(m: ItemMeta): MetaJson {
  return { ...m, hash: toHex(m.hash) };
}

export function metaFromJson(v: unknown): ItemMeta {
  const j = v as MetaJson;
  return { ...j, hash: fromHex(j.hash) };
}
