/**
 * The one schema of the sync protocol: every message, every field, every bound.
 *
 * Objects are strict: a key the schema does not name makes the message malformed (rather than
 * being silently stripped), so a confused or hostile peer is noticed at once and a newer peer
 * cannot smuggle fields an older one would drop. New fields need a new protocol version.
 *
 * Exchange: `hello` (versions) → `folders` → `index` batches; then any number of
 * `want` / `cancel` from the receiver and `logData` / `fileData` / `diverged` / `gone` from the
 * sender, in both directions at once. `error` precedes closing the stream.
 */
import { z } from 'zod';
import type { ItemMeta } from '../items.js';
import type { LogPos as CoreLogPos } from '../log/position.js';
import { HASH_BYTES } from '../log/hash.js';
import { MAX_COMPONENT_BYTES, validateName } from '../names.js';
import {
  DEVICE_ID_RE,
  FOLDER_ID_RE,
  INDEX_ID_RE,
  MAX_CHECKPOINTS,
  MAX_DATA_BYTES,
  MAX_DEVICE_NAME,
  MAX_ERROR_CODE,
  MAX_ERROR_MESSAGE,
  MAX_FOLDERS,
  MAX_IGNORE_LINE,
  MAX_IGNORE_LINES,
  MAX_INDEX_ITEMS,
  MAX_ONLY,
  MAX_SOFTWARE,
  MAX_VERSION_ENTRIES,
} from './limits.js';

// ── Scalars ──────────────────────────────────────────────────────────────────────────────────

/** A safe integer ≥ 0 (offsets, sizes, counters, sequence numbers). */
const count = z.int().min(0);
/** Modification time in ms since the epoch; fractional allowed, never NaN or ±Infinity. */
const mtimeMs = z.number();
/** Permission bits. */
const mode = z.int().min(0).max(0o7777);
const kind = z.enum(['log', 'file']);
/** Identifies one `want` on a stream; chosen by the asker, echoed by every answer. */
const wantId = z.int().min(1).max(2 ** 31 - 1);
const deviceId = z.string().regex(DEVICE_ID_RE);
const folderId = z.string().regex(FOLDER_ID_RE);
const indexId = z.string().regex(INDEX_ID_RE);
/** An item name; a bad one fails decoding with validateName's ROAM_PATH_INVALID / ROAM_PATH_ESCAPE. */
const itemName = z.string().check((ctx) => {
  validateName(ctx.value);
});

/** A byte string (msgpack bin), typed `Uint8Array` over any buffer like the core's interfaces. */
const byteString = z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: 'expected bytes' });

/** Bytes (a msgpack bin) of at most `max` bytes. An over-long value is a `too_big` issue. */
function bytesUpTo(max: number) {
  return byteString.check((ctx) => {
    if (ctx.value.length > max) {
      ctx.issues.push({ code: 'too_big', origin: 'bytes', maximum: max, inclusive: true, input: ctx.value, message: `more than ${max} bytes` });
    }
  });
}

/**
 * A SHA-256 value (exactly 32 bytes). Copied out of the frame: hashes end up in long-lived
 * metadata, which must not keep whole frames alive.
 */
const hash = byteString
  .check((ctx) => {
    if (ctx.value.length !== HASH_BYTES) {
      ctx.issues.push({ code: 'custom', input: ctx.value, message: `expected ${HASH_BYTES} bytes, got ${ctx.value.length}` });
    }
  })
  .transform((b): Uint8Array => new Uint8Array(b));

// ── Shared pieces ────────────────────────────────────────────────────────────────────────────

/** A position in a line log (see log/position.ts). */
export const logPosSchema = z.strictObject({ offset: count, line: count, hash });

/** A version vector: short device id → counter. */
export const versionSchema = z.record(deviceId, count).check((ctx) => {
  const n = Object.keys(ctx.value).length;
  if (n > MAX_VERSION_ENTRIES) {
    ctx.issues.push({ code: 'too_big', origin: 'record', maximum: MAX_VERSION_ENTRIES, inclusive: true, input: ctx.value, message: `${n} version entries` });
  }
});

/** One item's state and replication metadata, exactly `ItemMeta` of items.ts. */
export const itemMetaSchema = z.strictObject({
  name: itemName,
  kind,
  deleted: z.boolean(),
  size: count,
  lines: count,
  hash,
  mtimeMs,
  mode,
  version: versionSchema,
  seq: count,
  modifiedBy: deviceId,
});

// Compile-time proof that the wire shapes are the core's shapes, field for field.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
type _ItemMetaFits = Assert<Same<z.infer<typeof itemMetaSchema>, ItemMeta>>;
type _LogPosFits = Assert<Same<z.infer<typeof logPosSchema>, CoreLogPos>>;

// ── Messages ─────────────────────────────────────────────────────────────────────────────────

/**
 * First message in each direction. Each side states the range of protocol versions it speaks
 * (`minProtocol`..`protocol`); both then use the highest common one (see `negotiate`).
 */
export const helloSchema = z
  .strictObject({
    t: z.literal('hello'),
    protocol: z.int().min(1).max(65535),
    minProtocol: z.int().min(1).max(65535),
    device: deviceId,
    name: z.string().max(MAX_DEVICE_NAME),
    software: z.string().max(MAX_SOFTWARE),
  })
  .refine((h) => h.minProtocol <= h.protocol, { message: 'minProtocol above protocol', path: ['minProtocol'] });

