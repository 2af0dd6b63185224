/**
 * The pure replication state machine of one device: every folder, every peer link.
 *
 * It does no I/O and reads no clock: inputs arrive as method calls (`connected`, `receive`,
 * `localChanges`, `applied`, …) with the current time, and each returns the effects to run.
 * `engine.ts` runs them against a store and links; the tests run them over in-memory ones.
 *
 * The rules it implements are written down in docs/PROTOCOL.md. In short:
 * - index exchange as in Syncthing's BEP: every local change gets a sequence number; on connect a
 *   peer sends only what the other has not seen (by index id and sequence), then live updates;
 * - a line log is pulled with a `want` from the receiver's own end and stays subscribed: later
 *   appends are pushed as they happen; a receiver appends only a run that starts exactly at its end
 *   with the same chain hash, anything else is divergence, never a splice;
 * - version vectors order epochs (create, rewrite, truncate, delete); within an epoch, content is
 *   decided by chain hashes: a log that extends the other is a fast-forward, never a conflict;
 * - true divergence goes to the conflict policy; only the device holding the loser moves it aside
 *   (fork or Syncthing-style copy) and then takes the winner, so every device ends the same.
 */
import type { ItemMeta, LocalChange } from '../items.js';
import { DECLINED_INDEX_ID, isDeclined, type Message, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION } from '../protocol/index.js';
import { isRoamError } from '../errors.js';
import type { Applied, Effect, StoreEffect } from './effects.js';
import { type Fetch, type FolderConfig, type FolderState, type ReplicatorOptions, ReplicatorState } from './state.js';
import { persistFolder, restore } from './persist.js';
import { onWant, removeSub } from './serving.js';
import { dropFetch } from './fetch.js';
import { verifyThen } from './conflicts.js';
import { evaluate, recheck, retryFailedIo } from './need.js';
import { announceFolders, foldersMessage, onFolderEntry, onFolders, onHello, onIndex, violation } from './exchange.js';
import { onDiverged, onFileData, onGone, onLogData } from './data.js';
import { localChanges, removeEverywhere } from './local.js';
import { applied } from './apply.js';
import { syncState, type SyncState } from './sync-state.js';

export type { FolderConfig, ReplicatorOptions } from './state.js';
export type { SyncState } from './sync-state.js';
export { metaFromJson, metaToJson } from './persist.js';

export class Replicator {
  readonly device: string;
  /** Things worth a line in the daemon's log (refused input, conflicts). Drained by the runner. */
  readonly notes: string[];
  private readonly st: ReplicatorState;

  constructor(opts: ReplicatorOptions, saved?: ReadonlyMap<string, unknown>) {
    this.st = new ReplicatorState(opts);
    this.device = opts.device;
    this.notes = this.st.notes;
    this.addFolders(opts.folders, saved);
  }

  private addFolders(list: readonly FolderConfig[], saved: ReadonlyMap<string, unknown> | undefined): FolderState[] {
    const added = list.filter((cfg) => !this.st.folders.has(cfg.id)).map((cfg): FolderState => ({ cfg, indexId: '', seq: 0, local: new Map(), dropped: new Map(), peers: new Map() }));
    for (const f of added) this.st.folders.set(f.cfg.id, f);
    if (saved) restore(this.st, saved);
    for (const f of added) {
      if (f.indexId === '') {
        do f.indexId = this.st.opts.newIndexId();
        while (f.indexId === DECLINED_INDEX_ID); // a held folder never looks declined
        persistFolder(this.st, f);
      }
    }
    return added;
  }

  /**
   * A folder opened while running (a tool installed here, a peer's tool folder taken, a folder the
   * user added): `saved` is its persisted state. Every open link hears this device's folders
   * again, and the peer's last announcement of it is taken up as if it had just arrived.
   */
  addFolder(cfg: FolderConfig, saved: ReadonlyMap<string, unknown>, now: number): Effect[] {
    const out: Effect[] = [];
    for (const f of this.addFolders([cfg], saved)) {
      for (const s of this.st.links.values()) {
        if (s.phase !== 'open') continue;
        out.push(foldersMessage(this.st, s.peer));
        const entry = s.announced.get(f.cfg.id);
        if (entry) out.push(...onFolderEntry(this.st, s, entry, now));
      }
    }
    return out;
  }

  /** Records changed since the last call, as [key, value | null] for `MetaStore.put`. */
  takeDirty(): Array<[string, unknown]> {
    const out = [...this.st.dirty.entries()];
    this.st.dirty.clear();
    return out;
  }

  local(folder: string, name: string): ItemMeta | undefined {
    return this.st.folders.get(folder)?.local.get(name);
  }

  localItems(folder: string): ItemMeta[] {
    return [...(this.st.folders.get(folder)?.local.values() ?? [])];
  }

  /** The name a connected peer gave in its hello. */
  peerName(peer: string): string | undefined {
    const s = this.st.links.get(peer);
    return s?.phase === 'open' ? s.name : undefined;
  }

  /** Names of live items that peers hold in a folder, as far as their indexes tell. */
  peerItems(folder: string): Set<string> {
    const out = new Set<string>();
    for (const v of this.st.folders.get(folder)?.peers.values() ?? []) for (const m of v.items.values()) if (!m.deleted) out.add(m.name);
    return out;
  }

