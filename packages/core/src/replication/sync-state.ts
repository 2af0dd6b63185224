/**
 * How this device stands with a connected peer, per folder (`roam status`, the tests' convergence).
 */
import { type ItemMeta, sameContent } from '../items.js';
import { compareVersions } from './version.js';
import type { ReplicatorState } from './state.js';
import { grewElsewhere } from './need.js';

export interface SyncState {
  readonly folder: string;
  readonly peer: string;
  /** Every index entry the peer had when the link opened has arrived. */
  readonly indexComplete: boolean;
  /** What this device lacks of the peer's items. */
  readonly need: { readonly items: number; readonly bytes: number };
  /** What the peer lacks of this device's items, as far as its index tells. */
  readonly peerNeeds: { readonly items: number; readonly bytes: number };
  /** The peer's items this device skips: its ignore rules or selective sync, and its local deletes. */
  readonly skipped: { readonly ignored: number; readonly deletedHere: number };
  readonly inSync: boolean;
}

/**
 * How this device stands with a connected peer, per folder: whether the peer's whole index has
 * arrived, what this device still lacks of the peer's items, and what the peer lacks of ours.
 * In sync means: index complete, nothing lacking either way, nothing being pulled from it.
 */
export function syncState(st: ReplicatorState, peer: string): SyncState[] {
  const out: SyncState[] = [];
  const link = st.links.get(peer);
  for (const f of st.folders.values()) {
    const v = f.peers.get(peer);
    const need = { items: 0, bytes: 0 };
    const peerNeeds = { items: 0, bytes: 0 };
    const skipped = { ignored: 0, deletedHere: 0 };
    const ignored = (name: string) => st.opts.ignores?.(f.cfg.id, name) === true;
    for (const r of v?.items.values() ?? []) {
      if (ignored(r.name)) {
        if (!r.deleted) skipped.ignored++;
        continue;
      }
      const l = f.local.get(r.name);
      const d = f.dropped.get(r.name);
      if (!l && d && !r.deleted && !grewElsewhere(d, r)) {
        skipped.deletedHere++;
        continue;
      }
      if (lacks(l, r)) {
        need.items++;
        need.bytes += r.deleted ? 0 : Math.max(0, r.size - (l && !l.deleted && l.kind === 'log' ? l.size : 0));
      }
    }
    for (const l of f.local.values()) {
      if (ignored(l.name) || v?.skips?.ignores(l.name)) continue;
      const r = v?.items.get(l.name);
      if (lacks(r, l)) {
        peerNeeds.items++;
        peerNeeds.bytes += l.deleted ? 0 : Math.max(0, l.size - (r && !r.deleted && r.kind === 'log' ? r.size : 0));
      }
    }
    let pulling = false;
    for (const fe of st.fetches.values()) {
      if (fe.peer === peer && fe.folder === f.cfg.id && (fe.runStart !== null || fe.mode !== 'append')) pulling = true;
    }
    const indexComplete = !!link && link.ready.has(f.cfg.id) && !!v && v.maxSeq >= v.announcedSeq;
    out.push({ folder: f.cfg.id, peer, indexComplete, need, peerNeeds, skipped, inSync: indexComplete && !pulling && need.items === 0 && peerNeeds.items === 0 });
  }
  return out;
}

/**
 * Whether the holder of `mine` lacks something of `theirs`: a newer or concurrent version with
 * other content, or more lines of a log (a longer log under the same or a concurrent version may
 * be a divergence still to resolve: that counts as lacking too, until it is resolved).
 */
function lacks(mine: ItemMeta | undefined, theirs: ItemMeta): boolean {
  if (theirs.deleted) return !!mine && !mine.deleted && compareVersions(mine.version, theirs.version) === 'lesser';
  if (!mine || mine.deleted) return !mine || compareVersions(mine.version, theirs.version) !== 'greater';
  if (sameContent(mine, theirs)) return false;
  const ord = compareVersions(mine.version, theirs.version);
  if (ord === 'greater') return false;
  if (ord === 'lesser') return true;
  return !(mine.kind === 'log' && mine.size > theirs.size);
}
