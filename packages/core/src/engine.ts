/**
 * The engine runs a `Replicator` against real ports: one `FolderStore` per folder, one `Link` per
 * connected peer, a clock. It is the only async orchestration in the core:
 *
 * - every input (a frame, a local change, a link event) is handled to completion, store effects
 *   included, before the next one starts, so the pure state never races its own writes;
 * - a peer's frames are handled one at a time and `onFrame` resolves only after the effects are
 *   applied, which gives receive backpressure (the link stops reading while the disk catches up);
 * - sends and serves go to a per-peer queue that awaits each `Link.send`, which gives send
 *   backpressure without blocking other peers;
 * - a malformed frame closes that peer's link, never the engine.
 */
import { concatBytes } from './bytes.js';
import { ErrorCodes, RoamError, isRoamError } from './errors.js';
import type { DiskState, ItemMeta, LocalChange } from './items.js';
import { LineChain } from './log/chain.js';
import { DEFAULT_PARTIAL_TAIL_MS, PartialTails } from './partial-tails.js';
import type { Hasher } from './log/hash.js';
import { GENESIS, endOf, samePos, type LogPos } from './log/position.js';
import { MAX_DATA_BYTES, MAX_CHECKPOINTS, decodeMessage, encodeMessage, type Message } from './protocol/index.js';
import type { Applied, Effect, StoreEffect } from './replication/effects.js';
import { Replicator, type FolderConfig, type ReplicatorOptions, type SyncState } from './replication/replicator.js';
import { compareVersions } from './replication/version.js';
import type { FolderStore, StagedWrite } from './store.js';

/** A reliable, ordered, bidirectional frame channel to one peer (a libp2p stream, or a test pipe). */
export interface Link {
  /**
   * Resolves once the transport has accepted the frame (waits while it is congested). `msg` is what
   * the frame encodes, for a link that counts what it carries without decoding it again.
   */
  send(frame: Uint8Array, msg?: Message): Promise<void>;
  close(reason: string): void;
  /**
   * Nothing more is queued for this peer right now. A link may hold small frames back to send
   * several in one transport write (one muxer frame, one encryption record); it must send what it
   * holds when this is called.
   */
  flush?(): void;
}

export interface Clock {
  now(): number;
}

export interface EngineOptions extends ReplicatorOptions {
  readonly stores: ReadonlyMap<string, FolderStore>;
  readonly hasher: Hasher;
  readonly clock: Clock;
  readonly log?: (line: string) => void;
  /**
   * After a pull failed on a store I/O error (a full disk), try it again after this long,
   * doubling up to 60 s while it keeps failing (default 2 s).
   */
  readonly ioRetryMs?: number;
  /** A partial last line that holds up a write is dropped after this long unwritten (default 30 s; see partial-tails.ts). */
  readonly partialTailMs?: number;
  /** Whether a tool on this device holds the item open now: its partial last line is then never dropped. */
  readonly liveWriter?: (folder: string, name: string) => boolean;
}

const IO_RETRY_MAX_MS = 60_000;
/** Effects that go on a peer's queue (messages and serves), in the order they were produced. */
type PeerEffect = Extract<Effect, { t: 'send' | 'serveLog' | 'serveFile' }>;
/**
 * While more inputs are waiting, the replication state is journaled once for up to this many of
 * them (group commit) instead of once per input: one fsync per batch of received files, not per file.
 */
const MAX_DEFERRED_INPUTS = 32;
/** Longest run served between known positions without hashing (the receiver holds a run in memory). */
const MAX_KNOWN_RUN = 4 * MAX_DATA_BYTES;

interface PeerChannel {
  readonly link: Link;
  /** Outgoing work for this peer, run in order. */
  queue: Promise<void>;
  /** Jobs in `queue` not finished yet: the link is flushed when the last one is done. */
  jobs: number;
  closed: boolean;
}

