/**
 * N engines joined by in-memory links whose delivery a test controls frame by frame: each link is
 * FIFO (as a libp2p stream is), but which link delivers next is up to the test, so frames of
 * different links, local changes and deliveries interleave in any order. Disconnecting drops
 * whatever was in flight, as a broken connection does.
 */
import { Engine, type EngineOptions, type Link } from '../engine.js';
import { nobleHasher } from '../log/hash.js';
import type { FolderConfig, ReplicatorOptions } from '../replication/replicator.js';
import { ManualClock } from './clock.js';
import { MemoryStore } from './memory-store.js';

interface Pipe {
  readonly from: string;
  readonly to: string;
  readonly frames: Uint8Array[];
  readonly link: Link;
}

export interface NetworkNode {
  readonly id: string;
  readonly engine: Engine;
  readonly stores: Map<string, MemoryStore>;
  readonly log: string[];
}

export class MemoryNetwork {
  readonly nodes = new Map<string, NetworkNode>();
  readonly clock = new ManualClock();
  private readonly pipes = new Map<string, Pipe>();
  /** Every frame ever sent, for invariants over what crossed the wire. */
  readonly onFrame: Array<(from: string, to: string, frame: Uint8Array) => void> = [];

  /** Device ids are 16 hex characters; `index` keeps them distinct and ordered. */
  static deviceId(index: number): string {
    return (index + 1).toString(16).padStart(16, '0');
  }

  async add(
    id: string,
    folders: readonly FolderConfig[],
    opts: { checkpointInterval?: number; stores?: Map<string, MemoryStore>; options?: Pick<ReplicatorOptions, 'ignores' | 'only' | 'ignoreLines' | 'hooks' | 'declined'> & Pick<EngineOptions, 'partialTailMs' | 'liveWriter'> } = {},
  ): Promise<NetworkNode> {
    const stores = opts.stores ?? new Map(folders.map((f) => [f.id, new MemoryStore({ checkpointInterval: opts.checkpointInterval ?? 256 })]));
    const log: string[] = [];
    let n = 0;
    const engine = await Engine.open({
      device: id, name: `dev-${id.slice(-4)}`, software: 'roam-test', folders,
      newIndexId: () => `${id.slice(-8)}${(n++).toString(16).padStart(8, '0')}`,
      stores, hasher: nobleHasher, clock: this.clock, log: (l) => log.push(l),
      ...opts.options,
    });
    const node = { id, engine, stores, log };
    this.nodes.set(id, node);
    return node;
  }

  /** Stops a node (its stores and metadata survive, to be reopened with `add(id, …, {stores})`). */
  async remove(id: string): Promise<Map<string, MemoryStore>> {
    for (const other of this.nodes.keys()) if (other !== id) await this.disconnect(id, other);
    const node = this.nodes.get(id)!;
    await node.engine.settled();
    this.nodes.delete(id);
    return node.stores;
  }

  private pipe(from: string, to: string): Pipe {
    const k = `${from}>${to}`;
    let p = this.pipes.get(k);
    if (!p) {
      const frames: Uint8Array[] = [];
      const link: Link = {
        send: async (frame) => {
          if (this.pipes.get(k)?.link !== link) return;
          for (const cb of this.onFrame) cb(from, to, frame);
          frames.push(frame);
        },
        close: () => void this.disconnect(from, to),
      };
      p = { from, to, frames, link };
      this.pipes.set(k, p);
    }
    return p;
  }

  isConnected(a: string, b: string): boolean {
    return this.pipes.has(`${a}>${b}`);
  }

  async connect(a: string, b: string): Promise<void> {
    if (this.isConnected(a, b)) return;
    const ab = this.pipe(a, b);
    const ba = this.pipe(b, a);
    await this.nodes.get(a)!.engine.attach(b, ab.link);
    await this.nodes.get(b)!.engine.attach(a, ba.link);
  }

  async disconnect(a: string, b: string): Promise<void> {
    const ab = this.pipes.get(`${a}>${b}`);
    const ba = this.pipes.get(`${b}>${a}`);
    if (!ab && !ba) return;
    this.pipes.delete(`${a}>${b}`);
    this.pipes.delete(`${b}>${a}`);
    if (ab) await this.nodes.get(a)?.engine.detach(b, ab.link);
    if (ba) await this.nodes.get(b)?.engine.detach(a, ba.link);
  }

  /** Links with frames waiting. */
  busy(): Pipe[] {
    return [...this.pipes.values()].filter((p) => p.frames.length > 0);
  }

  /** Delivers the next frame of one link (`pick` chooses among the busy ones). */
  async deliverOne(pick: (n: number) => number = () => 0): Promise<boolean> {
    await this.settleAll();
    const busy = this.busy();
    if (!busy.length) return false;
    const p = busy[pick(busy.length) % busy.length]!;
    const frame = p.frames.shift()!;
    await this.nodes.get(p.to)?.engine.onFrame(p.from, frame, this.pipes.get(`${p.to}>${p.from}`)?.link);
    return true;
  }

  /** Delivers until nothing is in flight. Throws if that takes more than `maxFrames`. */
  async run(pick?: (n: number) => number, maxFrames = 100_000): Promise<number> {
    let n = 0;
    while (await this.deliverOne(pick)) {
      if (++n > maxFrames) throw new Error(`network did not settle within ${maxFrames} frames`);
    }
    return n;
  }

  async settleAll(): Promise<void> {
    for (const node of this.nodes.values()) await node.engine.settled();
  }
}
