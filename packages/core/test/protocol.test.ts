import { encode } from '@msgpack/msgpack';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, RoamError, type ErrorCode } from '../src/errors.js';
import {
  DEVICE_ID_RE,
  FOLDER_ID_RE,
  MAX_CHECKPOINTS,
  MAX_DATA_BYTES,
  MAX_DEVICE_NAME,
  MAX_ERROR_MESSAGE,
  MAX_FOLDERS,
  MAX_FRAME_BYTES,
  MAX_INDEX_ITEMS,
  MAX_VERSION_ENTRIES,
  MESSAGE_TYPES,
  MIN_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
  decodeMessage,
  encodeMessage,
  messageSchema,
  negotiate,
  type Hello,
  type Message,
} from '../src/protocol/index.js';

// ── Helpers and fixtures ─────────────────────────────────────────────────────────────────────

const H = (fill: number, n = 32) => new Uint8Array(n).fill(fill);
const DEV = '0123456789abcdef';
const DEV2 = 'fedcba9876543210';
const IDX = 'a1b2c3d4e5f60718';
const pos = (offset: number, line: number, fill: number) => ({ offset, line, hash: H(fill) });
const bytes = (s: string) => new TextEncoder().encode(s);
const version = { [DEV]: 3, [DEV2]: 1 };

const item = {
  name: 'sessions/2025/a.jsonl',
  kind: 'log' as const,
  deleted: false,
  size: 10,
  lines: 2,
  hash: H(1),
  mtimeMs: 1700000000000.25,
  mode: 0o644,
  version,
  seq: 7,
  modifiedBy: DEV,
};

const hello: Hello = { t: 'hello', protocol: 1, minProtocol: 1, device: DEV, name: 'laptop', software: 'roam/0.1.0' };
const want = { t: 'want', folder: 'claude', name: 'a.jsonl', wantId: 1, version, kind: 'log', from: pos(10, 2, 1), hash: H(2) } as const;
const logData = {
  t: 'logData',
  folder: 'claude',
  name: 'a.jsonl',
  wantId: 1,
  version,
  start: pos(10, 2, 1),
  chunk: 0,
  data: bytes('{"a":1}\n'),
  end: pos(18, 3, 4),
  mtimeMs: 1700000000000,
} as const;
const fileData = {
  t: 'fileData',
  folder: 'codex',
  name: 'notes/todo.md',
  wantId: 9,
  version,
  offset: 0,
  data: bytes('# todo\n'),
  size: 7,
  hash: H(5),
  lines: 0,
  mtimeMs: 1.5,
  mode: 0o600,
  done: true,
} as const;

const samples: Message[] = [
  hello,
  {
    t: 'folders',
    folders: [
      { id: 'claude', indexId: IDX, seq: 7, only: null, ignore: [], seenIndexId: '', seenSeq: 0 },
      { id: 'Codex_2.x-y', indexId: IDX, seq: 0, only: ['-home-a-app', 'x'], ignore: ['*.log', '!keep.log'], seenIndexId: 'ffffffffffffffff', seenSeq: 42 },
    ],
  },
  { t: 'folders', folders: [] },
  { t: 'index', folder: 'claude', indexId: IDX, items: [item, { ...item, name: 'x.md', kind: 'file', deleted: true, lines: 0, seq: 8, version: {} }], upTo: 9 },
  want,
  { ...want, kind: 'file', from: pos(0, 0, 0) },
  logData,
  { ...logData, chunk: 1, end: null, data: new Uint8Array(0) },
  fileData,
  { t: 'diverged', folder: 'claude', name: 'a.jsonl', wantId: 3, version, at: null, end: pos(100, 9, 7), checkpoints: [pos(0, 0, 0), pos(50, 4, 8)] },
  { t: 'diverged', folder: 'claude', name: 'a.jsonl', wantId: 3, version, at: pos(10, 2, 9), end: pos(100, 9, 7), checkpoints: [] },
  { t: 'gone', folder: 'claude', name: 'a.jsonl', wantId: 2, reason: 'version' },
  { t: 'cancel', folder: 'claude', wantId: 2 },
  { t: 'error', code: 'ROAM_PROTOCOL_VIOLATION', message: 'index before folders' },
];

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