export class Engine {
  readonly replicator: Replicator;
  private readonly opts: EngineOptions;
  /** The folders' stores: the options' ones, and those added while running (`addFolder`). */
  private readonly stores: Map<string, FolderStore>;
  private readonly peers = new Map<string, PeerChannel>();
  private readonly staged = new Map<string, StagedWrite>();
  private serial: Promise<void> = Promise.resolve();
  /** Inputs waiting behind the one running. */
  private waiting = 0;
  /** Inputs handled since the replication state was last journaled. */
  private deferred = 0;
  /**
   * Resolves once the replication state of the inputs handled so far is journaled. Messages wait
   * for it before they go out, so a peer never hears of a state a crash could still take back.
   */
  private durable: Promise<void> = Promise.resolve();
  private markDurable: (() => void) | undefined;
  private ioRetry: ReturnType<typeof setTimeout> | undefined;
  private ioRetryDelay: number;
  private readonly tails: PartialTails;
  private closing = false;
  /** Counters for status and benchmarks. */
  readonly stats = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, refusedFrames: 0 };

  private constructor(opts: EngineOptions, replicator: Replicator) {
    this.opts = opts;
    this.stores = new Map(opts.stores);
    this.replicator = replicator;
    this.ioRetryDelay = opts.ioRetryMs ?? 2_000;
    this.tails = new PartialTails({
      stores: opts.stores, now: () => opts.clock.now(), boundMs: opts.partialTailMs ?? DEFAULT_PARTIAL_TAIL_MS, liveWriter: opts.liveWriter, log: (l) => this.log(l),
      input: (fn) => this.input(fn), retry: (folder, name) => this.run(this.replicator.recheck(folder, name, opts.clock.now(), true)),
    });
  }

  /**
   * Opens every store (recovering interrupted writes), restores the replication state, and
   * reconciles the two: whatever is on disk but not recorded (a crash between a write and its
   * record, or edits while the daemon was down) becomes a local change.
   */
  static async open(opts: EngineOptions): Promise<Engine> {
    const saved = new Map<string, unknown>();
    const onDisk = new Map<string, DiskState[]>();
    for (const [id, store] of opts.stores) {
      onDisk.set(id, await store.open());
      for (const [k, v] of await store.meta.load()) saved.set(k, v);
    }
    const engine = new Engine(opts, new Replicator(opts, saved));
    await engine.input(async () => {
      for (const [id, store] of opts.stores) await engine.reconcileAndScan(id, store, onDisk.get(id)!);
    });
    return engine;
  }

  /**
   * A folder opened while running (a tool installed here, a tool folder a peer shares, a folder
   * the user added): its store is opened and reconciled as at start, and the peers hear of it.
   */
  addFolder(cfg: FolderConfig, store: FolderStore): Promise<void> {
    return this.input(async () => {
      if (this.stores.has(cfg.id)) return;
      const onDisk = await store.open();
      this.stores.set(cfg.id, store);
      await this.run(this.replicator.addFolder(cfg, new Map(await store.meta.load()), this.opts.clock.now()));
      await this.reconcileAndScan(cfg.id, store, onDisk);
    });
  }

  private async reconcileAndScan(folder: string, store: FolderStore, onDisk: DiskState[]): Promise<void> {
    const changes = await this.reconcile(folder, store, onDisk);
    changes.push(...(await store.scan()));
    await this.run(this.replicator.localChanges(folder, changes, this.opts.clock.now()));
  }

  private async reconcile(folder: string, store: FolderStore, states: DiskState[]): Promise<LocalChange[]> {
    const out: LocalChange[] = [];
    const seen = new Set<string>();
    for (const s of states) {
      seen.add(s.name);
      const rec = this.replicator.local(folder, s.name);
      if (rec && !rec.deleted && rec.size === s.size && samePos(endOf(rec), endOf(s))) continue;
      let change: LocalChange['change'] = 'replace';
      if (rec && !rec.deleted && s.kind === 'log' && s.size > rec.size) {
        const at = await store.positionAt(s.name, rec.size);
        if (at && samePos(at, endOf(rec))) change = 'append';
      }
      out.push({ change, state: s });
    }
    for (const rec of this.replicator.localItems(folder)) {
      if (!rec.deleted && !seen.has(rec.name)) out.push({ change: 'delete', state: { ...rec, deleted: true } });
    }
    return out;
  }

  // ---------------------------------------------------------------- inputs

  /** Runs `fn` after every earlier input has been handled. */
  private input<T>(fn: () => Promise<T>): Promise<T> {
    this.waiting++;
    const p = this.serial.then(async () => {
      this.waiting--;
      try {
        return await fn();
      } finally {
        // The last input of a burst journals what the ones before it deferred.
        if (this.waiting === 0) await this.persist(true);
      }
    });
    this.serial = p.then(
      () => undefined,
      () => undefined,
    );
    return p;
  }

  /** A link to `peer` (its short device id) is up. */
  attach(peer: string, link: Link): Promise<void> {
    return this.input(async () => {
      const old = this.peers.get(peer);
      if (old) {
        old.closed = true;
        old.link.close('replaced by a new connection');
        await this.run(this.replicator.disconnected(peer, this.opts.clock.now()));
      }
      this.peers.set(peer, { link, queue: Promise.resolve(), jobs: 0, closed: false });
      await this.run(this.replicator.connected(peer));
    });
  }

  /** The link to `peer` went away. */
  detach(peer: string, link?: Link): Promise<void> {
    return this.input(async () => {
      const ch = this.peers.get(peer);
      if (!ch || (link && ch.link !== link)) return;
      ch.closed = true;
      this.peers.delete(peer);
      await this.run(this.replicator.disconnected(peer, this.opts.clock.now()));
    });
  }

  /** A frame from `peer`. Resolves when it has been applied (use it as receive backpressure). */
  onFrame(peer: string, frame: Uint8Array, link?: Link): Promise<void> {
    return this.input(async () => {
      const ch = this.peers.get(peer);
      if (!ch || ch.closed || (link && ch.link !== link)) return;
      this.stats.framesIn++;
      this.stats.bytesIn += frame.length;
      let msg: Message;
      try {
        msg = decodeMessage(frame);
      } catch (err) {
        this.stats.refusedFrames++;
        const e = isRoamError(err) ? err : new RoamError('ROAM_PROTOCOL_MALFORMED', String(err));
        this.log(`refused a frame from ${peer}: ${e.code} ${e.message}`);
        this.closePeer(peer, `${e.code}: ${e.message}`);
        await this.run(this.replicator.disconnected(peer, this.opts.clock.now()));
        return;
      }
      await this.run(this.replicator.receive(peer, msg, this.opts.clock.now()));
    });
  }

  /** Look at the disk for changes (all of the folder, or the named items). */
  scan(folder: string, names?: readonly string[]): Promise<void> {
    return this.input(async () => {
      const store = this.stores.get(folder);
      if (!store) return;
      const changes = await store.scan(names);
      if (changes.length) await this.run(this.replicator.localChanges(folder, changes, this.opts.clock.now()));
    });
  }

  /**
   * `roam rm`: deletes items on every device, also logs in a folder whose local deletes stay local
   * (see `Replicator.removeEverywhere`). Each item here goes to the store's trash; the result says,
   * per name, whether this device now holds this device's tombstone for it (false: nobody held it,
   * or the disk changed under the remove: a tool is writing it).
   */
  removeEverywhere(folder: string, names: readonly string[]): Promise<Array<{ name: string; removed: boolean; wasHere: boolean }>> {
    return this.input(async () => {
      const store = this.stores.get(folder);
      if (!store) throw new RoamError(ErrorCodes.USAGE, `no folder ${folder}`);
      // Record what the disk holds now (lines appended since the last scan), so the delete covers it.
      const changes = await store.scan(names);
      if (changes.length) await this.run(this.replicator.localChanges(folder, changes, this.opts.clock.now()));
      const out: Array<{ name: string; removed: boolean; wasHere: boolean }> = [];
      for (const name of names) {
        const before = this.replicator.local(folder, name);
        await this.run(this.replicator.removeEverywhere(folder, name, this.opts.clock.now()));
        const after = this.replicator.local(folder, name);
        const removed = !!after?.deleted && after.modifiedBy === this.replicator.device && after.seq !== before?.seq;
        out.push({ name, removed, wasHere: !!before && !before.deleted });
      }
      return out;
    });
  }

  /**
   * Runs `fn` between two inputs, with no store effect in flight: for work on a store's files that
   * must not interleave with replication (moving a project's files to another local directory).
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.input(fn);
  }

  /** This device's ignore rules or selective sync changed: tell the peers, decide again. */
  refreshFolders(): Promise<void> {
    return this.input(() => this.run(this.replicator.announceFolders(this.opts.clock.now())));
  }

  /** Resolves when every input so far has been handled and every queued send has gone out. */
  async settled(): Promise<void> {
    for (;;) {
      const serial = this.serial;
      await serial;
      await Promise.all([...this.peers.values()].map((p) => p.queue));
      if (serial === this.serial) return;
    }
  }

  /** Looks now at the partial last lines that hold up writes and are due (a timer does this by itself). */
  checkPartialTails(): Promise<void> {
    return this.input(() => this.tails.due());
  }

  syncState(peer: string): SyncState[] {
    return this.replicator.syncState(peer);
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.ioRetry);
    this.tails.close();
    await this.settled();
    for (const [peer] of this.peers) this.closePeer(peer, 'engine closing');
    for (const s of this.staged.values()) await s.abort();
    this.staged.clear();
    for (const store of this.stores.values()) await store.close();
  }

  // ---------------------------------------------------------------- effects

  private async run(effects: Effect[]): Promise<void> {
    // Messages go out in the order the replicator produced them. What it answers once a store
    // effect of this list is applied (handled depth first below) comes after every message of
    // this list, so those are queued first. Queued after, a `want` could reach the peer behind a
    // later `want` for the same item, whose subscription it then replaced: the peer served and
    // ended a pull this device had dropped, and the one it waited on never heard another word.
    const rest: Array<Exclude<Effect, PeerEffect>> = [];
    for (const e of effects) {
      if (e.t === 'send' || e.t === 'serveLog' || e.t === 'serveFile') this.queueForPeer(e);
      else rest.push(e);
    }
    for (const e of rest) {
      switch (e.t) {
        case 'close':
          this.closePeer(e.peer, e.reason);
          await this.run(this.replicator.disconnected(e.peer, this.opts.clock.now()));
          break;
        case 'scan': {
          const store = this.stores.get(e.folder)!;
          const changes = await store.scan(e.names, { deep: e.deep === true });
          await this.run(this.replicator.localChanges(e.folder, changes, this.opts.clock.now()));
          break;
        }
        case 'recheck':
          await this.run(this.replicator.recheck(e.folder, e.name, this.opts.clock.now()));
          break;
        default: {
          const result = await this.applyStore(e);
          if (!result.ok && result.code === ErrorCodes.STORE_IO) this.retryIoLater();
          else if (result.ok && (e.t === 'append' || e.t === 'stageCommit')) this.ioRetryDelay = this.opts.ioRetryMs ?? 2_000;
          await this.run(this.replicator.applied(e, result, this.opts.clock.now()));
          if (!result.ok && result.code === ErrorCodes.STORE_CONFLICT) await this.tails.refused(e.folder, e.name);
        }
      }
    }
    await this.persist();
    for (const note of this.replicator.notes.splice(0)) this.log(note);
  }

  /** Queues a message or a serve on its peer's queue. */
  private queueForPeer(e: PeerEffect): void {
    switch (e.t) {
      case 'send': {
        // Held until the state this input reached is journaled (see `persist`).
        if (!this.markDurable) this.durable = new Promise<void>((resolve) => (this.markDurable = resolve));
        const durable = this.durable;
        this.enqueue(e.peer, async () => {
          await durable;
          await this.sendNow(e.peer, e.msg);
        });
        return;
      }
      case 'serveLog':
        this.enqueue(e.peer, () => this.serving(e.peer, e.folder, e.name, e.wantId, () => this.serveLog(e)));
        return;
      case 'serveFile':
        this.enqueue(e.peer, () => this.serving(e.peer, e.folder, e.meta.name, e.wantId, () => this.serveFile(e.peer, e.folder, e.wantId, e.meta)));
    }
  }

  private async persist(force = false): Promise<void> {
    if (!force && this.waiting > 0 && this.deferred < MAX_DEFERRED_INPUTS) {
      // More inputs are waiting: journal once after them (or after MAX_DEFERRED_INPUTS), and
      // hold this input's messages until then. A crash meanwhile loses only state the disk
      // already holds, which `open` reconciles (as after a crash between a write and its record).
      this.deferred++;
      return;
    }
    this.deferred = 0;
    const mark = this.markDurable;
    this.markDurable = undefined;
    try {
      await this.journalState();
    } finally {
      // On failure too: the messages then go out as they did before group commit (the input fails).
      mark?.();
    }
  }

  private async journalState(): Promise<void> {
    const dirty = this.replicator.takeDirty();
    if (!dirty.length) return;
    const byFolder = new Map<string, Array<[string, unknown]>>();
    for (const entry of dirty) {
      const folder = entry[0].split('/')[1]!;
      let list = byFolder.get(folder);
      if (!list) byFolder.set(folder, (list = []));
      list.push(entry);
    }
    for (const [folder, entries] of byFolder) await this.stores.get(folder)?.meta.put(entries);
  }

  private async applyStore(e: StoreEffect): Promise<Applied> {
    const store = this.stores.get(e.folder)!;
    const sk = `${e.folder}\u0000${e.name}`;
    try {
      switch (e.t) {
        case 'append':
          return { ok: true, state: await store.appendLog(e.name, e.start, e.data, e.end, e.mtimeMs, e.mode) };
        case 'stageWrite': {
          let s = this.staged.get(sk);
          if (!s) this.staged.set(sk, (s = await store.stage(e.name)));
          await s.write(e.offset, e.data);
          return { ok: true };
        }
        case 'stageCommit': {
          const s = this.staged.get(sk) ?? (await store.stage(e.name));
          this.staged.delete(sk);
          try {
            return { ok: true, state: await s.commit(e.target, e.expected) };
          } catch (err) {
            await s.abort();
            throw err;
          }
        }
        case 'stageAbort': {
          const s = this.staged.get(sk);
          this.staged.delete(sk);
          await s?.abort();
          return { ok: true };
        }
        case 'remove':
          await store.remove(e.name, e.expected);
          return { ok: true, state: null };
        case 'touch':
          return { ok: true, state: await store.touch(e.name, e.mtimeMs, e.expected) };
        case 'copy':
          return { ok: true, state: await store.copy(e.name, e.to, e.expected) };
        case 'positionAt':
          return { ok: true, pos: await store.positionAt(e.name, e.offset) };
      }
    } catch (err) {
      if (isRoamError(err)) return { ok: false, code: err.code, message: err.message };
      throw err;
    }
  }

  /**
   * A pull failed on a store I/O error (a full disk, say): the replicator does not try it again
   * by itself (nothing in the folder changes when space is freed elsewhere), so try later, with
   * a growing delay while it keeps failing.
   */
  private retryIoLater(): void {
    if (this.closing || this.ioRetry !== undefined) return;
    const delay = this.ioRetryDelay;
    this.ioRetryDelay = Math.min(delay * 2, IO_RETRY_MAX_MS);
    this.ioRetry = setTimeout(() => {
      this.ioRetry = undefined;
      if (this.closing) return;
      void this.input(() => this.run(this.replicator.retryFailedIo(this.opts.clock.now()))).catch((err: unknown) => this.log(`retrying failed writes: ${String(err)}`));
    }, delay);
    (this.ioRetry as { unref?: () => void }).unref?.();
  }

  // ---------------------------------------------------------------- sending

  private enqueue(peer: string, job: () => Promise<void>): void {
    const ch = this.peers.get(peer);
    if (!ch || ch.closed) return;
    ch.jobs++;
    ch.queue = ch.queue.then(async () => {
      try {
        if (!ch.closed) await job();
      } catch (err) {
        const why = isRoamError(err) ? `${err.code}: ${err.message}` : String(err);
        this.log(`sending to ${peer} failed: ${why}`);
        if (this.peers.get(peer) !== ch) return;
        this.closePeer(peer, why);
        void this.input(async () => {
          // Unless a new link to the peer came up in the meantime, end the session.
          if (!this.peers.has(peer)) await this.run(this.replicator.disconnected(peer, this.opts.clock.now()));
        });
      } finally {
        // The burst is over (an index entry and the lines it announces, say): let them go out together.
        if (--ch.jobs === 0 && !ch.closed) ch.link.flush?.();
      }
    });
  }

  /**
   * Runs a serve. If the store refuses it because the item changed under it (removed or
   * rewritten before the replicator recorded that, or unreadable), that pull ends, not the
   * connection: the peer hears `gone` and decides again from our next record, and the item is
   * looked at again here. Closing the link for it dropped every message queued behind the serve,
   * the removal's own tombstone included.
   */
  private async serving(peer: string, folder: string, name: string, wantId: number, job: () => Promise<void>): Promise<void> {
    try {
      await job();
    } catch (err) {
      if (!isRoamError(err) || (err.code !== ErrorCodes.STORE_CONFLICT && err.code !== ErrorCodes.STORE_IO)) throw err;
      this.log(`serving ${folder}/${name} to ${peer} stopped: ${err.code}: ${err.message}`);
      void this.input(() => this.run(this.replicator.serveFailed(peer, folder, wantId, this.opts.clock.now())));
      await this.sendNow(peer, { t: 'gone', folder, name, wantId, reason: 'version' });
    }
  }

  private async sendNow(peer: string, msg: Message): Promise<void> {
    const ch = this.peers.get(peer);
    if (!ch || ch.closed) return;
    const frame = encodeMessage(msg);
    this.stats.framesOut++;
    this.stats.bytesOut += frame.length;
    await ch.link.send(frame, msg);
  }

  /**
   * Streams complete lines of a log from `from` to `to`, as runs ending at known positions (see
   * `serveRuns`); a run longer than a frame travels as several chunks. Without known positions
   * close enough, a run is at most one frame of whole lines (a longer line: several chunks).
   */
  private async serveLog(e: Extract<Effect, { t: 'serveLog' }>): Promise<void> {
    const store = this.stores.get(e.folder)!;
    const at = e.from.offset === 0 ? GENESIS : await store.positionAt(e.name, e.from.offset);
    if (!at || !samePos(at, e.from)) {
      void this.input(() => this.run(this.replicator.serveFailed(e.peer, e.folder, e.wantId, this.opts.clock.now())));
      const end = this.replicator.local(e.folder, e.name);
      const checkpoints = (await store.checkpoints(e.name)).slice(-MAX_CHECKPOINTS);
      await this.sendNow(e.peer, {
        t: 'diverged', folder: e.folder, name: e.name, wantId: e.wantId, version: e.version, at,
        end: end ? endOf(end) : e.to, checkpoints,
      });
      return;
    }
    // Runs end where the position is already known, at the store's checkpoints and at `to`, so
    // serving hashes nothing (the receiver folds every byte against those ends anyway). Only if
    // those are too far apart to hold a run in the receiver's memory are lines hashed here.
    const cuts = (await store.checkpoints(e.name)).filter((cp) => cp.offset > e.from.offset && cp.offset < e.to.offset);
    cuts.push(e.to);
    if (cuts.every((cp, i) => cp.offset - (i === 0 ? e.from.offset : cuts[i - 1]!.offset) <= MAX_KNOWN_RUN)) {
      await this.serveRuns(e, cuts);
      return;
    }
    const chain = new LineChain(this.opts.hasher, e.from, Number.MAX_SAFE_INTEGER);
    let runStart: LogPos = e.from;
    let chunk = 0;
    let carry = new Uint8Array(0);
    let offset = e.from.offset;
    while (offset < e.to.offset) {
      const cur = this.replicator.local(e.folder, e.name);
      if (!cur || cur.deleted || compareVersions(cur.version, e.version) !== 'equal' || cur.size < e.to.offset) return;
      const block = await store.read(e.name, offset, Math.min(MAX_DATA_BYTES - carry.length, e.to.offset - offset));
      if (block.length === 0) return;
      offset += block.length;
      chain.push(block);
      const data = carry.length ? concatBytes([carry, block]) : block;
      const cut = data.lastIndexOf(0x0a) + 1;
      const mtimeMs = cur.mtimeMs;
      if (cut === 0) {
        await this.sendNow(e.peer, { t: 'logData', folder: e.folder, name: e.name, wantId: e.wantId, version: e.version, start: runStart, chunk: chunk++, data, end: null, mtimeMs });
        carry = new Uint8Array(0);
        continue;
      }
      await this.sendNow(e.peer, { t: 'logData', folder: e.folder, name: e.name, wantId: e.wantId, version: e.version, start: runStart, chunk, data: data.subarray(0, cut), end: chain.pos, mtimeMs });
      runStart = chain.pos;
      chunk = 0;
      carry = data.slice(cut);
    }
  }

  /** Streams `from`..`to` as runs ending at `cuts` (known positions, ascending, the last one `to`). */
  private async serveRuns(e: Extract<Effect, { t: 'serveLog' }>, cuts: readonly LogPos[]): Promise<void> {
    const store = this.stores.get(e.folder)!;
    let runStart: LogPos = e.from;
    let offset = e.from.offset;
    for (const cut of cuts) {
      let chunk = 0;
      while (offset < cut.offset) {
        const cur = this.replicator.local(e.folder, e.name);
        if (!cur || cur.deleted || compareVersions(cur.version, e.version) !== 'equal' || cur.size < e.to.offset) return;
        const data = await store.read(e.name, offset, Math.min(MAX_DATA_BYTES, cut.offset - offset));
        if (data.length === 0) return;
        offset += data.length;
        const end = offset === cut.offset ? cut : null;
        await this.sendNow(e.peer, { t: 'logData', folder: e.folder, name: e.name, wantId: e.wantId, version: e.version, start: runStart, chunk: chunk++, data, end, mtimeMs: cur.mtimeMs });
      }
      runStart = cut;
    }
  }

  private async serveFile(peer: string, folder: string, wantId: number, meta: ItemMeta): Promise<void> {
    const store = this.stores.get(folder)!;
    let offset = 0;
    do {
      const cur = this.replicator.local(folder, meta.name);
      if (!cur || cur.deleted || compareVersions(cur.version, meta.version) !== 'equal') {
        await this.sendNow(peer, { t: 'gone', folder, name: meta.name, wantId, reason: 'version' });
        return;
      }
      const data = await store.read(meta.name, offset, Math.min(MAX_DATA_BYTES, meta.size - offset));
      const done = offset + data.length >= meta.size || data.length === 0;
      await this.sendNow(peer, {
        t: 'fileData', folder, name: meta.name, wantId, version: meta.version, offset, data, size: meta.size,
        hash: meta.hash, lines: 0, mtimeMs: meta.mtimeMs, mode: meta.mode, done,
      });
      offset += data.length;
      if (done) return;
    } while (offset < meta.size);
  }

  private closePeer(peer: string, reason: string): void {
    const ch = this.peers.get(peer);
    if (!ch) return;
    ch.closed = true;
    this.peers.delete(peer);
    ch.link.close(reason);
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }
}

