/**
 * Folders peers offer that this device does not hold, and what this device skips of what they
 * hold: the tools' folders a peer shares are taken here (at this device's path for the tool)
 * unless this device opted out of them; a user's own folder is only shown as offered, until the
 * user adds it with a path of their choosing (a peer never picks a path on this machine).
 * Pure: roamd gives it what the replicator knows of each connected peer.
 */
import type { Engine, SyncState } from '@roam/core';
import type { FolderOffer, FolderSkip } from '../control/protocol.js';
import { folderPresent, toolFolders, type FolderSpec } from '../machine/config.js';
import { SHARED_FOLDER } from '../machine/leases.js';

/** One connected peer: its `folders` announcement and the sync state of the folders held here. */
export interface PeerFolders {
  readonly deviceId: string;
  readonly name: string;
  readonly folders: ReadonlyArray<{ readonly id: string; readonly only: readonly string[] | null; readonly declined: boolean }>;
  readonly states: readonly SyncState[];
}

export interface OfferInput {
  readonly peers: readonly PeerFolders[];
  /** Folder ids this device holds. */
  readonly held: ReadonlySet<string>;
  /** Folder ids this device opted out of (config.json `exclude`). */
  readonly excluded: ReadonlySet<string>;
  /** The tools' folders at this device's paths. */
  readonly tools: readonly FolderSpec[];
}

export interface OfferView {
  /** Per peer (device id): the folders it offers that this device neither holds nor skips. */
  readonly offers: ReadonlyMap<string, string[]>;
  /** Per peer: the folders this device holds that the peer opted out of. */
  readonly optedOut: ReadonlyMap<string, string[]>;
  readonly offered: FolderOffer[];
  readonly skipped: FolderSkip[];
}

/** What the engine knows of the connected peers' folders (roam's own folder aside). */
export function offerInputOf(engine: Engine, folders: readonly FolderSpec[], excluded: ReadonlySet<string>, env: NodeJS.ProcessEnv): OfferInput {
  const r = engine.replicator;
  const peers = r.connectedPeers().map((deviceId) => ({
    deviceId, name: r.peerName(deviceId) ?? deviceId, folders: r.peerFolders(deviceId).filter((f) => f.id !== SHARED_FOLDER), states: engine.syncState(deviceId),
  }));
  return { peers, held: new Set(folders.map((f) => f.id)), excluded, tools: toolFolders(env) };
}

/** Whether a peer's announcement of a folder offers its content (it holds and syncs some of it). */
const offering = (f: PeerFolders['folders'][number]): boolean => !f.declined && !(f.only && f.only.length === 0);

export function folderOffers(input: OfferInput): OfferView {
  const offers = new Map<string, string[]>();
  const optedOut = new Map<string, string[]>();
  const offeredBy = new Map<string, string[]>();
  const declinedBy = new Map<string, string[]>();
  const add = (m: Map<string, string[]>, k: string, v: string) => m.set(k, [...(m.get(k) ?? []), v]);
  for (const p of input.peers) {
    for (const f of p.folders) {
      if (input.held.has(f.id)) {
        if (f.declined) add(optedOut, p.deviceId, f.id);
      } else if (offering(f)) {
        if (input.excluded.has(f.id)) add(declinedBy, f.id, p.name);
        else {
          add(offers, p.deviceId, f.id);
          add(offeredBy, f.id, p.name);
        }
      }
    }
  }
  const tool = (id: string) => input.tools.find((t) => t.id === id);
  const offered: FolderOffer[] = [...offeredBy].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, by]) => ({ id, by, tool: !!tool(id), path: tool(id)?.path ?? null }));
  const skipped: FolderSkip[] = [...declinedBy].sort(([a], [b]) => (a < b ? -1 : 1)).map(([folder, by]) => ({ folder, reason: 'opted out', items: null, by }));
  // Items of the folders held here that this device skips by its own rules, per folder and reason.
  const items = new Map<string, { reason: FolderSkip['reason']; items: number; by: string[] }>();
  for (const p of input.peers) {
    for (const s of p.states) {
      for (const [reason, n] of [['ignored', s.skipped.ignored], ['deleted here', s.skipped.deletedHere]] as const) {
        if (!n) continue;
        const k = `${s.folder}\u0000${reason}`;
        const e = items.get(k) ?? { reason, items: 0, by: [] };
        e.items = Math.max(e.items, n);
        e.by.push(p.name);
        items.set(k, e);
      }
    }
  }
  for (const [k, e] of [...items].sort(([a], [b]) => (a < b ? -1 : 1))) skipped.push({ folder: k.split('\u0000')[0]!, ...e });
  return { offers, optedOut, offered, skipped };
}

/**
 * The tools' folders to take now: one that appeared here, or one a connected peer offers; never
 * one this device opted out of, nor one it holds.
 */
export function toolFoldersToTake(input: OfferInput, exists: (path: string) => boolean): Array<{ spec: FolderSpec; why: string }> {
  const out: Array<{ spec: FolderSpec; why: string }> = [];
  for (const t of input.tools) {
    if (input.held.has(t.id) || input.excluded.has(t.id)) continue;
    const by = input.peers.filter((p) => p.folders.some((f) => f.id === t.id && offering(f))).map((p) => p.name);
    if (folderPresent(t, exists)) out.push({ spec: t, why: 'it appeared here' });
    else if (by.length) out.push({ spec: t, why: `shared by ${by.join(', ')}` });
  }
  return out;
}
