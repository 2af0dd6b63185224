/**
 * The engine runs a `Replicator` against real ports: one `FolderStore` per folder, one `Link` per
 * connected peer, a clock. It is the only async orchestration in the core:
 *
 * - every input (a frame, a local change, a link event) is handled to completion, store effects
 *   included, before the next one starts, so the pure state never races its own writes
 *   (engine/inputs.ts, which also journals the state once per burst of inputs);
 * - a peer's frames are handled one at a time and `onFrame` resolves only after the effects are
 *   applied (engine/apply.ts), which gives receive backpressure (the link stops reading while the
 *   disk catches up);
 * - sends and serves (engine/serve.ts) go to a per-peer queue that awaits each `Link.send`
 *   (engine/peers.ts), which gives send backpressure without blocking other peers;
 * - a malformed frame closes that peer's link, never the engine.
 */
import { ErrorCodes, RoamError, isRoamError } from './errors.js';
import type { DiskState } from './items.js';
import { DEFAULT_PARTIAL_TAIL_MS, PartialTails } from './partial-tails.js';
import { decodeMessage, type Message } from './protocol/index.js';
import type { Effect } from './replication/effects.js';
import { Replicator, type FolderConfig, type SyncState } from './replication/replicator.js';
import type { FolderStore, StagedWrite } from './store.js';
import { applyStore } from './engine/apply.js';
import { InputQueue } from './engine/inputs.js';
import { PeerQueues, type PeerChannel } from './engine/peers.js';
import { reconcile } from './engine/reconcile.js';
import { serveFile, serveLog, serving, type ServeCtx } from './engine/serve.js';
import type { EngineOptions, Link } from './engine/types.js';

export type { Clock, EngineOptions, Link } from './engine/types.js';

const IO_RETRY_MAX_MS = 60_000;
/** Effects that go on a peer's queue (messages and serves), in the order they were produced. */
type PeerEffect = Extract<Effect, { t: 'send' | 'serveLog' | 'serveFile' }>;

export class Engine {
  readonly replicator: Replicator;
  private readonly opts: EngineOptions;
  /** The folders' stores: the options' ones, and those added while running (`addFolder`). */
  private readonly stores: Map<string, FolderStore>;
  private readonly staged = new Map<string, StagedWrite>();
  private readonly inputs = new InputQueue(() => this.journalState());
  /** Counters for status and benchmarks. */
  readonly stats = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, refusedFrames: 0 };
  private readonly out = new PeerQueues(this.stats, (l) => this.log(l), (peer) => {
    void this.input(async () => {
      // Unless a new link to the peer came up in the meantime, end the session.
      if (!this.peers.has(peer)) await this.run(this.replicator.disconnected(peer, this.opts.clock.now()));
    });
  });
  private readonly peers: Map<string, PeerChannel> = this.out.channels;
  private readonly serveCtx: ServeCtx;
  private ioRetry: ReturnType<typeof setTimeout> | undefined;
  private ioRetryDelay: number;
  private readonly tails: PartialTails;
  private closing = false;

  private constructor(opts: EngineOptions, replicator: Replicator) {
    this.opts = opts;
    this.stores = new Map(opts.stores);
    this.replicator = replicator;
    this.ioRetryDelay = opts.ioRetryMs ?? 2_000;
    this.tails = new PartialTails({
      stores: opts.stores, now: () => opts.clock.now(), boundMs: opts.partialTailMs ?? DEFAULT_PARTIAL_TAIL_MS, liveWriter: opts.liveWriter, log: (l) => this.log(l),
      input: (fn) => this.input(fn), retry: (folder, name) => this.run(this.replicator.recheck(folder, name, opts.clock.now(), true)),
    });
    this.serveCtx = {
      stores: this.stores, replicator, hasher: opts.hasher, send: (peer, msg) => this.out.sendNow(peer, msg), log: (l) => this.log(l),
      serveFailed: (peer, folder, wantId) => void this.input(() => this.run(this.replicator.serveFailed(peer, folder, wantId, this.opts.clock.now()))),
    };
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
    const changes = await reconcile(this.replicator, folder, store, onDisk);
    changes.push(...(await store.scan()));
    await this.run(this.replicator.localChanges(folder, changes, this.opts.clock.now()));
  }

  // ---------------------------------------------------------------- inputs

  /** Runs `fn` after every earlier input has been handled. */
  private input<T>(fn: () => Promise<T>): Promise<T> {
    return this.inputs.run(fn);
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
        this.out.close(peer, `${e.code}: ${e.message}`);
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
      const serial = this.inputs.tail;
      await serial;
      await Promise.all([...this.peers.values()].map((p) => p.queue));
      if (serial === this.inputs.tail) return;
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
    for (const [peer] of this.peers) this.out.close(peer, 'engine closing');
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
          this.out.close(e.peer, e.reason);
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
          const result = await applyStore(this.stores, this.staged, e);
          if (!result.ok && result.code === ErrorCodes.STORE_IO) this.retryIoLater();
          else if (result.ok && (e.t === 'append' || e.t === 'stageCommit')) this.ioRetryDelay = this.opts.ioRetryMs ?? 2_000;
          await this.run(this.replicator.applied(e, result, this.opts.clock.now()));
          if (!result.ok && result.code === ErrorCodes.STORE_CONFLICT) await this.tails.refused(e.folder, e.name);
        }
      }
    }
    await this.inputs.persist();
    for (const note of this.replicator.notes.splice(0)) this.log(note);
  }

  /** Queues a message or a serve on its peer's queue. */
  private queueForPeer(e: PeerEffect): void {
    switch (e.t) {
      case 'send': {
        // Held until the state this input reached is journaled (see `InputQueue.persist`).
        const durable = this.inputs.untilDurable();
        this.out.enqueue(e.peer, async () => {
          await durable;
          await this.out.sendNow(e.peer, e.msg);
        });
        return;
      }
      case 'serveLog':
        this.out.enqueue(e.peer, () => serving(this.serveCtx, e.peer, e.folder, e.name, e.wantId, () => serveLog(this.serveCtx, e)));
        return;
      case 'serveFile':
        this.out.enqueue(e.peer, () => serving(this.serveCtx, e.peer, e.folder, e.meta.name, e.wantId, () => serveFile(this.serveCtx, e.peer, e.folder, e.wantId, e.meta)));
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

  private log(line: string): void {
    this.opts.log?.(line);
  }
}
