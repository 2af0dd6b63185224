/**
 * Scenario tests of the replication core over in-memory links: divergence and both conflict
 * policies, fast-forward, whole files, deletes, huge lines, restarts, malformed frames.
 */
import { describe, expect, it } from 'vitest';
import { concatBytes, utf8 } from '../src/bytes.js';
import { GENESIS, relate, type LogPos } from '../src/log/index.js';
import { IgnoreRules } from '../src/ignore.js';
import { decodeMessage, encodeMessage, type Message } from '../src/protocol/index.js';
import type { FolderConfig } from '../src/replication/replicator.js';
import { MemoryNetwork, type MemoryMetaStore, type MemoryStore } from '../src/testing/index.js';

const A = MemoryNetwork.deviceId(0);
const B = MemoryNetwork.deviceId(1);
const C = MemoryNetwork.deviceId(2);
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));
const lines = (...l: string[]) => utf8.encode(l.map((x) => `${x}\n`).join(''));

async function network(ids: string[], folder: Partial<FolderConfig> = {}) {
  const net = new MemoryNetwork();
  const cfg: FolderConfig = { id: 'f', conflict: 'fork', logDeletes: 'local', ...folder };
  for (const id of ids) await net.add(id, [cfg], { checkpointInterval: 64 });
  const store = (id: string) => net.nodes.get(id)!.stores.get('f')!;
  const write = async (id: string, fn: (s: MemoryStore) => void, names?: string[]) => {
    fn(store(id));
    await net.nodes.get(id)!.engine.scan('f', names);
  };
  const sent: Array<{ from: string; to: string; msg: Message; bytes: number }> = [];
  net.onFrame.push((from, to, frame) => sent.push({ from, to, msg: decodeMessage(frame), bytes: frame.length }));
  return { net, store, write, sent };
}

async function meshConnect(net: MemoryNetwork, ids: string[]) {
  for (let i = 0; i < ids.length; i++) for (let j = i + 1; j < ids.length; j++) await net.connect(ids[i]!, ids[j]!);
}

function expectSameFolders(stores: MemoryStore[]) {
  const ref = [...stores[0]!.files()].map(([n, b]) => [n, text(b)]);
  for (const s of stores.slice(1)) expect([...s.files()].map(([n, b]) => [n, text(b)])).toEqual(ref);
}

/** A and B apart: `onA` changes A's store and `onB` B's (each then scanned); connected again and run. */
async function whileApart(net: MemoryNetwork, write: (id: string, fn: (s: MemoryStore) => void) => Promise<void>, onA: (s: MemoryStore) => void, onB: (s: MemoryStore) => void) {
  await net.disconnect(A, B);
  await write(A, onA);
  await write(B, onB);
  await meshConnect(net, [A, B]);
  await net.run();
}

/**
 * A and B, connected, both hold `name` (the line `base` at mtime 1 000); then, apart, A appends
 * `onA` and B `onB` ([lines, mtime]); then they are connected again (nothing run yet).
 */
async function apartAndBack(name: string, onA: [string[], number], onB: [string[], number], folder: Partial<FolderConfig> = {}) {
  const t = await network([A, B], folder);
  await meshConnect(t.net, [A, B]);
  await t.write(A, (s) => s.toolAppend(name, lines('base'), 1_000));
  await t.net.run();
  await t.net.disconnect(A, B);
  await t.write(A, (s) => s.toolAppend(name, lines(...onA[0]), onA[1]));
  await t.write(B, (s) => s.toolAppend(name, lines(...onB[0]), onB[1]));
  await meshConnect(t.net, [A, B]);
  return t;
}

