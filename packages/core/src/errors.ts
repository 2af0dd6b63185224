/**
 * Typed errors with stable codes. Code strings are part of the public contract:
 * scripts match on them, so never rename one; add new ones instead.
 */
export const ErrorCodes = {
  /** A frame could not be decoded, or a field has the wrong type or is out of bounds. */
  PROTOCOL_MALFORMED: 'ROAM_PROTOCOL_MALFORMED',
  /** A frame or field is larger than its bound. */
  PROTOCOL_TOO_LARGE: 'ROAM_PROTOCOL_TOO_LARGE',
  /** A message type this version does not know. */
  PROTOCOL_UNKNOWN_MESSAGE: 'ROAM_PROTOCOL_UNKNOWN_MESSAGE',
  /** The peer speaks an incompatible protocol version. */
  PROTOCOL_VERSION: 'ROAM_PROTOCOL_VERSION',
  /** The peer broke a protocol rule (message out of place, wrong folder, …). */
  PROTOCOL_VIOLATION: 'ROAM_PROTOCOL_VIOLATION',
  /** An item name is not a valid relative POSIX path. */
  PATH_INVALID: 'ROAM_PATH_INVALID',
  /** An item name would resolve outside its folder (through `..` or a symlink). */
  PATH_ESCAPE: 'ROAM_PATH_ESCAPE',
  /** A store write was refused because the item is not in the state the writer expected. */
  STORE_CONFLICT: 'ROAM_STORE_CONFLICT',
  /** An item name differs only by case or Unicode normalization from a name that exists in its folder, on a file system that does not tell them apart. */
  NAME_CLASH: 'ROAM_NAME_CLASH',
  /** Received bytes do not hash to the announced value. */
  STORE_HASH_MISMATCH: 'ROAM_STORE_HASH_MISMATCH',
  /** The store's persisted state cannot be read. */
  STORE_CORRUPT: 'ROAM_STORE_CORRUPT',
  /** An I/O operation of the store failed. */
  STORE_IO: 'ROAM_STORE_IO',
  /** A single line is larger than the configured maximum. */
  LINE_TOO_LARGE: 'ROAM_LINE_TOO_LARGE',
  /** The link to a peer is closed. */
  LINK_CLOSED: 'ROAM_LINK_CLOSED',
  /** The command line could not be understood. */
  USAGE: 'ROAM_USAGE',
  /** Something failed that has no more specific code. */
  INTERNAL: 'ROAM_INTERNAL',
  /** No daemon answers on the control socket. */
  NOT_RUNNING: 'ROAM_NOT_RUNNING',
  /** A daemon already runs for this ROAM_HOME. */
  DAEMON_RUNNING: 'ROAM_DAEMON_RUNNING',
  /** A control request the daemon cannot read, of another API version, or of an unknown method. */
  CONTROL_MALFORMED: 'ROAM_CONTROL_MALFORMED',
  CONTROL_VERSION: 'ROAM_CONTROL_VERSION',
  CONTROL_UNKNOWN: 'ROAM_CONTROL_UNKNOWN',
  /** The control socket, or its directory, is not this user's alone (another owner, a symlink, open to others). */
  CONTROL_UNSAFE: 'ROAM_CONTROL_UNSAFE',
  /** `roam sync --wait` gave up before this device was in sync. */
  SYNC_TIMEOUT: 'ROAM_SYNC_TIMEOUT',
  /** A pairing code has a typo: its checksum does not match, or it holds a character codes never use. */
  PAIR_CODE_CHECKSUM: 'ROAM_PAIR_CODE_CHECKSUM',
  /** Not a pairing code at all, or one made by a newer roam. */
  PAIR_CODE_INVALID: 'ROAM_PAIR_CODE_INVALID',
  /** The code was used already, or it expired (or `roam pair` waited in vain until its timeout). */
  PAIR_EXPIRED: 'ROAM_PAIR_EXPIRED',
  /** Nothing answered at the code's addresses (nor by mDNS). */
  PAIR_UNREACHABLE: 'ROAM_PAIR_UNREACHABLE',
  /** The other side did not prove knowledge of the code: a wrong code, or an impostor. */
  PAIR_PROOF: 'ROAM_PAIR_PROOF',
  /** The inviter refused this device (it was removed from that group). */
  PAIR_REFUSED: 'ROAM_PAIR_REFUSED',
  /** This device is in a group with other devices already (`roam leave` first). */
  ALREADY_PAIRED: 'ROAM_ALREADY_PAIRED',
  /** A peer holds another group secret: not in this group. */
  NOT_IN_GROUP: 'ROAM_NOT_IN_GROUP',
  /** A command named no device of the group (or more than one). */
  UNKNOWN_DEVICE: 'ROAM_UNKNOWN_DEVICE',
  /** An approval that does not count (the device's own adder, or a relay, approving it). */
  APPROVAL_REFUSED: 'ROAM_APPROVAL_REFUSED',
  /** `roam doctor` found a problem. */
  DOCTOR: 'ROAM_DOCTOR',
  /** The configuration (config.json, environment) is invalid. */
  CONFIG: 'ROAM_CONFIG',
  /** No session has that id (or id prefix). */
  SESSION_NOT_FOUND: 'ROAM_SESSION_NOT_FOUND',
  /** The tool to run (claude, codex, …) is not installed: not on PATH. */
  TOOL_NOT_FOUND: 'ROAM_TOOL_NOT_FOUND',
  /** A tool's database has a schema version roam has not measured: it is neither read nor written. */
  TOOL_SCHEMA: 'ROAM_TOOL_SCHEMA',
  /** A tool's own import of a session (`opencode import`) failed: the session is not resumed. */
  TOOL_IMPORT: 'ROAM_TOOL_IMPORT',
  /** Another device (or another terminal here) is writing the session: resume would fork it. */
  SESSION_BUSY: 'ROAM_SESSION_BUSY',
  /** Not a roam session bundle, a bundle of an unknown format version, or its files do not match its manifest. */
  BUNDLE_INVALID: 'ROAM_BUNDLE_INVALID',
  /** A file in a session bundle does not hash to what its manifest says: damaged or tampered with. */
  BUNDLE_HASH_MISMATCH: 'ROAM_BUNDLE_HASH_MISMATCH',
  /** A session bundle inflates past its cap (in total or for one file): refused before it is read whole. */
  BUNDLE_TOO_LARGE: 'ROAM_BUNDLE_TOO_LARGE',
  /** The session file cannot be read here (e.g. a zstd-compressed Codex rollout on a Node.js without zstd). */
  SESSION_UNREADABLE: 'ROAM_SESSION_UNREADABLE',
  /** The user answered no to a question (`roam rm` on a terminal): nothing was done. */
  DECLINED: 'ROAM_DECLINED',
  /** Credentials (`.credentials.json`, auth files, tokens) never travel, even when config asks for them. */
  CREDENTIALS: 'ROAM_CREDENTIALS',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class RoamError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RoamError';
    this.code = code;
    this.details = details;
  }
}

export function isRoamError(err: unknown, code?: ErrorCode): err is RoamError {
  return err instanceof RoamError && (code === undefined || err.code === code);
}
