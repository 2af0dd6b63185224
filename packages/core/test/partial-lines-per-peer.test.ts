/**
 * Regression (found by the torture suite, test/torture/hostile.test.ts): a line larger than a
 * frame arrives in several `logData` frames and is held in memory until whole (up to
 * maxLineBytes, 256 MiB by default). A peer could start such a line on every item it announced
 * and never finish any, making the receiver hold a line's worth per item at once: memory without
 * bound (the torture run saw 96 MiB of partial lines over 24 items held as 146 MB of RSS).
 * A sender finishes one line before it starts the next, so the receiver now keeps the parts of
 * one line per peer: when another pull from the same peer starts a multi-frame line, the pull
 * whose line was left unfinished is dropped and asked for again.
 */
import { describe, expect, it } from 'vitest';
import type { Effect } from '../src/replication/effects.js';
import { Replicator } from '../src/replication/replicator.js';
import type { ItemMeta } from '../src/items.js';
import type { Message } from '../src/protocol/index.js';

const ME = '00000000000000a1';
const PEER = '00000000000000b2';
const H = (fill: number) => new Uint8Array(32).fill(fill);
const GENESIS = { offset: 0, line: 0, hash: new Uint8Array(32) };
const version = { [PEER]: 1 };

const item = (name: string, seq: number): ItemMeta => ({
  name, kind: 'log', deleted: false, size: 10 * 1024 * 1024, lines: 1, hash: H(seq), mtimeMs: 1, mode: 0o644, version, seq, modifiedBy: PEER,
});

const sent = (effects: Effect[]): Message[] => effects.flatMap((e) => (e.t === 'send' ? [e.msg] : []));

describe('lines larger than a frame, from one peer', () => {
  it('are held for one line at a time: a line left unfinished is dropped and asked for again', () => {
    let n = 0;
    const r = new Replicator({ device: ME, name: 'me', software: 'test', folders: [{ id: 'f', conflict: 'fork', logDeletes: 'local' }], newIndexId: () => `00000000000000${(n++).toString(16).padStart(2, '0')}` });
    r.connected(PEER);
    r.receive(PEER, { t: 'hello', protocol: 2, minProtocol: 2, device: PEER, name: 'peer', software: 'test' }, 1);
    r.receive(PEER, { t: 'folders', folders: [{ id: 'f', indexId: 'feedfeedfeedfeed', seq: 3, only: null, ignore: [], seenIndexId: '', seenSeq: 0 }] }, 1);
    const wants = sent(r.receive(PEER, { t: 'index', folder: 'f', indexId: 'feedfeedfeedfeed', items: [item('a.jsonl', 1), item('b.jsonl', 2), item('c.jsonl', 3)], upTo: 3 }, 1));
    const wantOf = (name: string) => wants.find((m) => m.t === 'want' && m.name === name) as Extract<Message, { t: 'want' }>;
    expect(['a.jsonl', 'b.jsonl', 'c.jsonl'].map((x) => wantOf(x)?.wantId).every((id) => typeof id === 'number')).toBe(true);

    const part = (name: string, wantId: number, chunk: number, end: Extract<Message, { t: 'logData' }>['end'] = null): Message => ({
      t: 'logData', folder: 'f', name, wantId, version, start: GENESIS, chunk, data: new Uint8Array(1024).fill(0x61), end, mtimeMs: 1,
    });
    // A line of a.jsonl begins, and goes on.
    expect(r.receive(PEER, part('a.jsonl', wantOf('a.jsonl').wantId, 0), 2)).toEqual([]);
    expect(r.receive(PEER, part('a.jsonl', wantOf('a.jsonl').wantId, 1), 2)).toEqual([]);
    // Then a line of b.jsonl begins: a.jsonl's was abandoned. Its pull is cancelled and asked again.
    const out = sent(r.receive(PEER, part('b.jsonl', wantOf('b.jsonl').wantId, 0), 3));
    expect(out.filter((m) => m.t === 'cancel').map((m) => (m as Extract<Message, { t: 'cancel' }>).wantId)).toEqual([wantOf('a.jsonl').wantId]);
    const again = out.find((m) => m.t === 'want' && m.name === 'a.jsonl') as Extract<Message, { t: 'want' }> | undefined;
    expect(again).toBeDefined();
    expect(again!.wantId).not.toBe(wantOf('a.jsonl').wantId);
    // The rest of a.jsonl's old line is ignored: nothing is appended from the dropped parts.
    const late = r.receive(PEER, part('a.jsonl', wantOf('a.jsonl').wantId, 2, { offset: 3073, line: 1, hash: H(9) }), 4);
    expect(late.filter((e) => e.t === 'append' || e.t === 'stageWrite')).toEqual([]);
    // b.jsonl's line goes on as before (the pull that is receiving is never the one dropped).
    expect(r.receive(PEER, part('b.jsonl', wantOf('b.jsonl').wantId, 1), 5)).toEqual([]);
  });
});
