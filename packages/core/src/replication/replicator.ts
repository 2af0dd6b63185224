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
import { bytesEqual, fromHex, toHex } from '../bytes.js';
import type { DiskState, ItemMeta, LocalChange } from '../items.js';
import { diskStateOf, sameContent } from '../items.js';
import { GENESIS, ZERO_HASH, endOf, relate, samePos, type LogPos } from '../log/position.js';
import { IgnoreRules, parseRules } from '../ignore.js';
import { isLogName, splitName } from '../names.js';
import {
  DECLINED_INDEX_ID,
  isDeclined,
  FOLDER_ID_RE,
  MAX_DATA_BYTES,
  MAX_IGNORE_LINE,
  MAX_IGNORE_LINES,
  MAX_INDEX_ITEMS,
  MIN_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
  negotiate,
  type Message,
} from '../protocol/index.js';
import { ErrorCodes, isRoamError } from '../errors.js';
import type { Applied, Effect, StoreEffect } from './effects.js';
import { decide, type ConflictMode, type PolicyHooks } from './policy.js';
import { EMPTY_VERSION, bumpVersion, compareVersions, mergeVersions, type VersionVector } from './version.js';

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
interface PeerView {
  indexId: string;
  maxSeq: number;
  /** The peer's sequence when the link opened (from `folders`); 0 until then. */
  announcedSeq: number;
  /** What the peer does not sync: its announced ignore rules and selective sync. */
  skips: IgnoreRules | null;
  readonly items: Map<string, ItemMeta>;
}

interface FolderState {
  readonly cfg: FolderConfig;
  indexId: string;
  seq: number;
  readonly local: Map<string, ItemMeta>;
  /** Logs deleted here whose delete is not propagated: remembered so they are not fetched again. */
  readonly dropped: Map<string, ItemMeta>;
  readonly peers: Map<string, PeerView>;
}

/** A pull in progress: one per item at a time. */
interface Fetch {
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
interface Sub {
  readonly peer: string;
  readonly wantId: number;
  readonly version: VersionVector;
  cursor: LogPos;
}

/** A connected peer's link: its handshake phase (`hello` until its hello arrived, then `open`) and what it announced. */
interface PeerLink {
  readonly peer: string;
  phase: 'hello' | 'open';
  name: string;
  readonly ready: Set<string>;
  /** The peer's last `folders` message, by folder id: also the folders this device does not have. */
  announced: ReadonlyMap<string, FolderEntry>;
}

type FolderEntry = Extract<Message, { t: 'folders' }>['folders'][number];

const key = (folder: string, name: string) => `${folder}\u0000${name}`;

/**
 * The persisted peer view's format. 2: `maxSeq` only covers records received (before, an index
 * sent in several batches claimed its last sequence from the first batch on).
 */
const PEER_VIEW_FORMAT = 2;

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

export class Replicator {
  readonly device: string;
  private readonly opts: ReplicatorOptions;
  private readonly folders = new Map<string, FolderState>();
  private readonly links = new Map<string, PeerLink>();
  private readonly fetches = new Map<string, Fetch>();
  /** Subscriptions we serve, by item. */
  private readonly subs = new Map<string, Sub[]>();
  /** Peer records we could not fetch (by item and peer: the record's seq), not retried until they change. */
  private readonly failed = new Map<string, number>();
  /** Of those, the ones that failed on a store I/O error (a full disk): `retryFailedIo` retries them. */
  private readonly ioFailed = new Set<string>();
  /** Items whose fetch a local writer interrupted: wait for its next change. */
  private readonly blocked = new Set<string>();
  /** Conflicts this device lost: the winner to fetch (and from whom) once the copy is made. */
  private readonly replacing = new Map<string, { readonly peer: string; readonly winner: ItemMeta }>();
  /** Items this device is removing everywhere (`removeEverywhere`): their tombstone follows the remove. */
  private readonly removing = new Set<string>();
  /** The local record (by seq) last checked against the disk before a conflict. */
  private readonly verified = new Map<string, number>();
  /**
   * Peer records found to need nothing from this device's side, by item and peer: the peer holds
   * a prefix of our log (it will pull the rest), or ours won a conflict with it (it will take
   * ours). Valid while both records are the very ones judged (a new record of either drops the
   * entry); `evaluate` passes over such a peer to the next one instead of asking again.
   */
  private readonly settled = new Map<string, { readonly local: ItemMeta; readonly remote: ItemMeta }>();
  private readonly dirty = new Map<string, unknown>();
  private nextWantId = 1;
  private readonly maxLineBytes: number;
  /** Things worth a line in the daemon's log (refused input, conflicts). Drained by the runner. */
  readonly notes: string[] = [];

  constructor(opts: ReplicatorOptions, saved?: ReadonlyMap<string, unknown>) {
    this.opts = opts;
    this.device = opts.device;
    this.maxLineBytes = opts.maxLineBytes ?? 256 * 1024 * 1024;
    this.addFolders(opts.folders, saved);
  }