describe('line logs', () => {
  it('replicates appends line by line and never sends a partial line', async () => {
    const { net, store, write, sent } = await network([A, B]);
    await meshConnect(net, [A, B]);
    await write(A, (s) => s.toolAppend('p/s.jsonl', utf8.encode('{"a":1}\r\n{"b":"\xff"}\n{"half":')));
    await net.run();
    expect(text(store(B).files().get('p/s.jsonl'))).toBe('{"a":1}\r\n{"b":"\xff"}\n');
    await write(A, (s) => s.toolAppend('p/s.jsonl', utf8.encode('true}\n')));
    await net.run();
    expect(text(store(B).files().get('p/s.jsonl'))).toBe('{"a":1}\r\n{"b":"\xff"}\n{"half":true}\n');
    for (const { msg } of sent) if (msg.t === 'logData') expect(msg.data[msg.data.length - 1]).toBe(0x0a);
  });

  it('carries bytes exactly: CRLF, invalid UTF-8, and a line larger than a frame', async () => {
    const { net, store, write, sent } = await network([A, B]);
    await meshConnect(net, [A, B]);
    const huge = new Uint8Array(3 * 1024 * 1024 + 17).fill(0x61);
    const content = concatBytes([new Uint8Array([0xff, 0xfe, 0x0d, 0x0a]), huge, new Uint8Array([0x0a, 0x80, 0x0a])]);
    await write(A, (s) => s.toolAppend('big.jsonl', content));
    await net.run();
    expect(Buffer.from(store(B).files().get('big.jsonl')!).equals(Buffer.from(content))).toBe(true);
    const chunks = sent.filter((x) => x.msg.t === 'logData');
    expect(chunks.length).toBeGreaterThan(3); // the huge line travelled in several frames
    expect(chunks.every((x) => x.bytes <= 2 * 1024 * 1024)).toBe(true);
  });

  it('relays through a device in the middle (A-B-C in a line)', async () => {
    const { net, store, write } = await network([A, B, C]);
    await net.connect(A, B);
    await net.connect(B, C);
    await write(A, (s) => s.toolAppend('x.jsonl', lines('1', '2')));
    await net.run();
    await write(A, (s) => s.toolAppend('x.jsonl', lines('3')));
    await net.run();
    expect(text(store(C).files().get('x.jsonl'))).toBe('1\n2\n3\n');
  });

  it('fast-forwards a log that extends the other: no conflict, no copy', async () => {
    const { net, store, write } = await network([A, B]);
    // Both devices hold the same first line, written independently (as when a folder Syncthing
    // kept identical joins roam): concurrent versions, one a prefix of the other.
    await write(A, (s) => s.toolAppend('s.jsonl', lines('same')));
    await write(B, (s) => s.toolAppend('s.jsonl', lines('same', 'more', 'still more')));
    await meshConnect(net, [A, B]);
    await net.run();
    expect([...store(A).files().keys()]).toEqual(['s.jsonl']);
    expect(text(store(A).files().get('s.jsonl'))).toBe('same\nmore\nstill more\n');
    expectSameFolders([store(A), store(B)]);
    expect(net.nodes.get(A)!.log.concat(net.nodes.get(B)!.log).filter((l) => l.includes('conflict'))).toEqual([]);
  });

  it('detects two logs of the same length with different bytes as divergent; the fork keeps both', async () => {
    const p: LogPos = { offset: 4, line: 1, hash: new Uint8Array(32).fill(1) };
    expect(relate(p, { ...p, hash: new Uint8Array(32).fill(2) })).toBe('divergent');
    expect(relate(p, p)).toBe('equal');

    const { net, store, write } = await network([A, B]);
    await write(A, (s) => s.toolAppend('s.jsonl', lines('aaaa'), 2_000));
    await write(B, (s) => s.toolAppend('s.jsonl', lines('bbbb'), 1_000));
    await meshConnect(net, [A, B]);
    await net.run();
    const files = store(A).files();
    expect(files.size).toBe(2);
    const fork = [...files.keys()].find((n) => n !== 's.jsonl')!;
    expect(fork).toMatch(/^s\.fork-[0-9a-f]{12}\.jsonl$/);
    // The newer last line keeps the name; the other continuation is the fork.
    expect(text(files.get('s.jsonl'))).toBe('aaaa\n');
    expect(text(files.get(fork))).toBe('bbbb\n');
    expectSameFolders([store(A), store(B)]);
  });

  it('detects logs that share a prefix then differ; the fork holds prefix + losing continuation', async () => {
    const { net, store, write } = await network([A, B, C]);
    await meshConnect(net, [A, B, C]);
    await write(A, (s) => s.toolAppend('s.jsonl', lines('p1', 'p2', 'p3'), 1_000));
    await net.run();
    await net.disconnect(A, B);
    await net.disconnect(A, C);
    await write(A, (s) => s.toolAppend('s.jsonl', lines('a-only'), 5_000));
    await write(B, (s) => s.toolAppend('s.jsonl', lines('b1', 'b2'), 3_000));
    await net.run(); // B's lines reach C while A is away
    await meshConnect(net, [A, B, C]);
    await net.run();
    const files = store(C).files();
    const fork = [...files.keys()].find((n) => n.includes('.fork-'))!;
    expect(text(files.get('s.jsonl'))).toBe('p1\np2\np3\na-only\n');
    expect(text(files.get(fork))).toBe('p1\np2\np3\nb1\nb2\n');
    expect(files.size).toBe(2);
    expectSameFolders([store(A), store(B), store(C)]);
  });

  it('in syncthing mode keeps the reference conflict copy: the newer mtime wins even when shorter', async () => {
    const { net, store, write } = await apartAndBack('sess.v2.jsonl', [['1', '2', '3', '4', '5'], 2_000], [['newer'], 3_000], { conflict: 'syncthing' });
    await net.run();
    const files = store(A).files();
    expect(text(files.get('sess.v2.jsonl'))).toBe('base\nnewer\n');
    const copy = [...files.keys()].find((n) => n !== 'sess.v2.jsonl')!;
    // <stem>.sync-conflict-YYYYMMDD-HHMMSS-<7 chars of the device that wrote the winner>.<ext>
    expect(copy).toMatch(new RegExp(`^sess\\.v2\\.sync-conflict-\\d{8}-\\d{6}-${B.slice(0, 7).toUpperCase()}\\.jsonl$`));
    expect(text(files.get(copy))).toBe('base\n1\n2\n3\n4\n5\n');
    expectSameFolders([store(A), store(B)]);
  });

  it('keeps a local delete of a session log local, and fetches it again only if it grows elsewhere', async () => {
    const { net, store, write } = await network([A, B]);
    await meshConnect(net, [A, B]);
    await write(A, (s) => s.toolAppend('old.jsonl', lines('1')));
    await net.run();
    await write(B, (s) => s.toolDelete('old.jsonl'));
    await net.run();
    expect(store(A).files().has('old.jsonl')).toBe(true);
    expect(store(B).files().has('old.jsonl')).toBe(false);
    // A reconnect does not bring it back…
    await net.disconnect(A, B);
    await meshConnect(net, [A, B]);
    await net.run();
    expect(store(B).files().has('old.jsonl')).toBe(false);
    // …but new lines on A do.
    await write(A, (s) => s.toolAppend('old.jsonl', lines('2')));
    await net.run();
    expect(text(store(B).files().get('old.jsonl'))).toBe('1\n2\n');
  });

  it('replicates a truncation or rewrite as a new epoch, without a conflict', async () => {
    const { net, store, write } = await network([A, B]);
    await meshConnect(net, [A, B]);
    await write(A, (s) => s.toolAppend('r.jsonl', lines('one', 'two', 'three')));
    await net.run();
    await write(A, (s) => s.toolWrite('r.jsonl', lines('ONE')));
    await net.run();
    expect(text(store(B).files().get('r.jsonl'))).toBe('ONE\n');
    await write(A, (s) => s.toolWrite('r.jsonl', lines('rewritten', 'and longer than before')));
    await net.run();
    expect(text(store(B).files().get('r.jsonl'))).toBe('rewritten\nand longer than before\n');
    expect(store(B).files().size).toBe(1);
  });
});

