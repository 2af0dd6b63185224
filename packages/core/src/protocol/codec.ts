/**
 * Frames ⇄ messages. A frame is one msgpack-encoded message (framing on the stream is the
 * transport's job). Decoding is the trust boundary: `decodeMessage` accepts any bytes and either
 * returns a message that satisfies the schema or throws a RoamError, nothing else.
 *
 * `data` fields decode as views into the frame, not copies: they keep the frame's buffer
 * (≤ MAX_FRAME_BYTES) alive until the consumer drops them, which is fine for data that is written
 * out and forgotten; but the caller must not reuse a frame's buffer while its message is in use.
 * Hashes are copied (schema.ts), since they live on in metadata.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';
import { ErrorCodes, RoamError, isRoamError } from '../errors.js';
import { MAX_NAME_BYTES } from '../names.js';
import { MAX_CHECKPOINTS, MAX_DATA_BYTES, MAX_FRAME_BYTES, MAX_NESTING, MAX_VERSION_ENTRIES } from './limits.js';
import { MESSAGE_TYPES, messageSchema, type Hello, type Message } from './schema.js';

/**
 * Per-value bounds of the msgpack layer: the largest any field may legitimately be. The longest
 * string is an item name; the longest array a `diverged` checkpoint list; the largest map a version
 * vector (every message object has fewer keys).
 */
const BOUNDS = { str: MAX_NAME_BYTES, bin: MAX_DATA_BYTES, array: MAX_CHECKPOINTS, map: MAX_VERSION_ENTRIES };

const encoder = new Encoder();
/** Backstop for `scanFrame`, which enforces the same bounds first with precise error codes. */
const decoder = new Decoder({
  maxStrLength: BOUNDS.str,
  maxBinLength: BOUNDS.bin,
  maxArrayLength: BOUNDS.array,
  maxMapLength: BOUNDS.map,
  maxExtLength: 0,
});

const malformed = (message: string, cause?: unknown) => new RoamError(ErrorCodes.PROTOCOL_MALFORMED, message, undefined, { cause });
const tooLarge = (message: string, cause?: unknown) => new RoamError(ErrorCodes.PROTOCOL_TOO_LARGE, message, undefined, { cause });

/** Encodes a message (byte fields as msgpack bin). Throws RoamError if it breaks the schema or a frame would be too large. */
export function encodeMessage(msg: Message): Uint8Array {
  const frame = encoder.encode(validate(msg));
  if (frame.length > MAX_FRAME_BYTES) throw tooLarge(`${msg.t} message encodes to ${frame.length} bytes, more than ${MAX_FRAME_BYTES}`);
  return frame;
}

/** Decodes one frame. Throws only RoamError: ROAM_PROTOCOL_*, or ROAM_PATH_* for a bad item name. */
export function decodeMessage(frame: Uint8Array): Message {
  try {
    if (frame.length > MAX_FRAME_BYTES) throw tooLarge(`frame of ${frame.length} bytes, more than ${MAX_FRAME_BYTES}`);
    scanFrame(frame);
    let value: unknown;
    try {
      value = decoder.decode(frame);
    } catch (err) {
      throw malformed(`undecodable frame: ${String(err)}`, err);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !('t' in value) || typeof value.t !== 'string') {
      throw malformed('frame is not a message (an object with a string `t`)');
    }
    if (!MESSAGE_TYPES.has(value.t)) throw new RoamError(ErrorCodes.PROTOCOL_UNKNOWN_MESSAGE, `unknown message type ${JSON.stringify(value.t.slice(0, 64))}`);
    return validate(value);
  } catch (err) {
    throw isRoamError(err) ? err : malformed(`cannot decode frame: ${String(err)}`, err);
  }
}

/**
 * Checks a message against the schema. Over-long strings, byte strings, arrays and version vectors
 * are ROAM_PROTOCOL_TOO_LARGE; other violations ROAM_PROTOCOL_MALFORMED; a bad item name is
 * validateName's own error (thrown from inside the schema).
 */
function validate(value: unknown): Message {
  const result = messageSchema.safeParse(value);
  if (result.success) return result.data;
  const { issues } = result.error;
  const first = issues[0]!;
  const t = (value as { t?: unknown } | null)?.t;
  const text = `${String(t)} message: ${first.path.map(String).join('.') || '(message)'}: ${first.message}${issues.length > 1 ? ` (+${issues.length - 1} more)` : ''}`;
  const oversize = (i: (typeof issues)[number]) => i.code === 'too_big' && ['string', 'bytes', 'array', 'record'].includes(i.origin);
  throw issues.some(oversize) ? tooLarge(text, result.error) : malformed(text, result.error);
}

