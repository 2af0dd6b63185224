/**
 * The replicator's state, shared by its phases (index exchange, need, fetch, data, apply,
 * conflicts, serving): one `ReplicatorState` per device, which the phase modules take as their
 * first argument. Pure: no I/O, no clock.
 */
import type { DiskState, ItemMeta } from '../items.js';
import type { IgnoreRules } from '../ignore.js';
import type { LogPos } from '../log/position.js';
import type { Message } from '../protocol/index.js';
import type { ConflictMode, PolicyHooks } from './policy.js';
import type { VersionVector } from './version.js';


export interface FolderConfig {
  readonly id: string;
  /** How divergent line logs are resolved: a resumable fork, or Syncthing's conflict copy. */
  readonly conflict: ConflictMode;
  /**
   * Whether a local delete of a line log reaches other devices. Session folders keep it local
   * (the tools delete old sessions by age on each machine); whole files always propagate.
   */
  readonly logDeletes: 'local' | 'propagate';
}

export interface ReplicatorOptions {
  /** This device's short id (16 lowercase hex characters). */
  readonly device: string;
  readonly name: string;
  readonly software: string;
  readonly folders: readonly FolderConfig[];
  /** Fresh random index ids (the runner supplies randomness; the core stays pure). */
  readonly newIndexId: () => string;
  readonly hooks?: PolicyHooks;
  /** Largest single line accepted from a peer. */
  readonly maxLineBytes?: number;
  /**
   * Items this device does not sync (ignore rules, selective sync): never pulled, and not counted
   * when telling whether two devices are in sync. Asked at decision time, so rules may change.
   */
  readonly ignores?: (folder: string, name: string) => boolean;
  /** Selective sync: the top-level entries of a folder this device syncs, or null for all. */
  readonly only?: (folder: string) => readonly string[] | null;
  /** This device's ignore rule lines for a folder, announced so peers know what it skips. */
  readonly ignoreLines?: (folder: string) => readonly string[];
  /** Folders this device opted out of: announced as declined (`DECLINED_INDEX_ID`) when it has no such folder. */
  readonly declined?: () => readonly string[];
}

/** Remote view of one folder on one peer: its index as far as we have seen it. */
export interface PeerView {
  indexId: string;
  maxSeq: number;
  /** The peer's sequence when the link opened (from `folders`); 0 until then. */
  announcedSeq: number;
  /** What the peer does not sync: its announced ignore rules and selective sync. */
  skips: IgnoreRules | null;
  readonly items: Map<string, ItemMeta>;
}

export interface FolderState {
  readonly cfg: FolderConfig;
  indexId: string;
  seq: number;
  readonly local: Map<string, ItemMeta>;
  /** Logs deleted here whose delete is not propagated: remembered so they are not fetched again. */
  readonly dropped: Map<string, ItemMeta>;
  readonly peers: Map<string, PeerView>;
}

/** A pull in progress: one per item at a time. */
export interface Fetch {
  readonly wantId: number;
  readonly peer: string;
  readonly folder: string;
  readonly name: string;
  /** The remote record when the want was sent. */
  readonly target: ItemMeta;
  /** append: straight into the log; stage: a new epoch written beside it, then renamed over. */
  mode: 'append' | 'stage' | 'file';
  /** Where the next run must start. */
  expected: LogPos;
  /** A run of lines in progress (a line larger than one frame). */
  runStart: LogPos | null;
  parts: Uint8Array[];
  partBytes: number;
  nextChunk: number;
  /** The local state the stage replaces (null: absent). */
  readonly replaces: DiskState | null;
  staged: boolean;
}

/** A subscription we serve: a peer pulling one of our logs. */
export interface Sub {
  readonly peer: string;
  readonly wantId: number;
  readonly version: VersionVector;
  cursor: LogPos;
}

/** A connected peer's link: its handshake phase (`hello` until its hello arrived, then `open`) and what it announced. */
export interface PeerLink {
  readonly peer: string;
  phase: 'hello' | 'open';
  name: string;
  readonly ready: Set<string>;
  /** The peer's last `folders` message, by folder id: also the folders this device does not have. */
  announced: ReadonlyMap<string, FolderEntry>;
}

export type FolderEntry = Extract<Message, { t: 'folders' }>['folders'][number];

/** The key of an item in the replicator's maps. */
export const key = (folder: string, name: string) => `${folder}\u0000${name}`;

/** Everything the replicator knows and is doing: its folders, links, pulls and subscriptions. */
export class ReplicatorState {
  readonly device: string;
  readonly opts: ReplicatorOptions;
  readonly folders = new Map<string, FolderState>();
  readonly links = new Map<string, PeerLink>();
  readonly fetches = new Map<string, Fetch>();
  /** Subscriptions we serve, by item. */
  readonly subs = new Map<string, Sub[]>();
  /** Peer records we could not fetch (by item and peer: the record's seq), not retried until they change. */
  readonly failed = new Map<string, number>();
  /** Of those, the ones that failed on a store I/O error (a full disk): `retryFailedIo` retries them. */
  readonly ioFailed = new Set<string>();
  /** Items whose fetch a local writer interrupted: wait for its next change. */
  readonly blocked = new Set<string>();
  /** Conflicts this device lost: the winner to fetch (and from whom) once the copy is made. */
  readonly replacing = new Map<string, { readonly peer: string; readonly winner: ItemMeta }>();
  /** Items this device is removing everywhere (`removeEverywhere`): their tombstone follows the remove. */
  readonly removing = new Set<string>();
  /** The local record (by seq) last checked against the disk before a conflict. */
  readonly verified = new Map<string, number>();
  /**
   * Peer records found to need nothing from this device's side, by item and peer: the peer holds
   * a prefix of our log (it will pull the rest), or ours won a conflict with it (it will take
   * ours). Valid while both records are the very ones judged (a new record of either drops the
   * entry); `evaluate` passes over such a peer to the next one instead of asking again.
   */
  readonly settled = new Map<string, { readonly local: ItemMeta; readonly remote: ItemMeta }>();
  readonly dirty = new Map<string, unknown>();
  nextWantId = 1;
  readonly maxLineBytes: number;
  /** Things worth a line in the daemon's log (refused input, conflicts). Drained by the runner. */
  readonly notes: string[] = [];

  constructor(opts: ReplicatorOptions) {
    this.opts = opts;
    this.device = opts.device;
    this.maxLineBytes = opts.maxLineBytes ?? 256 * 1024 * 1024;
  }
}

/** The view of `peer` in folder `f`, made empty on first use. */
export function view(f: FolderState, peer: string): PeerView {
  let v = f.peers.get(peer);
  if (!v) f.peers.set(peer, (v = { indexId: '', maxSeq: 0, announcedSeq: 0, skips: null, items: new Map() }));
  return v;
}