describe('selective sync', () => {
  it('does not pull what a device ignores, and does not count it as missing on either side', async () => {
    const net = new MemoryNetwork();
    const cfg: FolderConfig = { id: 'f', conflict: 'fork', logDeletes: 'local' };
    await net.add(A, [cfg]);
    await net.add(B, [cfg], { options: { only: () => ['p1'], ignores: (_f, name) => !name.startsWith('p1/') } });
    const a = net.nodes.get(A)!;
    const b = net.nodes.get(B)!;
    a.stores.get('f')!.toolAppend('p1/x.jsonl', lines('one'));
    a.stores.get('f')!.toolAppend('p2/y.jsonl', lines('two'));
    await a.engine.scan('f');
    await net.connect(A, B);
    await net.run();
    expect([...b.stores.get('f')!.files().keys()]).toEqual(['p1/x.jsonl']);
    expect(a.engine.syncState(B)[0]).toMatchObject({ inSync: true, peerNeeds: { items: 0 } });
    expect(b.engine.syncState(A)[0]).toMatchObject({ inSync: true, need: { items: 0 } });
  });

  it("does not count what a peer's ignore rules skip as missing there", async () => {
    const net = new MemoryNetwork();
    const cfg: FolderConfig = { id: 'f', conflict: 'fork', logDeletes: 'local' };
    const rules = IgnoreRules.withDefaults(['*.log']);
    await net.add(A, [cfg]);
    await net.add(B, [cfg], { options: { ignores: (_f, name) => rules.ignores(name), ignoreLines: () => rules.lines } });
    const a = net.nodes.get(A)!;
    a.stores.get('f')!.toolWrite('a.log', utf8.encode('x'));
    a.stores.get('f')!.toolAppend('s.jsonl', lines('1'));
    await a.engine.scan('f');
    await net.connect(A, B);
    await net.run();
    expect([...net.nodes.get(B)!.stores.get('f')!.files().keys()]).toEqual(['s.jsonl']);
    expect(a.engine.syncState(B)[0]).toMatchObject({ inSync: true, peerNeeds: { items: 0 } });
  });
});