/** Decoding `frame` (or a raw value encoded with plain msgpack) fails with `code`. */
function expectCode(frame: Uint8Array | object, code: ErrorCode): RoamError {
  const err = errorOf(() => decodeMessage(frame instanceof Uint8Array ? frame : encode(frame)));
  expect(err).toBeInstanceOf(RoamError);
  expect((err as RoamError).code).toBe(code);
  return err as RoamError;
}

/** The decoder's contract on arbitrary input: a schema-valid message, or a RoamError. */
function decodesSafely(frame: Uint8Array): void {
  let msg: Message;
  try {
    msg = decodeMessage(frame);
  } catch (err) {
    if (!(err instanceof RoamError)) throw err;
    return;
  }
  expect(messageSchema.safeParse(msg).success).toBe(true);
}

// ── Arbitraries ──────────────────────────────────────────────────────────────────────────────

const arbHash = fc.uint8Array({ minLength: 32, maxLength: 32 });
const arbCount = fc.maxSafeNat();
const arbDevice = fc.stringMatching(DEVICE_ID_RE);
const arbFolder = fc.stringMatching(FOLDER_ID_RE);
const arbPos = fc.record({ offset: arbCount, line: arbCount, hash: arbHash });
const arbVersion = fc.dictionary(arbDevice, arbCount, { maxKeys: MAX_VERSION_ENTRIES });
const arbWantId = fc.integer({ min: 1, max: 2 ** 31 - 1 });
const arbMtime = fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => (x === 0 ? 0 : x)); // msgpack writes -0 as 0
const arbComponent = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 12 })
  .filter((c) => c !== '.' && c !== '..' && !/[/\\\u0000-\u001f]/.test(c) && !/^[A-Za-z]:/.test(c));
const arbName = fc.array(arbComponent, { minLength: 1, maxLength: 5 }).map((p) => p.join('/'));
const arbItem = fc.record({
  name: arbName,
  kind: fc.constantFrom('log' as const, 'file' as const),
  deleted: fc.boolean(),
  size: arbCount,
  lines: arbCount,
  hash: arbHash,
  mtimeMs: arbMtime,
  mode: fc.integer({ min: 0, max: 0o7777 }),
  version: arbVersion,
  seq: arbCount,
  modifiedBy: arbDevice,
});
const arbIndex = fc.record({
  t: fc.constant('index' as const),
  folder: arbFolder,
  indexId: fc.stringMatching(/^[0-9a-f]{16}$/),
  items: fc.array(arbItem, { maxLength: 20 }),
  upTo: arbCount,
});
const arbWant = fc.record({
  t: fc.constant('want' as const),
  folder: arbFolder,
  name: arbName,
  wantId: arbWantId,
  version: arbVersion,
  kind: fc.constantFrom('log' as const, 'file' as const),
  from: arbPos,
  hash: arbHash,
});
const arbLogData = fc.record({
  t: fc.constant('logData' as const),
  folder: arbFolder,
  name: arbName,
  wantId: arbWantId,
  version: arbVersion,
  start: arbPos,
  chunk: arbCount,
  data: fc.uint8Array({ maxLength: 4096 }),
  end: fc.option(arbPos, { nil: null }),
  mtimeMs: arbMtime,
});

// ── Tests ────────────────────────────────────────────────────────────────────────────────────

describe('round trip', () => {
  it('covers every message type', () => {
    expect(new Set(samples.map((m) => m.t))).toEqual(MESSAGE_TYPES);
  });

  it.each(samples.map((m, i) => [`${i}:${m.t}`, m] as const))('%s', (_label, msg) => {
    expect(decodeMessage(encodeMessage(msg))).toEqual(msg);
  });

  it('index, want and logData (property)', () => {
    for (const arb of [arbIndex, arbWant, arbLogData] as fc.Arbitrary<Message>[]) {
      fc.assert(
        fc.property(arb, (msg) => {
          expect(decodeMessage(encodeMessage(msg))).toEqual(msg);
        }),
        { numRuns: 200 },
      );
    }
  });

  it('encodes byte fields as msgpack bin', () => {
    const frame = encodeMessage(logData);
    const hashBin = [0xc4, 32, ...H(1)];
    expect(Buffer.from(frame).includes(Buffer.from(hashBin))).toBe(true);
    expect(Buffer.from(frame).includes(Buffer.from([0xc4, logData.data.length, ...logData.data]))).toBe(true);
  });

  it('carries a full MAX_DATA_BYTES payload in one frame', () => {
    const big = { ...fileData, data: new Uint8Array(MAX_DATA_BYTES).fill(7), size: MAX_DATA_BYTES };
    const { data, ...rest } = decodeMessage(encodeMessage(big)) as typeof big;
    expect(rest).toEqual({ ...big, data: undefined });
    expect(Buffer.compare(data, big.data)).toBe(0); // (toEqual is slow on a MiB)
  });

  it('copies hashes out of the frame', () => {
    const frame = encodeMessage(want);
    const out = decodeMessage(frame) as typeof want;
    frame.fill(0);
    expect(out.hash).toEqual(H(2));
    expect(out.from.hash).toEqual(H(1));
  });
});