  private addFolders(list: readonly FolderConfig[], saved: ReadonlyMap<string, unknown> | undefined): FolderState[] {
    const added = list.filter((cfg) => !this.folders.has(cfg.id)).map((cfg): FolderState => ({ cfg, indexId: '', seq: 0, local: new Map(), dropped: new Map(), peers: new Map() }));
    for (const f of added) this.folders.set(f.cfg.id, f);
    if (saved) this.restore(saved);
    for (const f of added) {
      if (f.indexId === '') {
        do f.indexId = this.opts.newIndexId();
        while (f.indexId === DECLINED_INDEX_ID); // a held folder never looks declined
        this.persistFolder(f);
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
      for (const s of this.links.values()) {
        if (s.phase !== 'open') continue;
        out.push(this.foldersMessage(s.peer));
        const entry = s.announced.get(f.cfg.id);
        if (entry) out.push(...this.onFolderEntry(s, entry, now));
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- persistence

  /** Records changed since the last call, as [key, value | null] for `MetaStore.put`. */
  takeDirty(): Array<[string, unknown]> {
    const out = [...this.dirty.entries()];
    this.dirty.clear();
    return out;
  }

  private persistFolder(f: FolderState): void {
    this.dirty.set(`f/${f.cfg.id}`, { indexId: f.indexId, seq: f.seq });
  }
  private persistLocal(f: FolderState, name: string): void {
    const m = f.local.get(name);
    this.dirty.set(`l/${f.cfg.id}/${name}`, m ? metaToJson(m) : null);
    const d = f.dropped.get(name);
    this.dirty.set(`d/${f.cfg.id}/${name}`, d ? metaToJson(d) : null);
  }
  private persistPeer(f: FolderState, peer: string, name?: string): void {
    const v = f.peers.get(peer);
    this.dirty.set(`p/${f.cfg.id}/${peer}`, v ? { indexId: v.indexId, maxSeq: v.maxSeq, format: PEER_VIEW_FORMAT } : null);
    if (name !== undefined) {
      const m = v?.items.get(name);
      this.dirty.set(`r/${f.cfg.id}/${peer}/${name}`, m ? metaToJson(m) : null);
    }
  }

  private restore(saved: ReadonlyMap<string, unknown>): void {
    for (const [k, v] of saved) {
      const [kind, folder, ...rest] = k.split('/');
      const f = this.folders.get(folder ?? '');
      if (!f || v === null || v === undefined) continue;
      if (kind === 'f') {
        const s = v as { indexId: string; seq: number };
        f.indexId = s.indexId;
        f.seq = s.seq;
      } else if (kind === 'l') f.local.set(rest.join('/'), metaFromJson(v));
      else if (kind === 'd') f.dropped.set(rest.join('/'), metaFromJson(v));
      else if (kind === 'p') {
        const s = v as { indexId: string; maxSeq: number; format?: number };
        const view = this.view(f, rest[0]!);
        view.indexId = s.indexId;
        // A view written before PEER_VIEW_FORMAT 2 may claim records it never received: ask the
        // peer for its whole index once (the records themselves are kept and refreshed).
        view.maxSeq = (s.format ?? 1) >= PEER_VIEW_FORMAT ? s.maxSeq : 0;
      } else if (kind === 'r') this.view(f, rest[0]!).items.set(rest.slice(1).join('/'), metaFromJson(v));
    }
  }

  private view(f: FolderState, peer: string): PeerView {
    let v = f.peers.get(peer);
    if (!v) f.peers.set(peer, (v = { indexId: '', maxSeq: 0, announcedSeq: 0, skips: null, items: new Map() }));
    return v;
  }

  // ---------------------------------------------------------------- queries

  local(folder: string, name: string): ItemMeta | undefined {
    return this.folders.get(folder)?.local.get(name);
  }

  localItems(folder: string): ItemMeta[] {
    return [...(this.folders.get(folder)?.local.values() ?? [])];
  }

  /** The name a connected peer gave in its hello. */
  peerName(peer: string): string | undefined {
    const s = this.links.get(peer);
    return s?.phase === 'open' ? s.name : undefined;
  }

  /** Names of live items that peers hold in a folder, as far as their indexes tell. */
  peerItems(folder: string): Set<string> {
    const out = new Set<string>();
    for (const v of this.folders.get(folder)?.peers.values() ?? []) for (const m of v.items.values()) if (!m.deleted) out.add(m.name);
    return out;
  }

  /** What a connected peer announced of each folder it syncs or declined, this device's or not. */
  peerFolders(peer: string): Array<{ readonly id: string; readonly only: readonly string[] | null; readonly declined: boolean }> {
    const s = this.links.get(peer);
    return s?.phase === 'open' ? [...s.announced.values()].map((e) => ({ id: e.id, only: e.only, declined: isDeclined(e) })) : [];
  }

  connectedPeers(): string[] {
    return [...this.links.values()].filter((s) => s.phase === 'open').map((s) => s.peer);
  }

  /**
   * How this device stands with a connected peer, per folder: whether the peer's whole index has
   * arrived, what this device still lacks of the peer's items, and what the peer lacks of ours.
   * In sync means: index complete, nothing lacking either way, nothing being pulled from it.
   */
  syncState(peer: string): SyncState[] {
    const out: SyncState[] = [];
    const link = this.links.get(peer);
    for (const f of this.folders.values()) {
      const v = f.peers.get(peer);
      const need = { items: 0, bytes: 0 };
      const peerNeeds = { items: 0, bytes: 0 };
      const skipped = { ignored: 0, deletedHere: 0 };
      const ignored = (name: string) => this.opts.ignores?.(f.cfg.id, name) === true;
      for (const r of v?.items.values() ?? []) {
        if (ignored(r.name)) {
          if (!r.deleted) skipped.ignored++;
          continue;
        }
        const l = f.local.get(r.name);
        const d = f.dropped.get(r.name);
        if (!l && d && !r.deleted && !this.grewElsewhere(d, r)) {
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
      for (const fe of this.fetches.values()) {
        if (fe.peer === peer && fe.folder === f.cfg.id && (fe.runStart !== null || fe.mode !== 'append')) pulling = true;
      }
      const indexComplete = !!link && link.ready.has(f.cfg.id) && !!v && v.maxSeq >= v.announcedSeq;
      out.push({ folder: f.cfg.id, peer, indexComplete, need, peerNeeds, skipped, inSync: indexComplete && !pulling && need.items === 0 && peerNeeds.items === 0 });
    }
    return out;
  }

  // ---------------------------------------------------------------- peer links

  connected(peer: string): Effect[] {
    this.links.set(peer, { peer, phase: 'hello', name: peer, ready: new Set(), announced: new Map() });
    return [{ t: 'send', peer, msg: { t: 'hello', protocol: PROTOCOL_VERSION, minProtocol: MIN_PROTOCOL_VERSION, device: this.device, name: this.opts.name, software: this.opts.software } }];
  }

  disconnected(peer: string, now: number): Effect[] {
    this.links.delete(peer);
    for (const k of this.settled.keys()) if (k.endsWith(`\u0000${peer}`)) this.settled.delete(k);
    const out: Effect[] = [];
    for (const [k, subs] of this.subs) {
      const rest = subs.filter((s) => s.peer !== peer);
      if (rest.length) this.subs.set(k, rest);
      else this.subs.delete(k);
    }
    const orphaned: Fetch[] = [];
    for (const fe of this.fetches.values()) if (fe.peer === peer) orphaned.push(fe);
    for (const fe of orphaned) out.push(...this.dropFetch(fe, false));
    for (const fe of orphaned) out.push(...this.evaluate(this.folders.get(fe.folder)!, fe.name, now));
    return out;
  }

  /** A message from a peer. Protocol violations close that peer's link, nothing else. */
  receive(peer: string, msg: Message, now: number): Effect[] {
    const s = this.links.get(peer);
    if (!s) return [];
    try {
      if (s.phase === 'hello') {
        if (msg.t !== 'hello') return this.violation(peer, `expected hello, got ${msg.t}`);
        return this.onHello(s, msg);
      }
      switch (msg.t) {
        case 'hello':
          return this.violation(peer, 'second hello');
        case 'folders':
          return this.onFolders(s, msg, now);
        case 'index':
          return this.onIndex(s, msg, now);
        case 'want':
          return this.onWant(s, msg);
        case 'logData':
          return this.onLogData(s, msg, now);
        case 'fileData':
          return this.onFileData(s, msg, now);
        case 'diverged':
          return this.onDiverged(s, msg, now);
        case 'gone':
          return this.onGone(s, msg, now);
        case 'cancel':
          return this.serveFailed(peer, msg.folder, msg.wantId, now);
        case 'error':
          this.notes.push(`peer ${s.name} reported ${msg.code}: ${msg.message}`);
          return [{ t: 'close', peer, reason: `${msg.code}: ${msg.message}` }];
      }
    } catch (err) {
      if (isRoamError(err)) return this.violation(peer, `${err.code}: ${err.message}`, err.code);
      throw err;
    }
  }

  private violation(peer: string, why: string, code = 'ROAM_PROTOCOL_VIOLATION'): Effect[] {
    this.notes.push(`closing session with ${peer}: ${why}`);
    return [
      { t: 'send', peer, msg: { t: 'error', code, message: why.slice(0, 1000) } },
      { t: 'close', peer, reason: why },
    ];
  }

  private onHello(s: PeerLink, msg: Extract<Message, { t: 'hello' }>): Effect[] {
    if (msg.device !== s.peer) return this.violation(s.peer, `hello names device ${msg.device}, the link is with ${s.peer}`);
    negotiate({ protocol: PROTOCOL_VERSION, minProtocol: MIN_PROTOCOL_VERSION }, msg);
    s.phase = 'open';
    s.name = msg.name;
    return [this.foldersMessage(s.peer)];
  }

  private foldersMessage(peer: string): Effect {
    const folders = [...this.folders.values()].map((f) => {
      const v = f.peers.get(peer);
      const only = this.opts.only?.(f.cfg.id) ?? null;
      const ignore = (this.opts.ignoreLines?.(f.cfg.id) ?? []).filter((l) => l.length <= MAX_IGNORE_LINE).slice(0, MAX_IGNORE_LINES);
      return { id: f.cfg.id, indexId: f.indexId, seq: f.seq, only: only ? [...only] : null, ignore, seenIndexId: v?.indexId ?? '', seenSeq: v?.maxSeq ?? 0 };
    });
    // Opted out here: announced with the declined index id and an empty selection (docs/PROTOCOL.md §4).
    for (const id of this.opts.declined?.() ?? []) if (!this.folders.has(id) && FOLDER_ID_RE.test(id)) folders.push({ id, indexId: DECLINED_INDEX_ID, seq: 0, only: [], ignore: [], seenIndexId: '', seenSeq: 0 });
    return { t: 'send', peer, msg: { t: 'folders', folders } };
  }

  /**
   * Tells every connected peer this device's folder state again (after its selective sync
   * changed). A peer answers with the index entries we have not seen, usually none.
   */
  announceFolders(now: number): Effect[] {
    const out: Effect[] = [];
    for (const s of this.links.values()) if (s.phase === 'open') out.push(this.foldersMessage(s.peer));
    // Items a new selection includes may already be on peers: decide about them again.
    for (const f of this.folders.values()) for (const v of f.peers.values()) for (const name of v.items.keys()) out.push(...this.evaluate(f, name, now));
    return out;
  }

  private onFolders(s: PeerLink, msg: Extract<Message, { t: 'folders' }>, now: number): Effect[] {
    s.announced = new Map(msg.folders.map((e) => [e.id, e]));
    return msg.folders.flatMap((entry) => this.onFolderEntry(s, entry, now));
  }

  private onFolderEntry(s: PeerLink, entry: FolderEntry, now: number): Effect[] {
    const out: Effect[] = [];
    const f = this.folders.get(entry.id);
    if (f) {
      const v = this.view(f, s.peer);
      if (v.indexId !== entry.indexId) {
        // The peer's index is new to us (first contact, or its database was reset): forget the old one.
        for (const name of v.items.keys()) this.dirty.set(`r/${f.cfg.id}/${s.peer}/${name}`, null);
        v.items.clear();
        v.indexId = entry.indexId;
        v.maxSeq = 0;
        this.persistPeer(f, s.peer);
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
      for (const name of v.items.keys()) out.push(...this.evaluate(f, name, now));
    }
    return out;
  }

  private onIndex(s: PeerLink, msg: Extract<Message, { t: 'index' }>, now: number): Effect[] {
    const f = this.folders.get(msg.folder);
    if (!f || !s.ready.has(f.cfg.id)) return [];
    const v = this.view(f, s.peer);
    if (msg.indexId !== v.indexId) return this.violation(s.peer, `index id ${msg.indexId} does not match announced ${v.indexId}`);
    const out: Effect[] = [];
    for (const item of msg.items) {
      if ((item.kind === 'log') !== isLogName(item.name)) return this.violation(s.peer, `item ${item.name} has kind ${item.kind}`);
      v.items.set(item.name, item);
      this.settled.delete(`${key(f.cfg.id, item.name)}\u0000${s.peer}`);
      v.maxSeq = Math.max(v.maxSeq, item.seq);
      this.failed.delete(`${key(f.cfg.id, item.name)}\u0000${s.peer}`);
      this.persistPeer(f, s.peer, item.name);
    }
    v.maxSeq = Math.max(v.maxSeq, msg.upTo);
    this.persistPeer(f, s.peer);
    for (const item of msg.items) out.push(...this.evaluate(f, item.name, now));
    return out;
  }

  // ---------------------------------------------------------------- serving

  private onWant(s: PeerLink, msg: Extract<Message, { t: 'want' }>): Effect[] {
    const f = this.folders.get(msg.folder);
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
    const list = (this.subs.get(k) ?? []).filter((x) => x.peer !== s.peer);
    const end = endOf(l);
    list.push({ peer: s.peer, wantId: msg.wantId, version: l.version, cursor: end });
    this.subs.set(k, list);
    return [{ t: 'serveLog', peer: s.peer, folder: f.cfg.id, name: l.name, wantId: msg.wantId, version: l.version, from: msg.from, to: end }];
  }

  /**
   * The runner found that a want's `from` is not in our log and answered `diverged`. While the
   * peer was subscribed we trusted it to hold our prefix; now look again.
   */
  serveFailed(peer: string, folder: string, wantId: number, now: number): Effect[] {
    const f = this.folders.get(folder);
    const names = this.removeSub(peer, folder, wantId);
    return f ? names.flatMap((n) => this.verifyThen(f, n) ?? this.evaluate(f, n, now)) : [];
  }

  /**
   * Once per local record, re-read our own copy whole before acting on a divergence with it: a
   * divergence is also the symptom of an in-place edit that kept the tail of a log, which the
   * cheap scan cannot see; acting on a wrong record would fork a log that never diverged.
   */
  private verifyThen(f: FolderState, name: string): Effect[] | null {
    const l = f.local.get(name);
    const k = key(f.cfg.id, name);
    if (!l || l.deleted || this.verified.get(k) === l.seq) return null;
    this.verified.set(k, l.seq);
    return [
      { t: 'scan', folder: f.cfg.id, names: [name], deep: true },
      { t: 'recheck', folder: f.cfg.id, name },
    ];
  }

  /** Ends a subscription; returns the names of the items it was for. */
  private removeSub(peer: string, folder: string, wantId: number): string[] {
    const names: string[] = [];
    for (const [k, list] of this.subs) {
      if (!k.startsWith(`${folder}\u0000`)) continue;
      const rest = list.filter((x) => !(x.peer === peer && x.wantId === wantId));
      if (rest.length !== list.length) {
        names.push(k.slice(folder.length + 1));
        if (rest.length) this.subs.set(k, rest);
        else this.subs.delete(k);
      }
    }
    return names;
  }

  /** Push the growth of a log to its subscribers; end subscriptions of an older epoch. */
  private pushToSubs(f: FolderState, m: ItemMeta): Effect[] {
    const k = key(f.cfg.id, m.name);
    const list = this.subs.get(k);
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
    if (keep.length) this.subs.set(k, keep);
    else this.subs.delete(k);
    return out;
  }

  // ---------------------------------------------------------------- local changes

  /** Changes the store found on disk (a tool wrote, or the daemon was down). */
  localChanges(folder: string, changes: readonly LocalChange[], now: number): Effect[] {
    const f = this.folders.get(folder);
    if (!f) return [];
    const out: Effect[] = [];
    for (const c of changes) out.push(...this.localChange(f, c, now));
    return out;
  }

  private localChange(f: FolderState, c: LocalChange, now: number): Effect[] {
    // Any change in the folder may have cleared what blocked an item (its own write completed,
    // or the name its conflict copy needed was found taken): try those again afterwards.
    const retry = [...this.blocked].filter((b) => b.startsWith(`${f.cfg.id}\u0000`));
    for (const b of retry) this.blocked.delete(b);
    const out = this.recordLocal(f, c, now);
    for (const b of retry) if (b !== key(f.cfg.id, c.state.name)) out.push(...this.evaluate(f, b.slice(f.cfg.id.length + 1), now));
    return out;
  }

  private recordLocal(f: FolderState, c: LocalChange, now: number): Effect[] {
    const name = c.state.name;
    const k = key(f.cfg.id, name);
    const l = f.local.get(name);
    const out: Effect[] = [];
    // A pull in progress expected the old content: drop it and decide again once this is recorded.
    const fe = this.fetches.get(k);
    if (fe) out.push(...this.dropFetch(fe, true));
    let next: ItemMeta;
    if (c.change === 'append' && l && !l.deleted && l.kind === 'log') {
      next = { ...c.state, version: l.version, seq: l.seq, modifiedBy: this.device };
    } else if (c.change === 'delete' || c.state.deleted) {
      if (!l || l.deleted) return out;
      if (l.kind === 'log' && f.cfg.logDeletes === 'local') {
        f.dropped.set(name, l);
        f.local.delete(name);
        this.persistLocal(f, name);
        return [...out, ...this.pushToSubs(f, { ...l, deleted: true })];
      }
      // A log's tombstone keeps the position it deleted, so a peer can tell lines it appended
      // meanwhile (which the delete never saw, and which win over it) from lines it merely had.
      const at = l.kind === 'log' ? { size: l.size, lines: l.lines, hash: l.hash } : { size: 0, lines: 0, hash: ZERO_HASH };
      next = { ...l, ...at, deleted: true, mtimeMs: now, version: bumpVersion(l.version, this.device), seq: l.seq, modifiedBy: this.device };
    } else {
      next = { ...c.state, version: bumpVersion(l?.version ?? f.dropped.get(name)?.version ?? EMPTY_VERSION, this.device), seq: 0, modifiedBy: this.device };
      f.dropped.delete(name);
    }
    out.push(...this.commitLocal(f, next));
    // A local change may diverge from what peers hold: decide again. After an append, a peer at
    // our previous end is known to hold our prefix and needs no check.
    const before = c.change === 'append' && l ? endOf(l) : undefined;
    out.push(...this.evaluate(f, name, now, before));
    return out;
  }

  /** Record a new local state: next sequence number, persist, announce, push to subscribers. */
  private commitLocal(f: FolderState, m: ItemMeta): Effect[] {
    f.seq += 1;
    const rec: ItemMeta = { ...m, seq: f.seq };
    f.local.set(rec.name, rec);
    for (const peer of this.links.keys()) this.settled.delete(`${key(f.cfg.id, rec.name)}\u0000${peer}`);
    this.persistLocal(f, rec.name);
    this.persistFolder(f);
    const out: Effect[] = [];
    for (const s of this.links.values()) {
      if (s.phase === 'open' && s.ready.has(f.cfg.id)) {
        out.push({ t: 'send', peer: s.peer, msg: { t: 'index', folder: f.cfg.id, indexId: f.indexId, items: [rec], upTo: f.seq } });
      }
    }
    out.push(...this.pushToSubs(f, rec));
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
  removeEverywhere(folder: string, name: string, now: number): Effect[] {
    const f = this.folders.get(folder);
    if (!f) return [];
    const k = key(f.cfg.id, name);
    const out: Effect[] = [];
    const fe = this.fetches.get(k);
    if (fe) out.push(...this.dropFetch(fe, true));
    this.replacing.delete(k);
    const l = f.local.get(name);
    if (l && !l.deleted) {
      this.removing.add(k);
      return [...out, { t: 'remove', folder: f.cfg.id, name, expected: diskStateOf(l) }];
    }
    return [...out, ...this.commitRemoval(f, name, now)];
  }

  /** The tombstone of `removeEverywhere` (see there); nothing when no device holds the item. */
  private commitRemoval(f: FolderState, name: string, now: number): Effect[] {
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
    this.notes.push(`${f.cfg.id}/${name}: removed on every device (roam rm)`);
    return this.commitLocal(f, { ...base, ...at, name, deleted: true, mtimeMs: now, version: bumpVersion(version, this.device), seq: 0, modifiedBy: this.device });
  }

  // ---------------------------------------------------------------- deciding what to pull

  private grewElsewhere(dropped: ItemMeta, r: ItemMeta): boolean {
    const ord = compareVersions(dropped.version, r.version);
    return ord === 'lesser' || ((ord === 'equal' || ord === 'concurrent') && r.size > dropped.size);
  }

  /** Decide what to do about one item, given what the connected peers hold. */
  private evaluate(f: FolderState, name: string, now: number, prefix?: LogPos): Effect[] {
    const k = key(f.cfg.id, name);
    if (this.blocked.has(k) || this.opts.ignores?.(f.cfg.id, name)) return [];
    let active = this.fetches.get(k);
    // A log pulled whole (a new epoch, or a conflict's winner) is committed once its runs reach
    // the target's end. If the source has since put another log of the same version in its place
    // that does not reach that end (it lost a divergence within one epoch and took another
    // device's lines), no run will ever get there and the pull would wait for good: drop it and
    // decide again from what the source holds now.
    const stale = active?.mode === 'stage' && this.sourceReplaced(f, active) ? this.dropFetch(active, true) : null;
    if (stale) active = undefined;
    if (active && !(active.mode === 'append' && active.runStart === null)) return [];
    const peers = [...this.links.values()].filter((s) => s.phase === 'open' && s.ready.has(f.cfg.id)).map((s) => s.peer).sort();
    for (const peer of peers) {
      const r = f.peers.get(peer)?.items.get(name);
      if (!r || this.failed.get(`${k}\u0000${peer}`) === r.seq || this.isSettled(f, k, peer, r)) continue;
      if (active && r.size > active.expected.offset) {
        // Stay with the current source while it can give what this peer has more than us.
        const src = f.peers.get(active.peer)?.items.get(name) ?? active.target;
        if (compareVersions(src.version, r.version) === 'equal' && (peer === active.peer || src.size >= r.size)) continue;
      }
      if (prefix && samePos(prefix, endOf(r))) continue;
      const effects = this.judge(f, name, peer, r, now);
      if (effects.length) {
        if (active && this.fetches.get(k) === active) effects.unshift(...this.dropFetch(active, true));
        return stale ? [...stale, ...effects] : effects;
      }
    }
    return stale ?? [];
  }

  private isSettled(f: FolderState, k: string, peer: string, r: ItemMeta): boolean {
    const s = this.settled.get(`${k}\u0000${peer}`);
    if (!s) return false;
    if (s.remote === r && s.local === f.local.get(r.name)) return true;
    this.settled.delete(`${k}\u0000${peer}`);
    return false;
  }

  /** Nothing to do about `r` while it and `l` stay as they are (see `settled`). */
  private settle(f: FolderState, peer: string, l: ItemMeta, r: ItemMeta): void {
    this.settled.set(`${key(f.cfg.id, l.name)}\u0000${peer}`, { local: l, remote: r });
  }

  /** Whether the source of a whole-log pull now announces a log of the target's version that does not reach the target. */
  private sourceReplaced(f: FolderState, fe: Fetch): boolean {
    const src = f.peers.get(fe.peer)?.items.get(fe.name);
    const t = fe.target;
    if (!src || src.seq === t.seq || src.deleted || src.kind !== 'log' || compareVersions(src.version, t.version) !== 'equal') return false;
    return src.size < t.size || (src.size === t.size && !bytesEqual(src.hash, t.hash));
  }

  private judge(f: FolderState, name: string, peer: string, r: ItemMeta, now: number): Effect[] {
    const l = f.local.get(name);
    if (!l) {
      if (r.deleted) {
        // A log dropped here (a local delete) that is now deleted everywhere: the tombstone replaces it.
        f.dropped.delete(name);
        return this.commitLocal(f, { ...r, seq: 0 });
      }
      const d = f.dropped.get(name);
      if (d && !this.grewElsewhere(d, r)) return [];
      return this.startFetch(f, peer, r, null);
    }
    const ord = compareVersions(l.version, r.version);
    if (ord === 'greater') return [];
    if (l.deleted && r.deleted) return ord === 'lesser' ? this.commitLocal(f, { ...r, seq: 0 }) : [];
    if (ord === 'lesser') {
      if (r.deleted) {
        // A modification beats a concurrent delete (as in Syncthing). Appends do not bump the
        // version, so for a log "concurrent" means: this log holds lines the deleted one did not.
        if (l.kind === 'log' && !l.deleted && (l.size > r.size || (l.size === r.size && !bytesEqual(l.hash, r.hash)))) {
          this.notes.push(`${f.cfg.id}/${name}: kept against a delete from ${r.modifiedBy}, which had not seen its last lines`);
          return this.commitLocal(f, { ...l, version: bumpVersion(mergeVersions(l.version, r.version), this.device), modifiedBy: this.device });
        }
        return [{ t: 'remove', folder: f.cfg.id, name, expected: diskStateOf(l) }];
      }
      if (l.deleted) return this.startFetch(f, peer, r, null);
      if (sameContent(l, r)) {
        // A newer record of the same bytes (a writer set the mtime after the content, say): the
        // file takes its mtime first, then its record; the record alone left the disk behind.
        if (r.mtimeMs !== l.mtimeMs) return [{ t: 'touch', folder: f.cfg.id, name, mtimeMs: r.mtimeMs, expected: diskStateOf(l) }];
        return this.commitLocal(f, { ...l, version: r.version, mtimeMs: r.mtimeMs, modifiedBy: r.modifiedBy });
      }
      return this.startFetch(f, peer, r, l);
    }
    // Equal or concurrent versions.
    if (l.deleted !== r.deleted) return l.deleted ? this.startFetch(f, peer, r, null) : [];
    // Identical content under concurrent versions is no conflict; both keep the newer mtime, as
    // Syncthing does. Versions are never merged: a merged vector would dominate a peer that kept
    // appending in the same epoch and read as a truncation there.
    if (sameContent(l, r)) return r.mtimeMs > l.mtimeMs ? [{ t: 'touch', folder: f.cfg.id, name, mtimeMs: r.mtimeMs, expected: diskStateOf(l) }] : [];
    if (l.kind === 'log') {
      switch (relate(endOf(l), endOf(r))) {
        case 'remote-longer':
          return this.startFetch(f, peer, r, l);
        case 'local-longer':
          // A peer pulling from us is catching up with our prefix; any other is checked.
          if ((this.subs.get(key(f.cfg.id, name)) ?? []).some((s) => s.peer === peer)) return [];
          return [{ t: 'positionAt', folder: f.cfg.id, name, offset: r.size, peer }];
        default:
          break; // divergent (equal content was handled above)
      }
    }
    return this.conflict(f, l, r, peer, now);
  }

  /**
   * Pulls that failed on a store I/O error (ENOSPC, EIO…) are not retried until the peer's record
   * changes, like any failed pull; the runner calls this later to try them again (the disk may
   * have room again).
   */
  retryFailedIo(now: number): Effect[] {
    const items = new Set<string>();
    for (const fk of this.ioFailed) {
      this.failed.delete(fk);
      items.add(fk.slice(0, fk.lastIndexOf('\u0000')));
    }
    this.ioFailed.clear();
    const out: Effect[] = [];
    for (const k of items) {
      const cut = k.indexOf('\u0000');
      const f = this.folders.get(k.slice(0, cut));
      if (f) out.push(...this.evaluate(f, k.slice(cut + 1), now));
    }
    return out;
  }

  /** Decide about an item again (the runner asks after a deep scan that found nothing new). */
  recheck(folder: string, name: string, now: number, unblock = false): Effect[] {
    const f = this.folders.get(folder);
    if (unblock) this.blocked.delete(key(folder, name)); // what held it is gone (a partial last line dropped)
    return f ? this.evaluate(f, name, now) : [];
  }

  /**
   * Divergence: the policy picks a winner. If ours lost, it is copied aside (fork or conflict
   * copy) and then the winner, pulled whole into a temp file, replaces it: the name never goes
   * missing, on this device or any other.
   */
  private conflict(f: FolderState, l: ItemMeta, r: ItemMeta, peer: string, now: number): Effect[] {
    const verify = this.verifyThen(f, l.name);
    if (verify) return verify;
    const v = decide(f.cfg.conflict, f.cfg.id, l, r, now, this.opts.hooks);
    if (v.winner === l) {
      // The peer takes ours. Other peers may still hold what we lack (a longer log of our own
      // epoch, a conflict ours loses): the caller goes on to them.
      this.settle(f, peer, l, r);
      return [];
    }
    this.notes.push(`conflict on ${f.cfg.id}/${l.name}: keeping the version from ${r.modifiedBy}, ours is kept as ${v.copyName}`);
    // The copy may exist already: the same content (another device resolved the same conflict,
    // or a pull of the winner was interrupted) needs no second copy; other content (a
    // Syncthing-style name taken in the same second) gets a numbered name.
    let to = v.copyName;
    for (let n = 2; ; n++) {
      const existing = f.local.get(to);
      if (!existing || existing.deleted) break;
      if (sameContent(existing, l)) return this.replaceWith(f, peer, r, l);
      const { dir, stem, ext } = splitName(v.copyName);
      to = `${dir}${stem}-${n}${ext}`;
    }
    this.replacing.set(key(f.cfg.id, l.name), { peer, winner: r });
    return [{ t: 'copy', folder: f.cfg.id, name: l.name, to, expected: diskStateOf(l) }];
  }

  /** Pulls `r` whole and puts it in place of `l` (the loser of a conflict, already copied aside). */
  private replaceWith(f: FolderState, peer: string, r: ItemMeta, l: ItemMeta): Effect[] {
    if (!this.links.has(peer)) return [];
    const k = key(f.cfg.id, r.name);
    const wantId = this.nextWantId++;
    const fe: Fetch = {
      wantId, peer, folder: f.cfg.id, name: r.name, target: r,
      mode: r.kind === 'file' ? 'file' : 'stage',
      expected: GENESIS, runStart: null, parts: [], partBytes: 0, nextChunk: 0,
      replaces: diskStateOf(l), staged: false,
    };
    this.fetches.set(k, fe);
    if (r.kind === 'log' && r.size === 0) return this.commitEmpty(f, fe);
    return [{ t: 'send', peer, msg: { t: 'want', folder: f.cfg.id, name: r.name, wantId, version: r.version, kind: r.kind, from: GENESIS, hash: r.hash } }];
  }

  private startFetch(f: FolderState, peer: string, r: ItemMeta, l: ItemMeta | null): Effect[] {
    const k = key(f.cfg.id, r.name);
    const wantId = this.nextWantId++;
    const live = l && !l.deleted ? l : null;
    const from = r.kind === 'log' && live ? endOf(live) : GENESIS;
    const fe: Fetch = {
      wantId, peer, folder: f.cfg.id, name: r.name, target: r,
      mode: r.kind === 'file' ? 'file' : 'append',
      expected: from, runStart: null, parts: [], partBytes: 0, nextChunk: 0,
      replaces: live ? diskStateOf(live) : null, staged: false,
    };
    this.fetches.set(k, fe);
    if (r.kind === 'log' && r.size === 0) return this.commitEmpty(f, fe);
    return [{ t: 'send', peer, msg: { t: 'want', folder: f.cfg.id, name: r.name, wantId, version: r.version, kind: r.kind, from, hash: r.hash } }];
  }

  /** An empty log (new, or truncated to zero) has no lines to pull: write it as it is. */
  private commitEmpty(f: FolderState, fe: Fetch): Effect[] {
    const r = fe.target;
    this.fetches.set(key(f.cfg.id, r.name), { ...fe, mode: 'file' });
    return [{ t: 'stageCommit', folder: f.cfg.id, name: r.name, target: { kind: 'log', size: 0, lines: 0, hash: r.hash, mtimeMs: r.mtimeMs, mode: r.mode }, expected: fe.replaces }];
  }

  private dropFetch(fe: Fetch, cancel: boolean): Effect[] {
    this.fetches.delete(key(fe.folder, fe.name));
    const out: Effect[] = [];
    if (cancel && this.links.has(fe.peer)) out.push({ t: 'send', peer: fe.peer, msg: { t: 'cancel', folder: fe.folder, wantId: fe.wantId } });
    if (fe.staged) out.push({ t: 'stageAbort', folder: fe.folder, name: fe.name });
    return out;
  }

  private fetchFor(peer: string, folder: string, name: string, wantId: number): Fetch | undefined {
    const fe = this.fetches.get(key(folder, name));
    return fe && fe.peer === peer && fe.wantId === wantId ? fe : undefined;
  }

  // ---------------------------------------------------------------- receiving data

  private onLogData(s: PeerLink, msg: Extract<Message, { t: 'logData' }>, now: number): Effect[] {
    const fe = this.fetchFor(s.peer, msg.folder, msg.name, msg.wantId);
    if (!fe || fe.mode === 'file') return [];
    const f = this.folders.get(fe.folder)!;
    if (compareVersions(fe.target.version, msg.version) !== 'equal') return this.restart(fe, now);
    if (msg.chunk === 0) {
      if (!samePos(msg.start, fe.expected)) return this.restart(fe, now);
      fe.runStart = msg.start;
      fe.parts = [];
      fe.partBytes = 0;
      fe.nextChunk = 0;
    } else if (fe.runStart === null || msg.chunk !== fe.nextChunk || !samePos(msg.start, fe.runStart)) {
      return this.restart(fe, now);
    }
    fe.parts.push(msg.data);
    fe.partBytes += msg.data.length;
    fe.nextChunk += 1;
    if (fe.partBytes > this.maxLineBytes + MAX_DATA_BYTES) {
      this.notes.push(`${fe.folder}/${fe.name}: a line from ${s.name} exceeds ${this.maxLineBytes} bytes; not replicated`);
      this.failed.set(`${key(fe.folder, fe.name)}\u0000${fe.peer}`, fe.target.seq);
      return this.dropFetch(fe, true);
    }
    if (msg.end === null) {
      // A sender finishes one line before it starts another, so the parts another pull from
      // this peer still holds were abandoned: pull that item again. Held on to, they would let a
      // peer make us keep a line's worth of memory (up to maxLineBytes) for every item at once.
      if (msg.chunk !== 0) return [];
      const abandoned = [...this.fetches.values()].filter((o) => o !== fe && o.peer === fe.peer && o.partBytes > 0);
      return abandoned.flatMap((o) => this.restart(o, now));
    }
    const start = fe.runStart!;
    const data = fe.parts;
    fe.runStart = null;
    fe.parts = [];
    fe.partBytes = 0;
    fe.expected = msg.end;
    if (fe.mode === 'append') {
      return [{ t: 'append', folder: f.cfg.id, name: fe.name, start, data, end: msg.end, mtimeMs: msg.mtimeMs, mode: fe.target.mode }];
    }
    // A new epoch written beside the old content until it reaches the announced end.
    fe.staged = true;
    const out: Effect[] = data.map((d, i) => ({ t: 'stageWrite', folder: f.cfg.id, name: fe.name, offset: start.offset + sumLengths(data, i), data: d }) as const);
    if (msg.end.offset >= fe.target.size) {
      out.push({ t: 'stageCommit', folder: f.cfg.id, name: fe.name, target: { kind: 'log', size: msg.end.offset, lines: msg.end.line, hash: msg.end.hash, mtimeMs: msg.mtimeMs, mode: fe.target.mode }, expected: fe.replaces });
    }
    return out;
  }

  private onFileData(s: PeerLink, msg: Extract<Message, { t: 'fileData' }>, now: number): Effect[] {
    const fe = this.fetchFor(s.peer, msg.folder, msg.name, msg.wantId);
    if (!fe || fe.mode !== 'file') return [];
    if (compareVersions(fe.target.version, msg.version) !== 'equal' || !bytesEqual(msg.hash, fe.target.hash) || msg.offset !== fe.expected.offset) return this.restart(fe, now);
    fe.staged = true;
    fe.expected = { offset: msg.offset + msg.data.length, line: 0, hash: ZERO_HASH };
    const out: Effect[] = [{ t: 'stageWrite', folder: fe.folder, name: fe.name, offset: msg.offset, data: msg.data }];
    if (msg.done) {
      out.push({ t: 'stageCommit', folder: fe.folder, name: fe.name, target: { kind: 'file', size: msg.size, lines: 0, hash: msg.hash, mtimeMs: msg.mtimeMs, mode: msg.mode }, expected: fe.replaces });
    }
    return out;
  }

  private onDiverged(s: PeerLink, msg: Extract<Message, { t: 'diverged' }>, now: number): Effect[] {
    const fe = this.fetchFor(s.peer, msg.folder, msg.name, msg.wantId);
    if (!fe) return [];
    const f = this.folders.get(fe.folder)!;
    const l = f.local.get(fe.name);
    this.fetches.delete(key(fe.folder, fe.name));
    if (!l || l.deleted) return this.evaluate(f, fe.name, now);
    if (compareVersions(l.version, fe.target.version) === 'lesser') {
      // A newer epoch that does not extend our log: fetch it whole, beside ours.
      if (fe.target.size === 0) return this.commitEmpty(f, fe);
      const wantId = this.nextWantId++;
      this.fetches.set(key(fe.folder, fe.name), { ...fe, wantId, mode: 'stage', expected: GENESIS, runStart: null, parts: [], partBytes: 0, nextChunk: 0, staged: false });
      return [{ t: 'send', peer: s.peer, msg: { t: 'want', folder: fe.folder, name: fe.name, wantId, version: fe.target.version, kind: 'log', from: GENESIS, hash: fe.target.hash } }];
    }
    const r = f.peers.get(s.peer)?.items.get(fe.name) ?? fe.target;
    return this.conflictThenOthers(f, l, r, s.peer, now);
  }

  /**
   * A conflict found outside `evaluate`'s pass over the peers (a `diverged` answer, a position
   * checked): when ours wins, decide about the item with the remaining peers too, which that
   * pass stopped short of when it sent the question.
   */
  private conflictThenOthers(f: FolderState, l: ItemMeta, r: ItemMeta, peer: string, now: number): Effect[] {
    const out = this.conflict(f, l, r, peer, now);
    return out.length ? out : this.evaluate(f, l.name, now);
  }

  private onGone(s: PeerLink, msg: Extract<Message, { t: 'gone' }>, now: number): Effect[] {
    const fe = this.fetchFor(s.peer, msg.folder, msg.name, msg.wantId);
    if (!fe) return [];
    const out = this.dropFetch(fe, false);
    this.failed.set(`${key(fe.folder, fe.name)}\u0000${fe.peer}`, fe.target.seq);
    return [...out, ...this.evaluate(this.folders.get(fe.folder)!, fe.name, now)];
  }

  /** A run that does not fit where we are: cancel and decide again from the indexes. */
  private restart(fe: Fetch, now: number): Effect[] {
    return [...this.dropFetch(fe, true), ...this.evaluate(this.folders.get(fe.folder)!, fe.name, now)];
  }

  // ---------------------------------------------------------------- store results

  /** The outcome of a store effect this replicator asked for. */
  applied(effect: StoreEffect, result: Applied, now: number): Effect[] {
    const f = this.folders.get(effect.folder);
    if (!f) return [];
    const k = key(f.cfg.id, effect.name);
    const fe = this.fetches.get(k);
    if (!result.ok) {
      this.notes.push(`${effect.t} ${effect.folder}/${effect.name} failed: ${result.code} ${result.message}`);
      if (effect.t === 'remove') this.removing.delete(k);
      const out: Effect[] = fe ? this.dropFetch(fe, true) : [];
      const l = f.local.get(effect.name);
      if (result.code === 'ROAM_STORE_CONFLICT' && effect.t === 'append' && !(l && samePos(endOf(l), effect.start))) {
        // Our record moved on since the pull began (a local change was recorded): decide again.
        out.push(...this.evaluate(f, effect.name, now));
      } else if (result.code === 'ROAM_STORE_CONFLICT') {
        // The disk holds what we have not recorded (a tool is mid-write, or something sits where a
        // conflict copy goes): look, and wait for a change before trying again.
        this.blocked.add(k);
        out.push({ t: 'scan', folder: f.cfg.id, names: effect.t === 'copy' ? [effect.name, effect.to] : [effect.name] });
      } else if (fe) {
        this.failed.set(`${k}\u0000${fe.peer}`, fe.target.seq);
        if (result.code === ErrorCodes.STORE_IO) this.ioFailed.add(`${k}\u0000${fe.peer}`);
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
          else this.fetches.delete(k);
        }
        const out = this.commitLocal(f, { ...state, version, seq: 0, modifiedBy: target.modifiedBy });
        f.dropped.delete(effect.name);
        if (!this.fetches.has(k)) out.push(...this.evaluate(f, effect.name, now));
        return out;
      }
      case 'remove': {
        if (this.removing.delete(k)) return [...this.commitRemoval(f, effect.name, now), ...this.evaluate(f, effect.name, now)];
        const l = f.local.get(effect.name);
        const r = this.newestRemote(f, effect.name);
        if (l && r?.deleted) return this.commitLocal(f, { ...r, seq: 0 });
        f.local.delete(effect.name);
        this.persistLocal(f, effect.name);
        return this.evaluate(f, effect.name, now);
      }
      case 'touch': {
        const l = f.local.get(effect.name);
        return l ? [...this.commitLocal(f, { ...l, mtimeMs: result.state!.mtimeMs }), ...this.evaluate(f, effect.name, now)] : [];
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
        const pulling = this.fetches.get(key(f.cfg.id, state.name));
        const out = pulling ? this.dropFetch(pulling, true) : [];
        // The copy is authored by whoever wrote the content it keeps (its mtime is kept too): the
        // same loser copied on two devices is then one record for the conflict order, which would
        // otherwise rank it by the copying device and judge it both ways against a third content.
        const l = f.local.get(effect.name);
        out.push(...this.commitLocal(f, { ...state, version: bumpVersion(copy?.version ?? EMPTY_VERSION, this.device), seq: 0, modifiedBy: l?.modifiedBy ?? this.device }));
        const pending = this.replacing.get(k);
        this.replacing.delete(k);
        out.push(...(pending && l ? this.replaceWith(f, pending.peer, pending.winner, l) : this.evaluate(f, effect.name, now)));
        out.push(...this.evaluate(f, state.name, now));
        return out;
      }
      case 'positionAt': {
        const l = f.local.get(effect.name);
        const r = f.peers.get(effect.peer)?.items.get(effect.name);
        if (!l || !r || l.deleted || r.deleted || r.size !== effect.offset) return [];
        if (result.pos && samePos(result.pos, endOf(r))) {
          // The peer holds a prefix of ours and will pull the rest: go on to the other peers.
          this.settle(f, effect.peer, l, r);
          return this.evaluate(f, effect.name, now);
        }
        return this.conflictThenOthers(f, l, r, effect.peer, now);
      }
      default:
        return [];
    }
  }

  private newestRemote(f: FolderState, name: string): ItemMeta | undefined {
    let best: ItemMeta | undefined;
    for (const v of f.peers.values()) {
      const r = v.items.get(name);
      if (r && (!best || compareVersions(r.version, best.version) === 'greater')) best = r;
    }
    return best;
  }
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

function sumLengths(parts: readonly Uint8Array[], n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += parts[i]!.length;
  return s;
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