describe('epochs, deletes and conflicts without gaps', () => {
  it('gives identical concurrent appends the newer mtime on both sides, with no conflict', async () => {
    const { net, store, write } = await apartAndBack('i.jsonl', [['same'], 4_000], [['same'], 5_000]);
    await net.run();
    for (const id of [A, B]) {
      expect([...store(id).files().keys()]).toEqual(['i.jsonl']);
      expect(store(id).disk.get('i.jsonl')!.mtimeMs).toBe(5_000);
    }
  });

  it('takes a newer version that only moved the mtime onto the disk, not just into the record', async () => {
    const { net, store, write } = await network([A, B]);
    await meshConnect(net, [A, B]);
    await write(A, (s) => s.toolWrite('t.txt', utf8.encode('t'), { mtimeMs: 9_000 }));
    await net.run();
    expect(store(B).disk.get('t.txt')!.mtimeMs).toBe(9_000);
    // The writer sets the mtime after the content (as `touch -d` or a copy tool does): a new version.
    await write(A, (s) => s.toolWrite('t.txt', utf8.encode('t'), { mtimeMs: 2_000 }));
    await net.run();
    for (const id of [A, B]) expect(store(id).disk.get('t.txt')!.mtimeMs).toBe(2_000);
    expect(net.nodes.get(B)!.engine.replicator.local('f', 't.txt')!.mtimeMs).toBe(2_000);
    expect(net.nodes.get(A)!.engine.syncState(B)[0]).toMatchObject({ inSync: true });
  });

  it('replicates a log truncated to zero', async () => {
    const { net, store, write } = await network([A, B]);
    await meshConnect(net, [A, B]);
    await write(A, (s) => s.toolAppend('t.jsonl', lines('1', '2', '3')));
    await net.run();
    await write(A, (s) => s.toolWrite('t.jsonl', new Uint8Array(0)));
    await net.run();
    expect(store(B).files().get('t.jsonl')?.length).toBe(0);
    expect(net.nodes.get(A)!.engine.syncState(B)[0]!.inSync).toBe(true);
  });

  it('keeps lines appended while a peer deleted the log (the modification wins, as in Syncthing)', async () => {
    const { net, store, write } = await network([A, B], { logDeletes: 'propagate' });
    await meshConnect(net, [A, B]);
    await write(A, (s) => s.toolAppend('d.jsonl', lines('1')));
    await net.run();
    await whileApart(net, write, (s) => s.toolDelete('d.jsonl'), (s) => s.toolAppend('d.jsonl', lines('2')));
    expect(text(store(A).files().get('d.jsonl'))).toBe('1\n2\n');
    expectSameFolders([store(A), store(B)]);
    // A delete of exactly what the peer holds still propagates.
    await write(A, (s) => s.toolDelete('d.jsonl'));
    await net.run();
    expect(store(B).files().has('d.jsonl')).toBe(false);
  });

  it('never takes the name away on the losing side: the loser is copied, then replaced (old content in the trash)', async () => {
    const { net, store, write } = await apartAndBack('c.jsonl', [['from A'], 5_000], [['from B'], 3_000]);
    // Deliver frame by frame and look at B (the loser) after each: c.jsonl is always there.
    let frames = 0;
    while (await net.deliverOne()) {
      frames++;
      expect(store(B).files().has('c.jsonl'), `after frame ${frames}`).toBe(true);
    }
    expect(text(store(B).files().get('c.jsonl'))).toBe('base\nfrom A\n');
    expect(store(B).trash.map((t) => [t.name, text(t.data)])).toEqual([['c.jsonl', 'base\nfrom B\n']]);
    expectSameFolders([store(A), store(B)]);
  });
});

