/**
 * Protocol identity and the bound on every field of every message. The schema (schema.ts) and the
 * codec (codec.ts) enforce these on everything that arrives, so no peer can make us allocate more
 * than a frame's worth of memory or accept an unbounded value.
 */

/** The libp2p protocol id the sync stream is opened with. */
export const PROTOCOL_ID = '/roam/sync/1.0.0';
/**
 * The protocol version this build speaks (the highest it can speak). 2: the group's membership
 * entries are versioned and extensible (roles, signed attributes); the sync messages are those of
 * 1. A device of protocol 1 would misread a group that uses them, so 2 is also the oldest spoken:
 * an older device's hello gets ROAM_PROTOCOL_VERSION, "upgrade roam on <it>".
 */
export const PROTOCOL_VERSION = 2;
/** The oldest protocol version this build can still speak. */
export const MIN_PROTOCOL_VERSION = 2;

/** One encoded message. Checked before decoding, and by the encoder before sending. */
export const MAX_FRAME_BYTES = 2 * 1024 * 1024;
/** The payload of one `logData` / `fileData` frame; leaves room for the envelope within a frame. */
export const MAX_DATA_BYTES = 1024 * 1024;
/** Items in one `index` batch (the batch must also fit in a frame: senders cut by encoded size too). */
export const MAX_INDEX_ITEMS = 256;
/** Shared folders announced in one `folders` message. */
export const MAX_FOLDERS = 256;
/** Devices in one version vector. */
export const MAX_VERSION_ENTRIES = 64;
/** Checkpoints in one `diverged` message. */
export const MAX_CHECKPOINTS = 8192;

/** Most top-level entries (projects) a selective-sync list may name. */
export const MAX_ONLY = 1024;

/** Most ignore-rule lines a device announces per folder, and the longest line. */
export const MAX_IGNORE_LINES = 512;
export const MAX_IGNORE_LINE = 512;
/** Characters (UTF-16 code units) of a device's display name. */
export const MAX_DEVICE_NAME = 128;
/** Characters of the software identification string in `hello`. */
export const MAX_SOFTWARE = 64;
/** Characters of an `error` message's text. */
export const MAX_ERROR_MESSAGE = 1024;
/** Characters of an `error` message's code. */
export const MAX_ERROR_CODE = 64;
/**
 * Arrays and maps nested in one frame. The deepest message is `index`
 * (message → items → item → version = 4); the slack keeps newer messages decodable as
 * "unknown" rather than "malformed". Bounds the decoder's work stack.
 */
export const MAX_NESTING = 8;

/** Folder ids: short, portable, never a path. */
export const FOLDER_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Short device ids: 16 lowercase hex characters. */
export const DEVICE_ID_RE = /^[0-9a-f]{16}$/;
/** Index ids (one per folder index generation): 16 lowercase hex characters. */
export const INDEX_ID_RE = /^[0-9a-f]{16}$/;
/**
 * The index id of a folder a device announces in `folders` without holding it (it opted out), with
 * `only: []`: the receiver sends it no index and counts nothing of the folder as lacking there.
 * A device never gives a folder it holds this index id (the replicator draws again).
 */
export const DECLINED_INDEX_ID = '0000000000000000';

/** A `folders` entry of a folder its sender opted out of: the declined index id, nothing sent, an empty selection. */
export function isDeclined(e: { readonly indexId: string; readonly seq: number; readonly only: readonly string[] | null }): boolean {
  return e.indexId === DECLINED_INDEX_ID && e.seq === 0 && e.only !== null && e.only.length === 0;
}
