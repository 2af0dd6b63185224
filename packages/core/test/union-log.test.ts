/**
 * The union log's view (docs/PROTOCOL.md, "Union logs") over in-memory ports: what happens when
 * the tool trims its file itself (Codex's `history.max_bytes`: the oldest lines dropped in place),
 * when it rewrites it whole, and what a damaged state file gives.
 */
import { describe, expect, it } from 'vitest';
import { concatBytes, utf8 } from '../src/bytes.js';
import { isRoamError } from '../src/errors.js';
import { UnionView, parseUnionState, type UnionState } from '../src/union/index.js';

const dec = new TextDecoder();

function rig() {
  const empty = (): Uint8Array => new Uint8Array(0);
  const disk = { view: empty(), own: empty(), other: empty(), saved: null as unknown };
  /** Runs once, right after roam's next append to its own log (a tool racing a pass). */
  let afterOwn: (() => void) | null = null;
  const open = () =>
    UnionView.open({
      view: {
        size: async () => disk.view.length,
        read: async (o, n) => disk.view.slice(o, o + n),
        append: async (d) => void (disk.view = concatBytes([disk.view, d])),
      },
      logs: {
        origins: () => ['b'],
        size: () => disk.other.length,
        read: async (_o, off, n) => disk.other.slice(off, off + n),
        ownSize: async () => disk.own.length,
        appendOwn: async (d) => {
          disk.own = concatBytes([disk.own, d]);
          const race = afterOwn;
          afterOwn = null;
          race?.();
        },
      },
      mapper: { toWire: (l) => l, toLocal: (l) => l },
      state: { load: async () => disk.saved, save: async (s: UnionState) => void (disk.saved = structuredClone(s)) },
    });
  const tool = (text: string) => (disk.view = concatBytes([disk.view, utf8.encode(text)]));
  const lines = (b: Uint8Array) => dec.decode(b).split('\n').filter(Boolean);
  return { disk, open, tool, lines, race: (f: () => void) => (afterOwn = f) };
}

const line = (n: number) => `{"session_id":"s","ts":${1_700_000_000 + n},"text":"prompt ${n}"}\n`;

describe('union log view', () => {
  it('a trim by the tool (oldest lines dropped in place): its new line is taken, nothing is sent again, later lines arrive once', async () => {
    const { disk, open, tool, lines } = rig();
    const v = await open();
    for (let i = 0; i < 4; i++) tool(line(i));
    expect(await v.pass()).toMatchObject({ ingested: 4, delivered: 0, rewritten: false });
    // Codex appends prompt 4 and, over max_bytes, keeps its newest lines in the same file.
    tool(line(4));
    disk.view = utf8.encode([1, 2, 3, 4].map(line).join(''));
    expect(await v.pass()).toMatchObject({ ingested: 1, rewritten: true });
    expect(lines(disk.own)).toEqual([0, 1, 2, 3, 4].map((i) => line(i).trim()));
    // Another device's line arrives after the trim: appended once, and never read back as local.
    disk.other = utf8.encode('{"session_id":"t","ts":1,"text":"from b"}\n');
    expect(await v.pass()).toMatchObject({ delivered: 1, ingested: 0 });
    expect(await (await open()).pass()).toMatchObject({ delivered: 0, ingested: 0, rewritten: false });
    expect(lines(disk.view)).toEqual([...[1, 2, 3, 4].map((i) => line(i).trim()), '{"session_id":"t","ts":1,"text":"from b"}']);
    expect(lines(disk.own)).toHaveLength(5);
  });

  it('a trim racing a pass (after the pass read its lines, before it committed) loses no line', async () => {
    const { disk, open, tool, lines, race } = rig();
    const v = await open();
    for (let i = 0; i < 4; i++) tool(line(i));
    await v.pass();
    tool(line(4));
    // While roam appends prompt 4 to its log, Codex appends prompt 5 and trims to its newest lines.
    race(() => (disk.view = utf8.encode([3, 4, 5].map(line).join(''))));
    await v.pass();
    await v.pass();
    expect(lines(disk.own)).toEqual([0, 1, 2, 3, 4, 5].map((i) => line(i).trim()));
  });

  it('a rewrite caught half-way (the file truncated, not yet written) is not taken until it holds still', async () => {
    const { disk, open, tool, lines } = rig();
    const v = await open();
    for (let i = 0; i < 3; i++) tool(line(i));
    await v.pass();
    tool(line(3));
    disk.view = new Uint8Array(0); // Codex: set_len(0) …
    expect(await v.pass()).toMatchObject({ ingested: 0, waiting: true, rewritten: false });
    disk.view = utf8.encode([2, 3].map(line).join('')); // … then writes what it keeps
    expect(await v.pass()).toMatchObject({ ingested: 1, rewritten: true });
    expect(lines(disk.own)).toEqual([0, 1, 2, 3].map((i) => line(i).trim()));
  });

  it('a file rewritten whole (its last known line gone) is taken as it is once it holds still: none of it is sent', async () => {
    const { disk, open, tool, lines } = rig();
    const v = await open();
    tool(line(0));
    await v.pass();
    disk.view = utf8.encode(line(7) + line(8));
    expect(await v.pass()).toMatchObject({ ingested: 0, waiting: true, rewritten: false });
    expect(await v.pass()).toMatchObject({ ingested: 0, rewritten: true });
    tool(line(9));
    expect(await v.pass()).toMatchObject({ ingested: 1, rewritten: false });
    expect(lines(disk.own)).toEqual([line(0).trim(), line(9).trim()]);
  });

  it('a partial line of the tool holds deliveries back until it is complete', async () => {
    const { disk, open, tool, lines } = rig();
    const v = await open();
    tool('{"text":"half');
    disk.other = utf8.encode('{"text":"from b"}\n');
    expect(await v.pass()).toMatchObject({ delivered: 0, waiting: true });
    tool('"}\n');
    expect(await v.pass()).toMatchObject({ ingested: 1, delivered: 1, waiting: false });
    expect(lines(disk.view)).toEqual(['{"text":"half"}', '{"text":"from b"}']);
  });

  it('a damaged state is refused with ROAM_STORE_CORRUPT', () => {
    for (const bad of [{}, { v: 1, end: -1, anchor: '', own: [], delivered: {}, pending: null }, { v: 1, end: 0, anchor: 'zz', own: [], delivered: {}, pending: null }, { v: 1, end: 0, anchor: '', own: [], delivered: {}, pending: { kind: 'deliver', data: '00' } }]) {
      let err: unknown;
      try {
        parseUnionState(bad);
      } catch (e) {
        err = e;
      }
      expect(isRoamError(err) && err.code).toBe('ROAM_STORE_CORRUPT');
    }
    expect(parseUnionState(null)).toMatchObject({ end: 0, pending: null });
  });
});