describe('whole files', () => {
  it('replicate rewrites and deletes; a concurrent modification makes a conflict copy; modify beats delete', async () => {
    const { net, store, write } = await network([A, B]);
    await meshConnect(net, [A, B]);
    await write(A, (s) => s.toolWrite('meta.json', utf8.encode('{"v":1}')));
    await net.run();
    expect(text(store(B).files().get('meta.json'))).toBe('{"v":1}');
    await write(B, (s) => s.toolWrite('meta.json', utf8.encode('{"v":2,"longer":true}')));
    await net.run();
    expect(text(store(A).files().get('meta.json'))).toBe('{"v":2,"longer":true}');

    await whileApart(net, write, (s) => s.toolWrite('meta.json', utf8.encode('{"a":1}'), { mtimeMs: 5_000 }), (s) => s.toolWrite('meta.json', utf8.encode('{"b":1}'), { mtimeMs: 9_000 }));
    expect(text(store(A).files().get('meta.json'))).toBe('{"b":1}');
    const copy = [...store(A).files().keys()].find((n) => n.includes('sync-conflict'))!;
    expect(copy).toMatch(/^meta\.sync-conflict-\d{8}-\d{6}-[0-9A-F]{7}\.json$/);
    expect(text(store(A).files().get(copy))).toBe('{"a":1}');
    expectSameFolders([store(A), store(B)]);

    await whileApart(net, write, (s) => s.toolDelete('meta.json'), (s) => s.toolWrite('meta.json', utf8.encode('{"b":2}')));
    expect(text(store(A).files().get('meta.json'))).toBe('{"b":2}');
    expectSameFolders([store(A), store(B)]);

    await write(A, (s) => s.toolDelete('meta.json'));
    await net.run();
    expect(store(B).files().has('meta.json')).toBe(false);
    expect(store(B).trash.some((t) => t.name === 'meta.json')).toBe(true);
  });

  for (const mode of ['fork', 'syncthing'] as const) {
    it(`three devices writing one file at once converge, every content kept (their conflict copies share a name), ${mode} policy`, async () => {
      const D = MemoryNetwork.deviceId(3);
      const { net, store, write } = await network([A, B, C, D], { conflict: mode });
      const name = 'p/s/tool-results/r.txt';
      // Same mtime everywhere: A wins on its smaller id, and B's and C's copies are named after
      // A in the same second of net.clock (which stands still): one name, two contents.
      for (const [id, content] of [[B, 'from B'], [C, 'from C'], [A, 'from A']] as const) {
        await write(id, (s) => s.toolWrite(name, utf8.encode(content), { mtimeMs: 7_000 }));
      }
      await meshConnect(net, [A, B, C, D]);
      await net.run();
      const files = [...store(A).files()].map(([n, b]) => [n, text(b)] as const);
      expect(text(store(A).files().get(name))).toBe('from A');
      expect(files.map(([, c]) => c).sort()).toEqual(['from A', 'from B', 'from C']);
      const copy = new RegExp(`^p/s/tool-results/r\\.sync-conflict-\\d{8}-\\d{6}-${A.slice(0, 7).toUpperCase()}`);
      expect(files.filter(([n]) => n !== name).every(([n]) => copy.test(n!))).toBe(true);
      expectSameFolders([store(A), store(B), store(C), store(D)]);
    });
  }

  it('creates empty files', async () => {
    const { net, store, write } = await network([A, B]);
    await meshConnect(net, [A, B]);
    await write(A, (s) => {
      s.toolWrite('empty.txt', new Uint8Array(0));
      s.toolWrite('empty.jsonl', new Uint8Array(0));
    });
    await net.run();
    expect(store(B).files().get('empty.txt')?.length).toBe(0);
    expect(store(B).files().get('empty.jsonl')?.length).toBe(0);
  });
});

