/**
 * Torture: the decoder, the trust boundary of every frame a peer sends. fast-check feeds
 * decodeMessage random bytes, valid frames with random edits (flipped, inserted and deleted
 * bytes, truncations, length fields stretched), msgpack values of any shape under every message
 * type, and schema-shaped messages with hostile names and out-of-bound fields. The property: it
 * returns a message that the schema admits (and that encodes back to an equal message), or
 * throws a RoamError with a protocol or path code; never anything else, never slowly.
 *
 * Quick: 2,000 cases per generator (10,000 in all). Full: 20,000 per generator (100,000).
 */
import { decode, encode } from '@msgpack/msgpack';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRoamError } from '../../packages/core/src/errors.js';
import { MAX_FRAME_BYTES, MESSAGE_TYPES, decodeMessage, encodeMessage, type Message } from '../../packages/core/src/protocol/index.js';
import { SEED, sized } from './support/profile.js';
import { report } from './support/report.js';

const RUNS = sized(2_000, 20_000);
const ALLOWED = new Set(['ROAM_PROTOCOL_MALFORMED', 'ROAM_PROTOCOL_TOO_LARGE', 'ROAM_PROTOCOL_UNKNOWN_MESSAGE', 'ROAM_PATH_INVALID', 'ROAM_PATH_ESCAPE']);

const H = (fill: number) => new Uint8Array(32).fill(fill);
const DEV = '0123456789abcdef';
const version = { [DEV]: 3, fedcba9876543210: 1 };
const pos = (offset: number, line: number, fill: number) => ({ offset, line, hash: H(fill) });
const item = { name: 'p/a.jsonl', kind: 'log' as const, deleted: false, size: 10, lines: 2, hash: H(1), mtimeMs: 1.5, mode: 0o644, version, seq: 7, modifiedBy: DEV };
const VALID: Message[] = [
  { t: 'hello', protocol: 1, minProtocol: 1, device: DEV, name: 'laptop', software: 'roam/0.1.0' },
  { t: 'folders', folders: [{ id: 'torture', indexId: 'a1b2c3d4e5f60718', seq: 7, only: null, ignore: ['*.log'], seenIndexId: '', seenSeq: 0 }] },
  { t: 'index', folder: 'torture', indexId: 'a1b2c3d4e5f60718', items: [item], upTo: 9 },
  { t: 'want', folder: 'torture', name: 'p/a.jsonl', wantId: 1, version, kind: 'log', from: pos(10, 2, 1), hash: H(2) },
  { t: 'logData', folder: 'torture', name: 'p/a.jsonl', wantId: 1, version, start: pos(10, 2, 1), chunk: 0, data: new TextEncoder().encode('{"a":1}\n'), end: pos(18, 3, 4), mtimeMs: 17 },
  { t: 'fileData', folder: 'torture', name: 'p/b.md', wantId: 9, version, offset: 0, data: new Uint8Array(100).fill(65), size: 100, hash: H(5), lines: 0, mtimeMs: 1.5, mode: 0o600, done: true },
  { t: 'diverged', folder: 'torture', name: 'p/a.jsonl', wantId: 3, version, at: null, end: pos(100, 9, 7), checkpoints: [pos(0, 0, 0)] },
  { t: 'gone', folder: 'torture', name: 'p/a.jsonl', wantId: 2, reason: 'version' },
  { t: 'cancel', folder: 'torture', wantId: 2 },
  { t: 'error', code: 'ROAM_X', message: 'bye' },
];
const FRAMES = VALID.map((m) => encodeMessage(m));

const HOSTILE_NAMES = [
  '..', '../x.jsonl', 'a/../../etc/passwd', '/etc/passwd', '/', 'C:\\x', 'a\\b.jsonl', 'a\u0000b.jsonl', '', '.', 'a//b', 'a/./b',
  'x'.repeat(256), `${'d/'.repeat(70)}f`, 'y'.repeat(5000), 'tab\there', 'new\nline.jsonl', '\u007f', '%2e%2e/x',
];

let cases = 0;
let accepted = 0;
const refusedBy = new Map<string, number>();
let slowest = 0;

/**
 * The property: a valid message back (that round-trips), or a RoamError with an allowed code.
 * Returns the refusal's code, or null when the frame was accepted.
 */
function decodeOutcome(frame: Uint8Array): string | null {
  cases++;
  const t0 = performance.now();
  try {
    const msg = decodeMessage(frame);
    accepted++;
    // Whatever is accepted is a message the schema admits: it encodes, and decodes the same.
    expect(decodeMessage(encodeMessage(msg))).toEqual(msg);
    return null;
  } catch (err) {
    if (!isRoamError(err) || !ALLOWED.has(err.code)) throw err;
    refusedBy.set(err.code, (refusedBy.get(err.code) ?? 0) + 1);
    return err.code;
  } finally {
    slowest = Math.max(slowest, performance.now() - t0);
  }
}

