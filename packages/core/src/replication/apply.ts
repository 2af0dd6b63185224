/**
 * Store results: the outcome of a store effect the replicator asked for, recorded (a pull
 * committed, a remove, a touch, a conflict copy, a position checked) or its failure handled.
 */
import type { ItemMeta } from '../items.js';
import { endOf, samePos } from '../log/position.js';
import { ErrorCodes } from '../errors.js';
import type { Applied, Effect, StoreEffect } from './effects.js';
import { bumpVersion, compareVersions, EMPTY_VERSION } from './version.js';
import { type FolderState, key, type ReplicatorState } from './state.js';
import { persistLocal } from './persist.js';
import { commitLocal } from './serving.js';
import { dropFetch, replaceWith } from './fetch.js';
import { settle } from './conflicts.js';
import { conflictThenOthers, evaluate } from './need.js';
import { commitRemoval } from './local.js';

/** The outcome of a store effect this replicator asked for. */
export function applied(st: ReplicatorState, effect: StoreEffect, result: Applied, now: number): Effect[] {
  const f = st.folders.get(effect.folder);
  if (!f) return [];
  const k = key(f.cfg.id, effect.name);
  const fe = st.fetches.get(k);
  if (!result.ok) {
    st.notes.push(`${effect.t} ${effect.folder}/${effect.name} failed: ${result.code} ${result.message}`);
    if (effect.t === 'remove') st.removing.delete(k);
    const out: Effect[] = fe ? dropFetch(st, fe, true) : [];
    const l = f.local.get(effect.name);
    if (result.code === 'ROAM_STORE_CONFLICT' && effect.t === 'append' && !(l && samePos(endOf(l), effect.start))) {
      // Our record moved on since the pull began (a local change was recorded): decide again.
      out.push(...evaluate(st, f, effect.name, now));
    } else if (result.code === 'ROAM_STORE_CONFLICT') {
      // The disk holds what we have not recorded (a tool is mid-write, or something sits where a
      // conflict copy goes): look, and wait for a change before trying again.
      st.blocked.add(k);
      out.push({ t: 'scan', folder: f.cfg.id, names: effect.t === 'copy' ? [effect.name, effect.to] : [effect.name] });
    } else if (fe) {
      st.failed.set(`${k}\u0000${fe.peer}`, fe.target.seq);
      if (result.code === ErrorCodes.STORE_IO) st.ioFailed.add(`${k}\u0000${fe.peer}`);
    }
    return out;
  }
  switch (effect.t) {
    case 'append':
    case 'stageCommit': {
      const state = result.state!;
      const l = f.local.get(effect.name);
      const target = fe?.target ?? l;
      if (!target) return [];
      // Content taken from a peer takes the peer's version as it is (see judge()).
      const version = target.version;
      if (fe && effect.t === 'stageCommit') {
        fe.staged = false;
        if (fe.mode === 'stage') fe.mode = 'append';
        else st.fetches.delete(k);
      }
      const out = commitLocal(st, f, { ...state, version, seq: 0, modifiedBy: target.modifiedBy });
      f.dropped.delete(effect.name);
      if (!st.fetches.has(k)) out.push(...evaluate(st, f, effect.name, now));
      return out;
    }
    case 'remove': {
      if (st.removing.delete(k)) return [...commitRemoval(st, f, effect.name, now), ...evaluate(st, f, effect.name, now)];
      const l = f.local.get(effect.name);
      const r = newestRemote(st, f, effect.name);
      if (l && r?.deleted) return commitLocal(st, f, { ...r, seq: 0 });
      f.local.delete(effect.name);
      persistLocal(st, f, effect.name);
      return evaluate(st, f, effect.name, now);
    }
    case 'touch': {
      const l = f.local.get(effect.name);
      return l ? [...commitLocal(st, f, { ...l, mtimeMs: result.state!.mtimeMs }), ...evaluate(st, f, effect.name, now)] : [];
    }
    case 'copy': {
      const state = result.state!;
      const copy = f.local.get(state.name);
      // Another device may have made a copy of the same name (a Syncthing-style name: same
      // winner, same second) with other content, and we may be pulling it: that pull expected
      // the name absent, so its commit would fail (ROAM_STORE_CONFLICT) and block the name for
      // good, leaving our content here and theirs everywhere else. Drop it; once ours is
      // recorded, the two copies are judged as an ordinary conflict on that name (as Syncthing
      // does: the newer mtime wins, the other gets a conflict copy of its own).
      const pulling = st.fetches.get(key(f.cfg.id, state.name));
      const out = pulling ? dropFetch(st, pulling, true) : [];
      // The copy is authored by whoever wrote the content it keeps (its mtime is kept too): the
      // same loser copied on two devices is then one record for the conflict order, which would
      // otherwise rank it by the copying device and judge it both ways against a third content.
      const l = f.local.get(effect.name);
      out.push(...commitLocal(st, f, { ...state, version: bumpVersion(copy?.version ?? EMPTY_VERSION, st.device), seq: 0, modifiedBy: l?.modifiedBy ?? st.device }));
      const pending = st.replacing.get(k);
      st.replacing.delete(k);
      out.push(...(pending && l ? replaceWith(st, f, pending.peer, pending.winner, l) : evaluate(st, f, effect.name, now)));
      out.push(...evaluate(st, f, state.name, now));
      return out;
    }
    case 'positionAt': {
      const l = f.local.get(effect.name);
      const r = f.peers.get(effect.peer)?.items.get(effect.name);
      if (!l || !r || l.deleted || r.deleted || r.size !== effect.offset) return [];
      if (result.pos && samePos(result.pos, endOf(r))) {
        // The peer holds a prefix of ours and will pull the rest: go on to the other peers.
        settle(st, f, effect.peer, l, r);
        return evaluate(st, f, effect.name, now);
      }
      return conflictThenOthers(st, f, l, r, effect.peer, now);
    }
    default:
      return [];
  }
}

export function newestRemote(st: ReplicatorState, f: FolderState, name: string): ItemMeta | undefined {
  let best: ItemMeta | undefined;
  for (const v of f.peers.values()) {
    const r = v.items.get(name);
    if (r && (!best || compareVersions(r.version, best.version) === 'greater')) best = r;
  }
  return best;
}