describe('sessions between peers', () => {
  it('reports in sync only when each side holds everything the other holds', async () => {
    const { net, write } = await network([A, B]);
    const state = (id: string, peer: string) => net.nodes.get(id)!.engine.syncState(peer)[0]!;
    await write(A, (s) => s.toolAppend('x.jsonl', lines('1', '2')));
    await net.connect(A, B);
    expect(state(A, B).inSync).toBe(false); // B's index has not arrived yet
    await net.run();
    expect(state(A, B)).toMatchObject({ inSync: true, need: { items: 0 }, peerNeeds: { items: 0 } });
    expect(state(B, A).inSync).toBe(true);
    await write(A, (s) => s.toolAppend('x.jsonl', lines('3')));
    expect(state(A, B)).toMatchObject({ inSync: false, peerNeeds: { items: 1, bytes: 2 } });
    // Deliver until B announces the new line: both sides agree again.
    await net.run();
    expect(state(A, B).inSync).toBe(true);
    expect(state(B, A)).toMatchObject({ inSync: true, need: { items: 0 } });
  });


  it('after a restart, sends only what changed since the peer last saw it', async () => {
    const { net, store, write, sent } = await network([A, B]);
    await meshConnect(net, [A, B]);
    await write(A, (s) => {
      for (let i = 0; i < 20; i++) s.toolAppend(`s${i}.jsonl`, lines(`line ${i}`));
    });
    await net.run();
    const stores = await net.remove(B);
    await write(A, (s) => s.toolAppend('s3.jsonl', lines('while B was down')));
    await net.add(B, [{ id: 'f', conflict: 'fork', logDeletes: 'local' }], { stores });
    sent.length = 0;
    await net.connect(A, B);
    await net.run();
    const indexFromA = sent.filter((x) => x.from === A && x.msg.t === 'index').flatMap((x) => (x.msg as Extract<Message, { t: 'index' }>).items);
    expect(indexFromA.map((i) => i.name)).toEqual(['s3.jsonl']);
    const indexFromB = sent.filter((x) => x.from === B && x.msg.t === 'index').flatMap((x) => (x.msg as Extract<Message, { t: 'index' }>).items);
    expect(indexFromB.map((i) => i.name)).toEqual(['s3.jsonl']);
    expect(text(store(B).files().get('s3.jsonl'))).toBe('line 3\nwhile B was down\n');
  });

  it('a connection lost between the batches of a first index exchange: the rest of the index still arrives', async () => {
    const { net, store, write } = await network([A, B]);
    const N = 600; // three index batches of at most 256
    await write(A, (s) => {
      for (let i = 0; i < N; i++) s.toolAppend(`s${i}.jsonl`, lines(`line ${i}`));
    });
    await write(B, (s) => s.toolAppend('b.jsonl', lines('from B')));
    await net.connect(A, B);
    // Deliver frames until B has taken in A's first index batch, then drop the connection.
    let batches = 0;
    for (let n = 0; batches === 0; n++) {
      if (n > 100) throw new Error('A never sent its index');
      await net.settleAll();
      const busy = net.busy();
      const at = busy.findIndex((p) => p.from === A);
      const i = at >= 0 ? at : 0;
      const p = busy[i]!;
      const msg = decodeMessage(p.frames[0]!);
      if (p.from === A && msg.t === 'index' && msg.items.length > 0) batches++;
      await net.deliverOne(() => i);
    }
    await net.disconnect(A, B);
    await net.connect(A, B);
    await net.run();
    expect([...store(B).files().keys()].filter((n) => n.startsWith('s'))).toHaveLength(N);
    const state = (id: string, peer: string) => net.nodes.get(id)!.engine.syncState(peer)[0]!;
    expect(state(A, B)).toMatchObject({ inSync: true, need: { items: 0 }, peerNeeds: { items: 0 } });
    expect(state(B, A)).toMatchObject({ inSync: true, need: { items: 0 }, peerNeeds: { items: 0 } });
  });

  it('a peer view persisted by the old batching (claims records it lacks) asks for the whole index once on restart', async () => {
    const { net, store, write } = await network([A, B]);
    await write(A, (s) => {
      for (let i = 0; i < 300; i++) s.toolAppend(`s${i}.jsonl`, lines(`line ${i}`));
    });
    await net.connect(A, B);
    await net.run();
    const stores = await net.remove(B);
    // What the old code left behind: the view's maxSeq covers every record, but records are missing.
    const meta = stores.get('f')!.meta as MemoryMetaStore;
    const viewKey = [...meta.map.keys()].find((k) => k === `p/f/${A}`)!;
    const { format: _format, ...old } = meta.map.get(viewKey) as Record<string, unknown>;
    meta.map.set(viewKey, old);
    const records = [...meta.map.keys()].filter((k) => k.startsWith(`r/f/${A}/`));
    expect(records).toHaveLength(300);
    for (const k of records.slice(100)) meta.map.delete(k);
    await net.add(B, [{ id: 'f', conflict: 'fork', logDeletes: 'local' }], { stores });
    await net.connect(A, B);
    await net.run();
    const state = net.nodes.get(B)!.engine.syncState(A)[0]!;
    expect(state).toMatchObject({ inSync: true, need: { items: 0 }, peerNeeds: { items: 0 } });
    expect(store(B).files().size).toBe(300);
  });

  it('closes the session of a peer that sends a malformed frame, and keeps serving the others', async () => {
    const { net, store, write } = await network([A, B, C]);
    await meshConnect(net, [A, B, C]);
    await net.run();
    const engineA = net.nodes.get(A)!.engine;
    const garbage = [new Uint8Array([0xc1]), new Uint8Array([0x81, 0xa1, 0x74, 0xa3, 0x62, 0x61, 0x64]), encodeMessage({ t: 'cancel', folder: 'f', wantId: 1 }).subarray(0, 5)];
    for (const g of garbage) {
      await net.connect(A, B);
      await net.run();
      await expect(engineA.onFrame(B, g)).resolves.toBeUndefined();
      expect(net.isConnected(A, B)).toBe(false);
    }
    expect(engineA.stats.refusedFrames).toBe(garbage.length);
    expect(net.nodes.get(A)!.log.filter((l) => l.includes('ROAM_PROTOCOL_'))).toHaveLength(garbage.length);
    // A still serves C.
    await write(A, (s) => s.toolAppend('after.jsonl', lines('still here')));
    await net.run();
    expect(text(store(C).files().get('after.jsonl'))).toBe('still here\n');
  });

  it('refuses a peer whose hello names another device, and one that skips the hello', async () => {
    const { net } = await network([A, B]);
    await net.connect(A, B);
    const engineA = net.nodes.get(A)!.engine;
    // B's real hello is in flight; a forged one arrives first.
    await engineA.onFrame(B, encodeMessage({ t: 'hello', protocol: 2, minProtocol: 2, device: C, name: 'x', software: 'y' }));
    expect(net.isConnected(A, B)).toBe(false);
    await net.connect(A, B);
    await engineA.onFrame(B, encodeMessage({ t: 'want', folder: 'f', name: 'x.jsonl', wantId: 1, version: {}, kind: 'log', from: GENESIS, hash: new Uint8Array(32) }));
    expect(net.isConnected(A, B)).toBe(false);
  });

  it('tells a peer that speaks a newer protocol only which device must upgrade', async () => {
    const { net } = await network([A, B]);
    await net.connect(A, B);
    const engineA = net.nodes.get(A)!.engine;
    await engineA.onFrame(B, encodeMessage({ t: 'hello', protocol: 9, minProtocol: 7, device: B, name: 'laptop', software: 'roam 9' }));
    expect(net.isConnected(A, B)).toBe(false);
    expect(net.nodes.get(A)!.log.join('\n')).toMatch(/ROAM_PROTOCOL_VERSION.*upgrade roam/);
  });
});
