/**
 * roamd's network layer over real libp2p and real TCP on 127.0.0.1 (mDNS off: it would multicast
 * out of the host's real interface). Two real engines over memory stores check that what one
 * device writes arrives on the other; fake sinks check stream counts and backpressure.
 */
import '../src/polyfill.js';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { Libp2p, PrivateKey, Stream } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { tcp } from '@libp2p/tcp';
import { lpStream } from '@libp2p/utils';
import { multiaddr } from '@multiformats/multiaddr';
import { Engine, MAX_FRAME_BYTES, PROTOCOL_ID, nobleHasher, utf8, type Link } from '@roam/core';
import { MemoryStore } from '@roam/core/testing';
import { createLibp2p } from 'libp2p';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../../test/harness/poll.js';
import { Network, deviceIdOf, type SyncSink } from '../src/daemon/net/index.js';

const LISTEN = ['/ip4/127.0.0.1/tcp/0'];
const MiB = 1024 * 1024;

/** Records what the network hands the sink, and passes it on to an engine if there is one. */
class Recorder implements SyncSink {
  readonly attaches: string[] = [];
  readonly detaches: string[] = [];
  readonly live = new Map<string, Set<Link>>();
  frames = 0;
  constructor(private readonly inner?: SyncSink) {}
  async attach(peer: string, link: Link): Promise<void> {
    this.attaches.push(peer);
    let set = this.live.get(peer);
    if (!set) this.live.set(peer, (set = new Set()));
    set.add(link);
    await this.inner?.attach(peer, link);
  }
  async detach(peer: string, link?: Link): Promise<void> {
    this.detaches.push(peer);
    if (link) this.live.get(peer)?.delete(link);
    await this.inner?.detach(peer, link);
  }
  async onFrame(peer: string, frame: Uint8Array, link?: Link): Promise<void> {
    this.frames++;
    await this.inner?.onFrame(peer, frame, link);
  }
  count(peer: string): number {
    return this.attaches.filter((p) => p === peer).length;
  }
  liveCount(peer: string): number {
    return this.live.get(peer)?.size ?? 0;
  }
}

interface TestNode {
  key: PrivateKey;
  device: string;
  net: Network;
  engine: Engine;
  store: MemoryStore;
  sink: Recorder;
  logs: string[];
  addr: string;
}

const networks: Network[] = [];
const rawNodes: Libp2p[] = [];

afterEach(async () => {
  const nets = networks.splice(0);
  const raws = rawNodes.splice(0);
  await Promise.allSettled([...nets.map((n) => n.stop()), ...raws.map((n) => n.stop())]);
});

const device = (key: PrivateKey) => deviceIdOf(peerIdFromPrivateKey(key).toString());

/** Ed25519 keys sorted by device id, smallest first (to decide who opens the sync stream). */
async function sortedKeys(n: number): Promise<PrivateKey[]> {
  const keys = await Promise.all(Array.from({ length: n }, () => generateKeyPair('Ed25519')));
  return keys.sort((a, b) => (device(a) < device(b) ? -1 : 1));
}

async function engineNode(opts: { key?: PrivateKey; peers?: string[]; groupKey?: Uint8Array; store?: MemoryStore } = {}): Promise<TestNode> {
  const key = opts.key ?? (await generateKeyPair('Ed25519'));
  const dev = device(key);
  const store = opts.store ?? new MemoryStore();
  const logs: string[] = [];
  let n = 0;
  const engine = await Engine.open({
    device: dev, name: `dev-${dev.slice(-4)}`, software: 'roam-test',
    folders: [{ id: 'f', conflict: 'fork', logDeletes: 'local' }],
    newIndexId: () => `${dev.slice(-8)}${(n++).toString(16).padStart(8, '0')}`,
    stores: new Map([['f', store]]), hasher: nobleHasher, clock: { now: () => Date.now() },
    log: (l) => logs.push(`engine: ${l}`),
  });
  const sink = new Recorder(engine);
  const net = await Network.create({
    privateKey: key, listen: LISTEN, peers: opts.peers ?? [], mdns: false,
    ...(opts.groupKey ? { groupKey: opts.groupKey } : {}),
    sink, log: (l) => logs.push(l), dialTimeoutMs: 3000,
  });
  networks.push(net);
  return { key, device: dev, net, engine, store, sink, logs, addr: net.addresses()[0]! };
}

async function write(node: TestNode, name: string, bytes: Uint8Array): Promise<void> {
  node.store.toolAppend(name, bytes);
  await node.engine.scan('f', [name]);
}

const same = (a: Uint8Array | undefined, b: Uint8Array) => a !== undefined && Buffer.from(a).equals(Buffer.from(b));