/**
 * Walks the msgpack structure without building anything and refuses, before the decoder runs:
 * nesting deeper than MAX_NESTING, extension and reserved types, values over BOUNDS, truncation
 * and trailing bytes. Without the depth bound a 2 MiB frame of nested 8192-element array headers
 * would make the decoder pre-allocate gigabytes.
 */
function scanFrame(b: Uint8Array): void {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let pos = 0;
  /** Skips n bytes; returns where they start. */
  const take = (n: number): number => {
    if (pos + n > b.length) throw malformed(`truncated frame: needs ${pos + n} bytes, has ${b.length}`);
    pos += n;
    return pos - n;
  };
  /** Reads a big-endian length of 1, 2 or 4 bytes. */
  const len = (size: number): number => {
    const at = take(size);
    return size === 1 ? view.getUint8(at) : size === 2 ? view.getUint16(at) : view.getUint32(at);
  };
  const checkBound = (what: keyof typeof BOUNDS, n: number): number => {
    if (n > BOUNDS[what]) throw tooLarge(`msgpack ${what} of length ${n}, more than ${BOUNDS[what]}`);
    return n;
  };
  /** Values still to read in each open container; the root "container" holds the one message. */
  const due = [1];
  const open = (what: 'array' | 'map', n: number) => {
    checkBound(what, n);
    if (n === 0) return;
    if (due.length > MAX_NESTING) throw malformed(`msgpack nested deeper than ${MAX_NESTING}`);
    due.push(what === 'map' ? 2 * n : n);
  };
  while (due.length > 0) {
    if (due[due.length - 1] === 0) {
      due.pop();
      continue;
    }
    due[due.length - 1]! -= 1;
    const h = b[take(1)]!;
    if (h < 0x80 || h >= 0xe0) continue; // fixint
    if (h < 0x90) open('map', h & 0x0f);
    else if (h < 0xa0) open('array', h & 0x0f);
    else if (h < 0xc0) take(checkBound('str', h & 0x1f));
    else if (h === 0xc0 || h === 0xc2 || h === 0xc3) continue; // nil, false, true
    else if (h >= 0xc4 && h <= 0xc6) take(checkBound('bin', len(1 << (h - 0xc4))));
    else if (h === 0xca || h === 0xcb) take(h === 0xca ? 4 : 8); // float 32/64
    else if (h >= 0xcc && h <= 0xd3) take(1 << ((h - 0xcc) & 3)); // uint/int 8..64
    else if (h >= 0xd9 && h <= 0xdb) take(checkBound('str', len(1 << (h - 0xd9))));
    else if (h === 0xdc || h === 0xdd) open('array', len(h === 0xdc ? 2 : 4));
    else if (h === 0xde || h === 0xdf) open('map', len(h === 0xde ? 2 : 4));
    else throw malformed(`msgpack type 0x${h.toString(16)} not allowed (extension or reserved)`);
  }
  if (pos !== b.length) throw malformed(`${b.length - pos} trailing bytes after the message`);
}

/**
 * The protocol version two peers use: the highest both speak. Throws ROAM_PROTOCOL_VERSION,
 * naming the side that must upgrade, when their ranges do not overlap. Pass the local `hello`
 * (or at least its version range; `name` makes the message name this device too).
 */
export function negotiate(local: Pick<Hello, 'protocol' | 'minProtocol'> & { name?: string }, remote: Hello): number {
  const agreed = Math.min(local.protocol, remote.protocol);
  if (agreed >= Math.max(local.minProtocol, remote.minProtocol)) return agreed;
  const there = JSON.stringify(remote.name || remote.device);
  const here = local.name ? JSON.stringify(local.name) : 'this device';
  throw new RoamError(
    ErrorCodes.PROTOCOL_VERSION,
    `${there} speaks protocol ${remote.minProtocol}..${remote.protocol}, ${here} ${local.minProtocol}..${local.protocol}: ` +
      `upgrade roam on ${remote.protocol < local.minProtocol ? there : here}`,
    { remoteDevice: remote.device, remoteName: remote.name, remote: [remote.minProtocol, remote.protocol], local: [local.minProtocol, local.protocol] },
  );
}