const decodesSafely = (frame: Uint8Array): boolean => (decodeOutcome(frame), true);

const params = (salt: number) => ({ numRuns: RUNS, seed: SEED + salt, endOnFailure: true });

describe('torture: the frame decoder under fuzzing', () => {
  it('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 4096 }), decodesSafely), params(1));
  });

  it('valid frames with random edits', () => {
    const edit = fc.oneof(
      fc.record({ op: fc.constant('set' as const), at: fc.nat(), byte: fc.nat(255) }),
      fc.record({ op: fc.constant('insert' as const), at: fc.nat(), byte: fc.nat(255) }),
      fc.record({ op: fc.constant('delete' as const), at: fc.nat(), byte: fc.constant(0) }),
      fc.record({ op: fc.constant('truncate' as const), at: fc.nat(), byte: fc.constant(0) }),
      // A msgpack length or count field pushed to its maximum.
      fc.record({ op: fc.constant('stretch' as const), at: fc.nat(), byte: fc.constantFrom(0xdd, 0xdf, 0xdb, 0xc6, 0xdc, 0xde, 0xda, 0xc5) }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...FRAMES), fc.array(edit, { minLength: 1, maxLength: 6 }), (frame, edits) => {
        let b = Array.from(frame);
        for (const e of edits) {
          const at = b.length ? e.at % b.length : 0;
          if (e.op === 'set') b[at] = e.byte;
          else if (e.op === 'insert') b.splice(at, 0, e.byte);
          else if (e.op === 'delete') b.splice(at, 1);
          else if (e.op === 'truncate') b = b.slice(0, at);
          else b.splice(at, 1, e.byte, 0xff, 0xff, 0xff, 0xff);
        }
        return decodesSafely(Uint8Array.from(b));
      }),
      params(2),
    );
  });

  it('msgpack values of any shape under every message type', () => {
    const value = fc.oneof(
      { depthSize: 'small' },
      fc.anything({ maxDepth: 4, withTypedArray: false, withBigInt: false, withMap: false, withSet: false, withDate: false, withBoxedValues: false, withSparseArray: false, withNullPrototype: false }),
      fc.uint8Array({ maxLength: 64 }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...MESSAGE_TYPES, 'nope', ''), fc.dictionary(fc.string({ maxLength: 12 }), value, { maxKeys: 12 }), (t, rest) => decodesSafely(encode({ ...rest, t }))),
      params(3),
    );
  });

  it('valid messages with one field replaced by a hostile or out-of-bound value', () => {
    const hostile = fc.oneof(
      fc.constantFrom<unknown>(...HOSTILE_NAMES, -1, 2 ** 53, 1.5, Number.NaN, Infinity, null, true, '', {}, [], new Uint8Array(31), new Uint8Array(33)),
      fc.string({ maxLength: 300 }),
      fc.integer(),
      fc.double(),
      fc.uint8Array({ maxLength: 40 }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...VALID), fc.nat(), hostile, (msg, which, v) => {
        const copy = decode(encodeMessage(msg)) as Record<string, unknown>;
        const keys = Object.keys(copy).filter((k) => k !== 't');
        const k = keys[which % keys.length]!;
        copy[k] = v;
        return decodesSafely(encode(copy));
      }),
      params(4),
    );
  });

  it('hostile item names in every message that names an item', () => {
    const named = VALID.filter((m) => ['index', 'want', 'logData', 'fileData', 'diverged', 'gone'].includes(m.t));
    fc.assert(
      fc.property(fc.constantFrom(...named), fc.constantFrom(...HOSTILE_NAMES), fc.string({ maxLength: 20 }), (msg, bad, noise) => {
        const copy = decode(encodeMessage(msg)) as Record<string, unknown>;
        const name = noise.length % 2 ? `${noise}/${bad}` : bad;
        if (copy.t === 'index') (copy.items as Array<Record<string, unknown>>)[0]!.name = name;
        else copy.name = name;
        const refused = decodeOutcome(encode(copy)) !== null;
        // A name with `..` or `.`, absolute, empty parts, NUL, control characters, backslashes
        // or too long never decodes.
        if (/(^|\/)\.\.?(\/|$)|^\/|\\|[\u0000-\u001f]|\/\/|^$/.test(name) || Buffer.byteLength(name) > 4096) expect(refused, JSON.stringify(name)).toBe(true);
        return true;
      }),
      params(5),
    );
    report('codec-fuzz', {
      cases,
      accepted,
      refused: Object.fromEntries(refusedBy),
      otherExceptions: 0,
      slowestCaseMs: +slowest.toFixed(2),
      maxFrameBytes: MAX_FRAME_BYTES,
    });
    expect(cases).toBeGreaterThanOrEqual(5 * RUNS);
    expect(slowest).toBeLessThan(1000);
  });
});