describe('malformed frames', () => {
  it('every strict prefix of a valid frame is MALFORMED, nothing else escapes', () => {
    for (const msg of samples) {
      const frame = encodeMessage(msg);
      for (let n = 0; n < frame.length; n++) {
        decodesSafely(frame.subarray(0, n));
        expectCode(frame.subarray(0, n), ErrorCodes.PROTOCOL_MALFORMED);
      }
    }
  });

  it('refuses an oversized frame before decoding', () => {
    expectCode(new Uint8Array(MAX_FRAME_BYTES + 1), ErrorCodes.PROTOCOL_TOO_LARGE);
  });

  it('refuses oversized data fields', () => {
    expectCode({ ...logData, data: new Uint8Array(MAX_DATA_BYTES + 1) }, ErrorCodes.PROTOCOL_TOO_LARGE);
    expectCode({ ...fileData, data: new Uint8Array(MAX_DATA_BYTES + 1) }, ErrorCodes.PROTOCOL_TOO_LARGE);
    expect((errorOf(() => encodeMessage({ ...fileData, data: new Uint8Array(MAX_DATA_BYTES + 1) })) as RoamError).code).toBe(
      ErrorCodes.PROTOCOL_TOO_LARGE,
    );
  });

  it('refuses oversized arrays, maps and strings', () => {
    const folder = { id: 'f', indexId: IDX, seq: 0, only: null, ignore: [], seenIndexId: '', seenSeq: 0 };
    expectCode({ t: 'folders', folders: Array(MAX_FOLDERS + 1).fill(folder) }, ErrorCodes.PROTOCOL_TOO_LARGE);
    expectCode({ t: 'index', folder: 'f', indexId: IDX, items: Array(MAX_INDEX_ITEMS + 1).fill(item), upTo: 1 }, ErrorCodes.PROTOCOL_TOO_LARGE);
    const diverged = samples.find((m) => m.t === 'diverged')!;
    expectCode({ ...diverged, checkpoints: Array(MAX_CHECKPOINTS + 1).fill(pos(0, 0, 0)) }, ErrorCodes.PROTOCOL_TOO_LARGE);
    const bigVersion = Object.fromEntries(Array.from({ length: MAX_VERSION_ENTRIES + 1 }, (_, i) => [i.toString(16).padStart(16, '0'), 1]));
    expectCode({ ...want, version: bigVersion }, ErrorCodes.PROTOCOL_TOO_LARGE);
    expectCode({ ...hello, name: 'x'.repeat(MAX_DEVICE_NAME + 1) }, ErrorCodes.PROTOCOL_TOO_LARGE);
    expectCode({ t: 'error', code: 'X', message: 'x'.repeat(MAX_ERROR_MESSAGE + 1) }, ErrorCodes.PROTOCOL_TOO_LARGE);
    expectCode({ ...want, name: 'x'.repeat(5000) }, ErrorCodes.PROTOCOL_TOO_LARGE);
  });

  it('fits the largest index the schema admits in one frame', () => {
    // MAX_INDEX_ITEMS is chosen so that a sender never has to cut batches by encoded size.
    const longName = Array(16).fill('n'.repeat(250)).join('/');
    const items = Array.from({ length: MAX_INDEX_ITEMS }, (_, i) => ({ ...item, name: `${longName}${i}`.slice(-4000) }));
    const frame = encodeMessage({ t: 'index', folder: 'f', indexId: IDX, items, upTo: 1 });
    expect(frame.length).toBeGreaterThan(MAX_INDEX_ITEMS * 4000);
    expect(frame.length).toBeLessThanOrEqual(MAX_FRAME_BYTES);
  });

  it('refuses to encode a message that breaks the schema', () => {
    const err = errorOf(() => encodeMessage({ ...want, hash: H(0, 31) }));
    expect((err as RoamError).code).toBe(ErrorCodes.PROTOCOL_MALFORMED);
  });

  describe('wrong types in every field', () => {
    const candidates: unknown[] = [null, 7, -1.5, 'x', true, [1], { a: 1 }, new Uint8Array(2)];
    const kindOf = (v: unknown) => (v === null ? 'null' : v instanceof Uint8Array ? 'bytes' : Array.isArray(v) ? 'array' : typeof v);
    const nullable = new Set(['end', 'at']);
    const floats = new Set(['mtimeMs']);
    it.each([hello, want, logData, fileData, samples[1]!, samples[9]!].map((m) => [m.t, m] as const))('%s', (_t, msg) => {
      for (const [key, good] of Object.entries(msg)) {
        if (key === 't') continue;
        for (const bad of candidates) {
          const wrong = kindOf(bad) !== kindOf(good) ? !(bad === null && nullable.has(key)) : bad === -1.5 && !floats.has(key);
          if (wrong) expectCode({ ...msg, [key]: bad }, ErrorCodes.PROTOCOL_MALFORMED);
        }
      }
    });

    it('nested fields', () => {
      for (const bad of ['1', -1, 1.5, 2 ** 53, null]) {
        expectCode({ ...want, from: { ...want.from, offset: bad } }, ErrorCodes.PROTOCOL_MALFORMED);
        expectCode({ ...want, from: { ...want.from, line: bad } }, ErrorCodes.PROTOCOL_MALFORMED);
        expectCode({ ...want, version: { [DEV]: bad } }, ErrorCodes.PROTOCOL_MALFORMED);
        expectCode({ t: 'index', folder: 'f', indexId: IDX, items: [{ ...item, seq: bad }], upTo: 1 }, ErrorCodes.PROTOCOL_MALFORMED);
      }
      expectCode({ ...want, version: { 'not-a-device': 1 } }, ErrorCodes.PROTOCOL_MALFORMED);
      expectCode({ ...want, folder: '../etc' }, ErrorCodes.PROTOCOL_MALFORMED);
      expectCode({ ...hello, device: DEV.toUpperCase() }, ErrorCodes.PROTOCOL_MALFORMED);
      expectCode({ ...hello, protocol: 65536 }, ErrorCodes.PROTOCOL_MALFORMED);
      expectCode({ ...hello, minProtocol: 2, protocol: 1 }, ErrorCodes.PROTOCOL_MALFORMED);
      expectCode({ ...fileData, mode: 0o10000 }, ErrorCodes.PROTOCOL_MALFORMED);
      expectCode({ ...fileData, mtimeMs: NaN }, ErrorCodes.PROTOCOL_MALFORMED);
      expectCode({ ...fileData, mtimeMs: Infinity }, ErrorCodes.PROTOCOL_MALFORMED);
      expectCode({ ...want, wantId: 0 }, ErrorCodes.PROTOCOL_MALFORMED);
      expectCode({ ...want, wantId: 2 ** 31 }, ErrorCodes.PROTOCOL_MALFORMED);
      expectCode({ ...want, kind: 'dir' }, ErrorCodes.PROTOCOL_MALFORMED);
      expectCode({ t: 'gone', folder: 'f', name: 'a', wantId: 1, reason: 'bored' }, ErrorCodes.PROTOCOL_MALFORMED);
      expectCode({ t: 'folders', folders: [{ id: 'f', indexId: IDX, seenIndexId: 'abc', seenSeq: 0 }] }, ErrorCodes.PROTOCOL_MALFORMED);
    });
  });

  it('unknown, missing or non-string t', () => {
    for (const t of ['bogus', 'constructor', '__proto__', 'toString', 'HELLO', '']) expectCode({ ...hello, t }, ErrorCodes.PROTOCOL_UNKNOWN_MESSAGE);
    const { t: _t, ...noT } = hello;
    expectCode(noT, ErrorCodes.PROTOCOL_MALFORMED);
    for (const t of [1, null, true, ['hello'], { hello: 1 }]) expectCode({ ...hello, t }, ErrorCodes.PROTOCOL_MALFORMED);
    for (const v of [[hello], 'hello', 1, null]) expectCode(encode(v), ErrorCodes.PROTOCOL_MALFORMED);
  });

  it('extra keys, at the top and nested', () => {
    expectCode({ ...hello, extra: 1 }, ErrorCodes.PROTOCOL_MALFORMED);
    expectCode({ ...want, from: { ...want.from, extra: 1 } }, ErrorCodes.PROTOCOL_MALFORMED);
    expectCode({ t: 'index', folder: 'f', indexId: IDX, items: [{ ...item, extra: 1 }], upTo: 1 }, ErrorCodes.PROTOCOL_MALFORMED);
  });

  it('hashes of the wrong length', () => {
    for (const n of [0, 31, 33]) {
      expectCode({ ...want, hash: H(1, n) }, ErrorCodes.PROTOCOL_MALFORMED);
      expectCode({ ...want, from: { ...want.from, hash: H(1, n) } }, ErrorCodes.PROTOCOL_MALFORMED);
      expectCode({ ...fileData, hash: H(1, n) }, ErrorCodes.PROTOCOL_MALFORMED);
    }
  });

  it('negative and non-integer offsets', () => {
    for (const offset of [-1, 1.5, -0.5, 2 ** 53]) {
      expectCode({ ...fileData, offset }, ErrorCodes.PROTOCOL_MALFORMED);
      expectCode({ ...logData, start: { ...logData.start, offset } }, ErrorCodes.PROTOCOL_MALFORMED);
      expectCode({ ...logData, chunk: offset }, ErrorCodes.PROTOCOL_MALFORMED);
    }
  });

  it('hostile item names give ROAM_PATH_* codes', () => {
    const cases: [string, ErrorCode][] = [
      ['../x', ErrorCodes.PATH_ESCAPE],
      ['/etc/passwd', ErrorCodes.PATH_ESCAPE],
      ['a/../../b', ErrorCodes.PATH_ESCAPE],
      ['C:/x', ErrorCodes.PATH_ESCAPE],
      ['a\u0000b', ErrorCodes.PATH_INVALID],
      ['a\\b', ErrorCodes.PATH_INVALID],
      ['', ErrorCodes.PATH_INVALID],
      ['a//b', ErrorCodes.PATH_INVALID],
      ['./a', ErrorCodes.PATH_INVALID],
    ];
    for (const [name, code] of cases) {
      expectCode({ ...want, name }, code);
      expectCode({ ...fileData, name }, code);
      expectCode({ t: 'index', folder: 'f', indexId: IDX, items: [item, { ...item, name }], upTo: 1 }, code);
      expect((errorOf(() => encodeMessage({ ...want, name })) as RoamError).code).toBe(code);
    }
  });

  it('a bin declaring more bytes than the frame holds', () => {
    const head = [0x82, 0xa1, 0x74, 0xa7, ...bytes('logData'), 0xa4, ...bytes('data')];
    expectCode(Uint8Array.from([...head, 0xc6, 0x00, 0x0f, 0xff, 0xff, 1, 2, 3]), ErrorCodes.PROTOCOL_MALFORMED);
    expectCode(Uint8Array.from([...head, 0xc5, 0xff, 0xff, 1, 2, 3]), ErrorCodes.PROTOCOL_MALFORMED);
    expectCode(Uint8Array.from([...head, 0xc6, 0xff, 0xff, 0xff, 0xff, 1, 2, 3]), ErrorCodes.PROTOCOL_TOO_LARGE);
    expectCode(Uint8Array.from([...head, 0xdd, 0xff, 0xff, 0xff, 0xff]), ErrorCodes.PROTOCOL_TOO_LARGE);
    expectCode(Uint8Array.from([...head, 0xdc, 0x10, 0x00]), ErrorCodes.PROTOCOL_MALFORMED);
  });

  it('trailing bytes, extension types, reserved bytes, deep nesting, __proto__ keys', () => {
    expectCode(Uint8Array.from([...encodeMessage(hello), 0xc0]), ErrorCodes.PROTOCOL_MALFORMED);
    expectCode({ ...hello, name: new Date(0) }, ErrorCodes.PROTOCOL_MALFORMED); // timestamp extension
    expectCode(Uint8Array.from([0x81, 0xa1, 0x74, 0xc7, 0x00, 0x01]), ErrorCodes.PROTOCOL_MALFORMED); // empty ext 8
    expectCode(Uint8Array.from([0x81, 0xa1, 0x74, 0xc1]), ErrorCodes.PROTOCOL_MALFORMED);
    expectCode(Uint8Array.from([...Array(100).fill(0x91), 0xc0]), ErrorCodes.PROTOCOL_MALFORMED);
    // Nested 8192-element array headers: must be refused by depth, not by running out of memory.
    const bomb = new Uint8Array(MAX_FRAME_BYTES - 1);
    for (let i = 0; i + 3 <= bomb.length; i += 3) bomb.set([0xdc, 0x20, 0x00], i);
    expectCode(bomb, ErrorCodes.PROTOCOL_MALFORMED);
    const proto = Uint8Array.from([0x82, 0xa1, 0x74, 0xa5, ...bytes('hello'), 0xa9, ...bytes('__proto__'), 0x80]);
    expectCode(proto, ErrorCodes.PROTOCOL_MALFORMED);
    expectCode(Uint8Array.from([0x81, 0xa1, 0x74, 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), ErrorCodes.PROTOCOL_MALFORMED);
  });

  it('random bytes never throw anything but RoamError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), decodesSafely), { numRuns: 500 });
  });

  it('mutated valid frames never throw anything but RoamError', () => {
    const frames = samples.map(encodeMessage);
    const arb = fc.tuple(fc.constantFrom(...frames), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }));
    fc.assert(
      fc.property(arb, ([frame, edits]) => {
        const f = frame.slice();
        for (const [at, v] of edits) f[at % f.length] = v;
        decodesSafely(f);
      }),
      { numRuns: 500 },
    );
  });

  it('random objects under a known t never throw anything but RoamError', () => {
    const arb = fc.tuple(fc.constantFrom(...MESSAGE_TYPES), fc.dictionary(fc.string(), fc.jsonValue()));
    fc.assert(fc.property(arb, ([t, rest]) => decodesSafely(encode({ ...rest, t }))), { numRuns: 500 });
  });
});