/** One shared folder's index state as announced in `folders`. */
export const folderStateSchema = z.strictObject({
  id: folderId,
  /** The sender's current index id for this folder (a new one means "forget my old sequences"). */
  indexId,
  /** The sender's current sequence: the receiver holds the sender's whole index once it has seen it. */
  seq: count,
  /**
   * Selective sync: the top-level entries (projects) of the folder the sender syncs, or null for
   * all. The receiver does not count the others as something the sender lacks.
   */
  only: z.array(z.string().min(1).max(MAX_COMPONENT_BYTES)).max(MAX_ONLY).nullable(),
  /** The sender's ignore rules (.stignore syntax, roam's defaults included): what it does not sync. */
  ignore: z.array(z.string().max(MAX_IGNORE_LINE)).max(MAX_IGNORE_LINES),
  /** The receiver's index id the sender has already seen entries of; '' if none. */
  seenIndexId: z.string().regex(/^(?:[0-9a-f]{16})?$/),
  /** The receiver's sequence the sender has seen up to under `seenIndexId`: send only newer entries. */
  seenSeq: count,
});

/**
 * Sent after `hello`: per folder shared with the peer, my index id and which of your index
 * entries I already have, so you send only newer ones.
 */
export const foldersSchema = z.strictObject({
  t: z.literal('folders'),
  folders: z.array(folderStateSchema).max(MAX_FOLDERS),
});

/**
 * A batch of index entries of one folder, sorted by `seq`. `upTo` is the sender's sequence this
 * batch brings the receiver up to (the receiver records it as its `seenSeq`).
 */
export const indexSchema = z.strictObject({
  t: z.literal('index'),
  folder: folderId,
  indexId,
  items: z.array(itemMetaSchema).max(MAX_INDEX_ITEMS),
  upTo: count,
});

/**
 * Asks for an item. For a log: every complete line after `from` (the asker's own end), then live
 * pushes of later appends (a subscription) until `cancel` or a new epoch of the log. For a file:
 * the whole content of the version whose content hash is `hash`.
 */
export const wantSchema = z.strictObject({
  t: z.literal('want'),
  folder: folderId,
  name: itemName,
  wantId,
  version: versionSchema,
  kind,
  from: logPosSchema,
  hash,
});

/**
 * Complete lines of a log, answering a `want`. `start` is where this run of lines begins (a line
 * end in the sender's log). A line larger than MAX_DATA_BYTES travels as several frames of the
 * same run with `chunk` 0, 1, 2…; `end` is null on all but the run's last frame, which carries
 * the position after the run.
 */
export const logDataSchema = z.strictObject({
  t: z.literal('logData'),
  folder: folderId,
  name: itemName,
  wantId,
  version: versionSchema,
  start: logPosSchema,
  chunk: count,
  data: bytesUpTo(MAX_DATA_BYTES),
  end: logPosSchema.nullable(),
  mtimeMs,
});

/**
 * A chunk of a whole file at `offset`, answering a `want`. `size`, `hash`, `lines`, `mtimeMs`
 * and `mode` describe the whole file; `done` marks the last chunk.
 */
export const fileDataSchema = z.strictObject({
  t: z.literal('fileData'),
  folder: folderId,
  name: itemName,
  wantId,
  version: versionSchema,
  offset: count,
  data: bytesUpTo(MAX_DATA_BYTES),
  size: count,
  hash,
  lines: count,
  mtimeMs,
  mode,
  done: z.boolean(),
});

/**
 * Answers a log `want` whose `from` is not a position in the sender's log. `at` is the sender's
 * position at `from.offset` when that offset is a line end there, else null; `end` is the
 * sender's end; `checkpoints` let the asker find the longest common prefix.
 */
export const divergedSchema = z.strictObject({
  t: z.literal('diverged'),
  folder: folderId,
  name: itemName,
  wantId,
  version: versionSchema,
  at: logPosSchema.nullable(),
  end: logPosSchema,
  checkpoints: z.array(logPosSchema).max(MAX_CHECKPOINTS),
});

/** The sender cannot serve that `want` any more (item missing, superseded version, deleted). */
export const goneSchema = z.strictObject({
  t: z.literal('gone'),
  folder: folderId,
  name: itemName,
  wantId,
  reason: z.enum(['missing', 'version', 'deleted']),
});

/** The asker no longer wants `wantId` (ends a log subscription or a file transfer). */
export const cancelSchema = z.strictObject({
  t: z.literal('cancel'),
  folder: folderId,
  wantId,
});

/** The sender is about to close the stream, and why (`code` is usually a RoamError code). */
export const errorSchema = z.strictObject({
  t: z.literal('error'),
  code: z.string().max(MAX_ERROR_CODE),
  message: z.string().max(MAX_ERROR_MESSAGE),
});

/** Every message, discriminated on `t`. */
export const messageSchema = z.discriminatedUnion('t', [
  helloSchema,
  foldersSchema,
  indexSchema,
  wantSchema,
  logDataSchema,
  fileDataSchema,
  divergedSchema,
  goneSchema,
  cancelSchema,
  errorSchema,
]);

export type Hello = z.infer<typeof helloSchema>;
export type FolderState = z.infer<typeof folderStateSchema>;
export type Folders = z.infer<typeof foldersSchema>;
export type Index = z.infer<typeof indexSchema>;
export type Want = z.infer<typeof wantSchema>;
export type LogData = z.infer<typeof logDataSchema>;
export type FileData = z.infer<typeof fileDataSchema>;
export type Diverged = z.infer<typeof divergedSchema>;
export type Gone = z.infer<typeof goneSchema>;
export type Cancel = z.infer<typeof cancelSchema>;
export type ErrorMessage = z.infer<typeof errorSchema>;
export type Message = z.infer<typeof messageSchema>;
export type MessageType = Message['t'];

/** The `t` of every message this version knows. */
export const MESSAGE_TYPES: ReadonlySet<string> = new Set<MessageType>(messageSchema.options.map((o) => o.shape.t.value));
