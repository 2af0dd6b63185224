/**
 * Folders that not every device holds: a folder added to a running engine (a tool installed, a
 * peer's tool folder taken) is announced and its indexes flow; a folder a device opted out of is
 * announced as declined and counts as in sync; what a device skips is counted, never "lacking".
 */
import { describe, expect, it } from 'vitest';
import { utf8 } from '../src/bytes.js';
import { DECLINED_INDEX_ID, decodeMessage, type Message } from '../src/protocol/index.js';
import type { FolderConfig } from '../src/replication/replicator.js';
import { MemoryNetwork, MemoryStore } from '../src/testing/index.js';

const A = MemoryNetwork.deviceId(0);
const B = MemoryNetwork.deviceId(1);
const F: FolderConfig = { id: 'codex', conflict: 'fork', logDeletes: 'local' };
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

function sentLog(net: MemoryNetwork): Array<{ from: string; to: string; msg: Message }> {
  const sent: Array<{ from: string; to: string; msg: Message }> = [];
  net.onFrame.push((from, to, frame) => sent.push({ from, to, msg: decodeMessage(frame) }));
  return sent;
}

describe('folders not every device holds', () => {
  it('a folder added to a running engine is announced, and indexes and content flow both ways', async () => {
    const net = new MemoryNetwork();
    const a = await net.add(A, [F]);
    const b = await net.add(B, []);
    a.stores.get('codex')!.toolAppend('2026/s.jsonl', utf8.encode('one\ntwo\n'));
    await a.engine.scan('codex');
    await net.connect(A, B);
    await net.run();
    // B holds no such folder: it knows A offers it, and has nothing to compare yet.
    expect(b.engine.replicator.peerFolders(A)).toEqual([{ id: 'codex', only: null, declined: false }]);
    expect(b.engine.syncState(A)).toEqual([]);

    const store = new MemoryStore();
    store.toolWrite('mine.txt', utf8.encode('from B\n'));
    b.stores.set('codex', store);
    await b.engine.addFolder(F, store);
    await net.run();
    expect(text(store.files().get('2026/s.jsonl'))).toBe('one\ntwo\n');
    expect(text(a.stores.get('codex')!.files().get('mine.txt'))).toBe('from B\n');
    expect(b.engine.syncState(A).map((s) => [s.folder, s.inSync])).toEqual([['codex', true]]);
    expect(a.engine.syncState(B).map((s) => [s.folder, s.inSync])).toEqual([['codex', true]]);

    // Live appends after the add reach it too.
    a.stores.get('codex')!.toolAppend('2026/s.jsonl', utf8.encode('three\n'));
    await a.engine.scan('codex');
    await net.run();
    expect(text(store.files().get('2026/s.jsonl'))).toBe('one\ntwo\nthree\n');
  });

  it('a declined folder is announced as declined with an empty selection, gets no index, and counts as in sync', async () => {
    const net = new MemoryNetwork();
    const sent = sentLog(net);
    const a = await net.add(A, [F]);
    // An id no folder can have (config.json is the user's) is never put on the wire.
    const b = await net.add(B, [], { options: { declined: () => ['codex', 'not a folder id'] } });
    for (let i = 0; i < 5; i++) a.stores.get('codex')!.toolAppend(`s${i}.jsonl`, utf8.encode('line\n'));
    await a.engine.scan('codex');
    await net.connect(A, B);
    await net.run();
    const announced = sent.find((x) => x.from === B && x.msg.t === 'folders')!.msg as Extract<Message, { t: 'folders' }>;
    expect(announced.folders).toEqual([{ id: 'codex', indexId: DECLINED_INDEX_ID, seq: 0, only: [], ignore: [], seenIndexId: '', seenSeq: 0 }]);
    expect(a.engine.replicator.peerFolders(B)).toEqual([{ id: 'codex', only: [], declined: true }]);
    const toB = sent.filter((x) => x.from === A && x.to === B && x.msg.t === 'index').map((x) => x.msg as Extract<Message, { t: 'index' }>);
    expect(toB.flatMap((m) => m.items)).toEqual([]);
    expect(a.engine.syncState(B).map((s) => [s.folder, s.inSync, s.peerNeeds.items])).toEqual([['codex', true, 0]]);
  });

  it("counts the peer's items this device skips by its rules, apart from what it lacks", async () => {
    const net = new MemoryNetwork();
    const a = await net.add(A, [F]);
    const b = await net.add(B, [F], { options: { ignores: (_f, name) => name.startsWith('skip/') } });
    for (const n of ['skip/1.jsonl', 'skip/2.jsonl', 'keep.jsonl']) a.stores.get('codex')!.toolAppend(n, utf8.encode('x\n'));
    await a.engine.scan('codex');
    await net.connect(A, B);
    await net.run();
    const [s] = b.engine.syncState(A);
    expect(s).toMatchObject({ inSync: true, need: { items: 0 }, skipped: { ignored: 2, deletedHere: 0 } });
    expect([...b.stores.get('codex')!.files().keys()]).toEqual(['keep.jsonl']);
  });
});
