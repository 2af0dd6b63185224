/**
 * A position in a line log: the byte offset just past a complete line, how many complete lines
 * precede it, and the chain hash of those lines.
 *
 * chain(0) = 32 zero bytes; chain(i+1) = SHA-256(chain(i) ‖ line i), where line i includes its `\n`.
 *
 * Two logs that share a position (offset, line, hash) share every byte before it (up to SHA-256
 * collisions). Two logs of the same length with different hashes are divergent, never equal.
 */
import { bytesEqual } from '../bytes.js';
import { HASH_BYTES } from './hash.js';

export interface LogPos {
  readonly offset: number;
  readonly line: number;
  readonly hash: Uint8Array;
}

export const ZERO_HASH: Uint8Array = new Uint8Array(HASH_BYTES);

export const GENESIS: LogPos = Object.freeze({ offset: 0, line: 0, hash: ZERO_HASH });

/** The end of an item's complete lines: its size, line count and chain hash as a position. */
export function endOf(s: { readonly size: number; readonly lines: number; readonly hash: Uint8Array }): LogPos {
  return { offset: s.size, line: s.lines, hash: s.hash };
}

export function samePos(a: LogPos, b: LogPos): boolean {
  return a.offset === b.offset && a.line === b.line && bytesEqual(a.hash, b.hash);
}

/**
 * How a remote log relates to a local one, from their end positions alone.
 * - `equal`: same bytes.
 * - `divergent`: same length, different bytes (or same length, different line counts).
 * - `remote-longer` / `local-longer`: one may extend the other; whether the shorter one is a prefix
 *   needs the longer log's position at the shorter length (the store's `positionAt`).
 */
export type Relation = 'equal' | 'divergent' | 'remote-longer' | 'local-longer';

export function relate(local: LogPos, remote: LogPos): Relation {
  if (local.offset === remote.offset) return samePos(local, remote) ? 'equal' : 'divergent';
  return local.offset < remote.offset ? 'remote-longer' : 'local-longer';
}