describe('negotiate', () => {
  const local = { protocol: PROTOCOL_VERSION, minProtocol: MIN_PROTOCOL_VERSION };
  const remote = (minProtocol: number, protocol: number): Hello => ({ ...hello, name: 'desktop', minProtocol, protocol });

  it('agrees on the highest common version', () => {
    expect(negotiate(local, remote(PROTOCOL_VERSION, PROTOCOL_VERSION))).toBe(PROTOCOL_VERSION);
    expect(negotiate({ protocol: 3, minProtocol: 1 }, remote(1, 2))).toBe(2);
    expect(negotiate({ protocol: 2, minProtocol: 1 }, remote(2, 5))).toBe(2);
    expect(negotiate({ protocol: 4, minProtocol: 4 }, remote(1, 9))).toBe(4);
  });

  it('names the side that must upgrade', () => {
    const old = errorOf(() => negotiate({ protocol: 5, minProtocol: 3 }, remote(1, 2))) as RoamError;
    expect(old).toBeInstanceOf(RoamError);
    expect(old.code).toBe(ErrorCodes.PROTOCOL_VERSION);
    expect(old.message).toContain('upgrade roam on "desktop"');
    const mine = errorOf(() => negotiate({ protocol: 1, minProtocol: 1 }, remote(3, 4))) as RoamError;
    expect(mine.code).toBe(ErrorCodes.PROTOCOL_VERSION);
    expect(mine.message).toContain('"desktop"');
    expect(mine.message).toContain('upgrade roam on this device');
    const named = errorOf(() => negotiate({ protocol: 1, minProtocol: 1, name: 'laptop' }, remote(3, 4))) as RoamError;
    expect(named.message).toContain('upgrade roam on "laptop"');
  });

  it('protocol 2 (versioned membership entries): a device of protocol 1 is told to upgrade, on both sides', () => {
    expect([MIN_PROTOCOL_VERSION, PROTOCOL_VERSION]).toEqual([2, 2]);
    const here = errorOf(() => negotiate({ ...local, name: 'laptop' }, remote(1, 1))) as RoamError;
    expect(here.code).toBe(ErrorCodes.PROTOCOL_VERSION);
    expect(here.message).toContain('upgrade roam on "desktop"');
    // What the older build (protocol 1..1, no name passed) says on its side.
    const there = errorOf(() => negotiate({ protocol: 1, minProtocol: 1 }, { ...hello, name: 'laptop', protocol: PROTOCOL_VERSION, minProtocol: MIN_PROTOCOL_VERSION })) as RoamError;
    expect(there.message).toContain('upgrade roam on this device');
  });
});
