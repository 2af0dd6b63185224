/**
 * Divergence: a record re-read before acting on it, the policy's decision, the loser copied
 * aside before the winner is pulled; and the peers judged to need nothing from this side.
 */
import { diskStateOf, type ItemMeta, sameContent } from '../items.js';
import { splitName } from '../names.js';
import type { Effect } from './effects.js';
import { decide } from './policy.js';
import { type FolderState, key, type ReplicatorState } from './state.js';
import { replaceWith } from './fetch.js';

/**
 * Once per local record, re-read our own copy whole before acting on a divergence with it: a
 * divergence is also the symptom of an in-place edit that kept the tail of a log, which the
 * cheap scan cannot see; acting on a wrong record would fork a log that never diverged.
 */
export function verifyThen(st: ReplicatorState, f: FolderState, name: string): Effect[] | null {
  const l = f.local.get(name);
  const k = key(f.cfg.id, name);
  if (!l || l.deleted || st.verified.get(k) === l.seq) return null;
  st.verified.set(k, l.seq);
  return [
    { t: 'scan', folder: f.cfg.id, names: [name], deep: true },
    { t: 'recheck', folder: f.cfg.id, name },
  ];
}

export function isSettled(st: ReplicatorState, f: FolderState, k: string, peer: string, r: ItemMeta): boolean {
  const s = st.settled.get(`${k}\u0000${peer}`);
  if (!s) return false;
  if (s.remote === r && s.local === f.local.get(r.name)) return true;
  st.settled.delete(`${k}\u0000${peer}`);
  return false;
}

/** Nothing to do about `r` while it and `l` stay as they are (see `settled`). */
export function settle(st: ReplicatorState, f: FolderState, peer: string, l: ItemMeta, r: ItemMeta): void {
  st.settled.set(`${key(f.cfg.id, l.name)}\u0000${peer}`, { local: l, remote: r });
}

/**
 * Divergence: the policy picks a winner. If ours lost, it is copied aside (fork or conflict
 * copy) and then the winner, pulled whole into a temp file, replaces it: the name never goes
 * missing, on this device or any other.
 */
export function conflict(st: ReplicatorState, f: FolderState, l: ItemMeta, r: ItemMeta, peer: string, now: number): Effect[] {
  const verify = verifyThen(st, f, l.name);
  if (verify) return verify;
  const v = decide(f.cfg.conflict, f.cfg.id, l, r, now, st.opts.hooks);
  if (v.winner === l) {
    // The peer takes ours. Other peers may still hold what we lack (a longer log of our own
    // epoch, a conflict ours loses): the caller goes on to them.
    settle(st, f, peer, l, r);
    return [];
  }
  st.notes.push(`conflict on ${f.cfg.id}/${l.name}: keeping the version from ${r.modifiedBy}, ours is kept as ${v.copyName}`);
  // The copy may exist already: the same content (another device resolved the same conflict,
  // or a pull of the winner was interrupted) needs no second copy; other content (a
  // Syncthing-style name taken in the same second) gets a numbered name.
  let to = v.copyName;
  for (let n = 2; ; n++) {
    const existing = f.local.get(to);
    if (!existing || existing.deleted) break;
    if (sameContent(existing, l)) return replaceWith(st, f, peer, r, l);
    const { dir, stem, ext } = splitName(v.copyName);
    to = `${dir}${stem}-${n}${ext}`;
  }
  st.replacing.set(key(f.cfg.id, l.name), { peer, winner: r });
  return [{ t: 'copy', folder: f.cfg.id, name: l.name, to, expected: diskStateOf(l) }];
}