async function replicated(from: TestNode, to: TestNode, name: string, timeoutMs = 5000): Promise<void> {
  const want = from.store.files().get(name)!;
  await until(() => same(to.store.files().get(name), want), { what: `${name} to reach ${to.device}`, timeoutMs, detail: () => ({
    have: to.store.files().get(name)?.length ?? null, want: want.length, fromLogs: from.logs.slice(-8), toLogs: to.logs.slice(-8),
  }) });
}

describe('roamd network', () => {
  it('keeps one sync stream per pair and replicates a log, including a 3 MiB line', async () => {
    const A = await engineNode();
    const B = await engineNode({ peers: [A.addr] });
    expect(A.addr).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${A.net.peerId}$`));
    await until(() => A.sink.liveCount(B.device) === 1 && B.sink.liveCount(A.device) === 1, { what: 'both sides to attach' });

    const t0 = Date.now();
    await write(A, 'p/s.jsonl', utf8.encode('{"a":1}\n{"b":2}\n'));
    await replicated(A, B, 'p/s.jsonl');
    const small = Date.now() - t0;

    const big = new Uint8Array(3 * MiB + 5).fill(0x61);
    big[big.length - 1] = 0x0a;
    const t1 = Date.now();
    await write(A, 'big.jsonl', big);
    await replicated(A, B, 'big.jsonl', 10_000);
    const large = Date.now() - t1;
    console.log(`small log replicated in ${small} ms, 3 MiB line in ${large} ms`);

    expect(A.sink.count(B.device)).toBe(1);
    expect(B.sink.count(A.device)).toBe(1);
    expect(A.sink.detaches).toEqual([]);
    expect(B.sink.detaches).toEqual([]);
    const [pa] = A.net.peers();
    expect(pa).toMatchObject({ peerId: B.net.peerId, deviceId: B.device, connected: true, syncing: true, paused: false });
    expect(pa!.lastSeen).toBeGreaterThan(Date.now() - 5000);
    expect(B.net.peers()[0]!.addresses).toContain(A.addr);
  });

  it('ends up with one sync stream when both sides dial each other at once', async () => {
    const A = await engineNode();
    const B = await engineNode();
    A.net.addPeer(B.addr);
    B.net.addPeer(A.addr);
    await until(() => A.sink.liveCount(B.device) === 1 && B.sink.liveCount(A.device) === 1, { what: 'both sides to attach' });
    await write(B, 'x.jsonl', utf8.encode('hello\n'));
    await replicated(B, A, 'x.jsonl');
    // Settled: still exactly one stream each way, never more than one attach per side.
    expect(A.sink.liveCount(B.device)).toBe(1);
    expect(B.sink.liveCount(A.device)).toBe(1);
    expect(A.sink.count(B.device)).toBe(1);
    expect(B.sink.count(A.device)).toBe(1);
  });

  it('notices a peer leave and syncs again when it comes back with the same key', async () => {
    const A = await engineNode();
    const bStore = new MemoryStore();
    const bKey = await generateKeyPair('Ed25519');
    const B1 = await engineNode({ key: bKey, store: bStore, peers: [A.addr] });
    await write(A, 'r.jsonl', utf8.encode('one\n'));
    await replicated(A, B1, 'r.jsonl');

    await B1.net.stop();
    await B1.engine.settled();
    await until(() => A.sink.detaches.includes(B1.device) && A.sink.liveCount(B1.device) === 0, { what: 'A to detach B' });
    await until(() => A.logs.some((l) => l.startsWith(`disconnected from ${B1.device}`)), { what: 'A to log the disconnect' });
    expect(A.net.peers()[0]).toMatchObject({ connected: false, syncing: false });
    expect(A.net.peers()[0]!.lastSeen).not.toBeNull();

    await write(A, 'r.jsonl', utf8.encode('two\n'));
    const t0 = Date.now();
    const B2 = await engineNode({ key: bKey, store: bStore, peers: [A.addr] });
    expect(B2.net.peerId).toBe(B1.net.peerId);
    await replicated(A, B2, 'r.jsonl');
    console.log(`restarted peer back in sync after ${Date.now() - t0} ms`);
    expect(A.sink.count(B2.device)).toBe(2);
    expect(A.sink.liveCount(B2.device)).toBe(1);
  });

  it('connects only devices with the same group key', async () => {
    const group = crypto.getRandomValues(new Uint8Array(32));
    const A = await engineNode({ groupKey: group });
    const B = await engineNode({ groupKey: group, peers: [A.addr] });
    await write(A, 'g.jsonl', utf8.encode('in the group\n'));
    await replicated(A, B, 'g.jsonl');

    const C = await engineNode({ groupKey: crypto.getRandomValues(new Uint8Array(32)), peers: [A.addr] });
    await until(() => C.logs.some((l) => l.includes('not in this group')), { what: 'C to log the refusal', timeoutMs: 8000, detail: () => C.logs });
    expect(C.logs.find((l) => l.includes('not in this group'))).toContain(`peer ${A.addr} refused the connection: not in this group (wrong group key?)`);
    expect(A.sink.attaches).not.toContain(C.device);
    expect(C.sink.attaches).toEqual([]);
    expect(A.net.peers().map((p) => p.peerId)).not.toContain(C.net.peerId);

    // A node without any key cannot get in either.
    const D = await engineNode({ peers: [A.addr] });
    await until(() => D.logs.some((l) => l.startsWith(`could not reach ${A.addr}`)), { what: 'D to fail', timeoutMs: 8000, detail: () => D.logs });
    expect(A.sink.attaches).not.toContain(D.device);
  });

  it('closes a stream that sends an oversized frame and keeps serving the other peer', async () => {
    // The raw client must be the side that opens streams (smaller device id), as a real peer would.
    const [rKey, bKey, aKey] = await sortedKeys(3);
    const A = await engineNode({ key: aKey! });
    const B = await engineNode({ key: bKey!, peers: [A.addr] });
    await until(() => A.sink.liveCount(B.device) === 1, { what: 'B to attach' });

    const raw = await createLibp2p({
      privateKey: rKey!, addresses: { listen: LISTEN }, transports: [tcp()],
      connectionEncrypters: [noise()], streamMuxers: [yamux()], services: {},
    });
    rawNodes.push(raw);
    const rDevice = device(rKey!);
    const stream: Stream = await raw.dialProtocol(multiaddr(A.addr), PROTOCOL_ID);
    await until(() => A.sink.liveCount(rDevice) === 1, { what: 'A to attach the raw client' });
    const lp = lpStream(stream);
    const sent = lp.write(new Uint8Array(MAX_FRAME_BYTES + 1)).catch((err: unknown) => err);
    await until(() => stream.status !== 'open', { what: 'A to close the raw stream', timeoutMs: 5000, detail: () => stream.status });
    await sent;
    await until(() => A.sink.liveCount(rDevice) === 0, { what: 'A to detach the raw client' });
    expect(A.logs.some((l) => l.includes(`sync with ${rDevice} ended: refused: a frame of ${MAX_FRAME_BYTES + 1} bytes`))).toBe(true);

    // The daemon carries on with B, over the same stream as before.
    await write(A, 'after.jsonl', utf8.encode('still here\n'));
    await replicated(A, B, 'after.jsonl');
    expect(A.sink.count(B.device)).toBe(1);
    expect(A.sink.liveCount(B.device)).toBe(1);
  });

  it('pauses and unpauses syncing with a peer, whichever side does it', async () => {
    const [small, large] = await sortedKeys(2);
    const A = await engineNode({ key: small! }); // opens the sync stream
    const B = await engineNode({ key: large!, peers: [A.addr] }); // accepts it
    await until(() => A.sink.liveCount(B.device) === 1 && B.sink.liveCount(A.device) === 1, { what: 'both sides to attach' });
    let n = 0;
    for (const [who, other] of [[A, B], [B, A]] as const) {
      await who.net.pause(other.net.peerId);
      await until(() => A.sink.liveCount(B.device) === 0 && B.sink.liveCount(A.device) === 0, { what: 'both sides to detach' });
      expect(who.net.peers()[0]).toMatchObject({ peerId: other.net.peerId, connected: true, syncing: false, paused: true });
      expect(other.net.peers()[0]).toMatchObject({ paused: false });
      const name = `paused-${n++}.jsonl`;
      await write(who, name, utf8.encode('written while paused\n'));
      const t0 = Date.now();
      await who.net.unpause(other.net.peerId);
      expect(who.net.peers()[0]!.paused).toBe(false);
      await replicated(who, other, name);
      console.log(`${who === A ? 'opener' : 'acceptor'} unpaused: back in sync after ${Date.now() - t0} ms`);
      await until(() => A.sink.liveCount(B.device) === 1 && B.sink.liveCount(A.device) === 1, { what: 'one stream again' });
    }
    // Pausing everything works the same way.
    await B.net.pause();
    await until(() => A.sink.liveCount(B.device) === 0 && B.sink.liveCount(A.device) === 0, { what: 'both sides to detach' });
    await B.net.unpause();
    await write(A, 'all.jsonl', utf8.encode('after pause()\n'));
    await replicated(A, B, 'all.jsonl');
  });

  it('applies backpressure end to end: a slow receiver holds the sender back', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const received: number[] = [];
    const slow: SyncSink = {
      attach: async () => undefined,
      detach: async () => undefined,
      onFrame: async (_peer, frame) => {
        received.push(frame[0]!);
        await gate;
      },
    };
    let link: Link | null = null;
    const sender: SyncSink = {
      attach: async (_peer, l) => void (link = l),
      detach: async () => void (link = null),
      onFrame: async () => undefined,
    };
    const aKey = await generateKeyPair('Ed25519');
    const A = await Network.create({ privateKey: aKey, listen: LISTEN, peers: [], mdns: false, sink: slow, log: () => undefined });
    networks.push(A);
    const B = await Network.create({ privateKey: await generateKeyPair('Ed25519'), listen: LISTEN, peers: A.addresses(), mdns: false, sink: sender, log: () => undefined });
    networks.push(B);
    await until(() => link !== null, { what: 'the sender to attach' });

    const FRAMES = 40;
    let resolved = 0;
    const sending = (async () => {
      for (let i = 0; i < FRAMES; i++) {
        const frame = new Uint8Array(MiB).fill(i);
        await link!.send(frame);
        resolved++;
      }
    })();

    // Wait until the sender is stuck: no send resolved for 500 ms.
    let last = -1;
    let since = Date.now();
    await until(() => {
      if (resolved !== last) {
        last = resolved;
        since = Date.now();
      }
      return Date.now() - since > 500;
    }, { what: 'the sender to stall', timeoutMs: 10_000 });
    console.log(`with the receiver stuck on frame 1, ${resolved} of ${FRAMES} 1 MiB sends resolved; rss ${Math.round(process.memoryUsage().rss / MiB)} MiB`);
    // The read loop hands the engine up to 4 frames before it waits for the oldest to be applied.
    expect(received).toEqual([0, 1, 2, 3]);
    expect(resolved).toBeGreaterThanOrEqual(4);
    expect(resolved).toBeLessThanOrEqual(20); // bounded by the frames in flight, the receiver's window and read-ahead

    const t0 = Date.now();
    release();
    await sending;
    await until(() => received.length === FRAMES, { what: 'every frame to arrive', timeoutMs: 10_000, detail: () => received.length });
    console.log(`the remaining ${FRAMES - 1} MiB went through in ${Date.now() - t0} ms`);
    expect(received).toEqual(Array.from({ length: FRAMES }, (_, i) => i));
  });

  it('sends the small frames of a burst, length prefixes included, as one muxer message (one yamux frame on the wire)', async () => {
    // Each muxer message costs 30 B of headers and a 30 B window update back: an index entry and
    // the line it announces go out together once the engine says the burst is over (flush).
    const [rKey, aKey] = await sortedKeys(2);
    let link: Link | null = null;
    const sink: SyncSink = { attach: async (_p, l) => void (link = l), detach: async () => undefined, onFrame: async () => undefined };
    const A = await Network.create({ privateKey: aKey!, listen: LISTEN, peers: [], mdns: false, sink, log: () => undefined });
    networks.push(A);
    const raw = await createLibp2p({
      privateKey: rKey!, addresses: { listen: LISTEN }, transports: [tcp()],
      connectionEncrypters: [noise()], streamMuxers: [yamux()], services: {},
    });
    rawNodes.push(raw);
    const stream: Stream = await raw.dialProtocol(multiaddr(A.addresses()[0]!), PROTOCOL_ID);
    const messages: number[] = [];
    const bytes: number[] = [];
    stream.addEventListener('message', (evt) => {
      messages.push(evt.data.byteLength);
      bytes.push(...evt.data.subarray());
    });
    await until(() => link !== null, { what: 'A to attach the raw client' });
    await link!.send(new Uint8Array(300).fill(1));
    await link!.send(new Uint8Array(5).fill(2));
    link!.flush!();
    await until(() => messages.length >= 1, { what: 'the burst to arrive', timeoutMs: 5000, detail: () => messages });
    // Without a flush a held frame still goes out (after a few ms), in order.
    await link!.send(new Uint8Array(7).fill(3));
    await until(() => messages.length >= 2, { what: 'the unflushed frame to arrive', timeoutMs: 5000, detail: () => messages });
    expect(messages).toEqual([2 + 300 + 1 + 5, 1 + 7]);
    // varint(300) = ac 02, then the frame, then varint(5), the frame, varint(7), the frame.
    expect(bytes).toEqual([0xac, 0x02, ...Array(300).fill(1), 5, ...Array(5).fill(2), 7, ...Array(7).fill(3)]);
  });
});