  /** What a connected peer announced of each folder it syncs or declined, this device's or not. */
  peerFolders(peer: string): Array<{ readonly id: string; readonly only: readonly string[] | null; readonly declined: boolean }> {
    const s = this.st.links.get(peer);
    return s?.phase === 'open' ? [...s.announced.values()].map((e) => ({ id: e.id, only: e.only, declined: isDeclined(e) })) : [];
  }

  connectedPeers(): string[] {
    return [...this.st.links.values()].filter((s) => s.phase === 'open').map((s) => s.peer);
  }

  /**
   * How this device stands with a connected peer, per folder: whether the peer's whole index has
   * arrived, what this device still lacks of the peer's items, and what the peer lacks of ours.
   * In sync means: index complete, nothing lacking either way, nothing being pulled from it.
   */
  syncState(peer: string): SyncState[] {
    return syncState(this.st, peer);
  }

  connected(peer: string): Effect[] {
    this.st.links.set(peer, { peer, phase: 'hello', name: peer, ready: new Set(), announced: new Map() });
    return [{ t: 'send', peer, msg: { t: 'hello', protocol: PROTOCOL_VERSION, minProtocol: MIN_PROTOCOL_VERSION, device: this.device, name: this.st.opts.name, software: this.st.opts.software } }];
  }

  disconnected(peer: string, now: number): Effect[] {
    this.st.links.delete(peer);
    for (const k of this.st.settled.keys()) if (k.endsWith(`\u0000${peer}`)) this.st.settled.delete(k);
    const out: Effect[] = [];
    for (const [k, subs] of this.st.subs) {
      const rest = subs.filter((s) => s.peer !== peer);
      if (rest.length) this.st.subs.set(k, rest);
      else this.st.subs.delete(k);
    }
    const orphaned: Fetch[] = [];
    for (const fe of this.st.fetches.values()) if (fe.peer === peer) orphaned.push(fe);
    for (const fe of orphaned) out.push(...dropFetch(this.st, fe, false));
    for (const fe of orphaned) out.push(...evaluate(this.st, this.st.folders.get(fe.folder)!, fe.name, now));
    return out;
  }

  /** A message from a peer. Protocol violations close that peer's link, nothing else. */
  receive(peer: string, msg: Message, now: number): Effect[] {
    const s = this.st.links.get(peer);
    if (!s) return [];
    try {
      if (s.phase === 'hello') {
        if (msg.t !== 'hello') return violation(this.st, peer, `expected hello, got ${msg.t}`);
        return onHello(this.st, s, msg);
      }
      switch (msg.t) {
        case 'hello':
          return violation(this.st, peer, 'second hello');
        case 'folders':
          return onFolders(this.st, s, msg, now);
        case 'index':
          return onIndex(this.st, s, msg, now);
        case 'want':
          return onWant(this.st, s, msg);
        case 'logData':
          return onLogData(this.st, s, msg, now);
        case 'fileData':
          return onFileData(this.st, s, msg, now);
        case 'diverged':
          return onDiverged(this.st, s, msg, now);
        case 'gone':
          return onGone(this.st, s, msg, now);
        case 'cancel':
          return this.serveFailed(peer, msg.folder, msg.wantId, now);
        case 'error':
          this.notes.push(`peer ${s.name} reported ${msg.code}: ${msg.message}`);
          return [{ t: 'close', peer, reason: `${msg.code}: ${msg.message}` }];
      }
    } catch (err) {
      if (isRoamError(err)) return violation(this.st, peer, `${err.code}: ${err.message}`, err.code);
      throw err;
    }
  }

  /**
   * The runner found that a want's `from` is not in our log and answered `diverged`. While the
   * peer was subscribed we trusted it to hold our prefix; now look again.
   */
  serveFailed(peer: string, folder: string, wantId: number, now: number): Effect[] {
    const f = this.st.folders.get(folder);
    const names = removeSub(this.st, peer, folder, wantId);
    return f ? names.flatMap((n) => verifyThen(this.st, f, n) ?? evaluate(this.st, f, n, now)) : [];
  }

  /**
   * Tells every connected peer this device's folder state again (after its selective sync
   * changed). A peer answers with the index entries we have not seen, usually none.
   */
  announceFolders(now: number): Effect[] {
    return announceFolders(this.st, now);
  }

  /** Changes the store found on disk (a tool wrote, or the daemon was down). */
  localChanges(folder: string, changes: readonly LocalChange[], now: number): Effect[] {
    return localChanges(this.st, folder, changes, now);
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
  removeEverywhere(folder: string, name: string, now: number): Effect[] {
    return removeEverywhere(this.st, folder, name, now);
  }

  /**
   * Pulls that failed on a store I/O error (ENOSPC, EIO…) are not retried until the peer's record
   * changes, like any failed pull; the runner calls this later to try them again (the disk may
   * have room again).
   */
  retryFailedIo(now: number): Effect[] {
    return retryFailedIo(this.st, now);
  }

  /** Decide about an item again (the runner asks after a deep scan that found nothing new). */
  recheck(folder: string, name: string, now: number, unblock = false): Effect[] {
    return recheck(this.st, folder, name, now, unblock);
  }

  /** The outcome of a store effect this replicator asked for. */
  applied(effect: StoreEffect, result: Applied, now: number): Effect[] {
    return applied(this.st, effect, result, now);
  }
}
