/**
 * Item states. `DiskState` is what a store sees on disk; `ItemMeta` adds the replication metadata
 * that index messages carry.
 */
import { bytesEqual } from './bytes.js';
import type { VersionVector } from './replication/version.js';

export type ItemKind = 'log' | 'file';

export interface DiskState {
  readonly name: string;
  readonly kind: ItemKind;
  readonly deleted: boolean;
  /** log: bytes of complete lines (a held-back partial line is not counted); file: content bytes. */
  readonly size: number;
  /** log: complete lines; file: 0. */
  readonly lines: number;
  /** log: chain hash at `size` (see log/position.ts); file: SHA-256 of the content; deleted: zero hash. */
  readonly hash: Uint8Array;
  /** Modification time in milliseconds since the epoch (fractional part allowed). */
  readonly mtimeMs: number;
  /** Permission bits (mode & 0o777). */
  readonly mode: number;
}

export interface ItemMeta extends DiskState {
  readonly version: VersionVector;
  /** The announcing device's local sequence number for this record. */
  readonly seq: number;
  /** Short id of the device that produced this content (Syncthing's ModifiedBy). */
  readonly modifiedBy: string;
}

/** A change the store found on disk that the replication layer did not make. */
export interface LocalChange {
  /**
   * - `append`: a log grew by complete lines and every byte it had before is unchanged;
   * - `replace`: a new item, or a rewrite, truncation or replacement (a new epoch for a log);
   * - `delete`: the item is gone (`state.deleted` is true).
   */
  readonly change: 'append' | 'replace' | 'delete';
  readonly state: DiskState;
}

export function diskStateOf(m: ItemMeta): DiskState {
  return { name: m.name, kind: m.kind, deleted: m.deleted, size: m.size, lines: m.lines, hash: m.hash, mtimeMs: m.mtimeMs, mode: m.mode };
}

/** Same bytes: same kind, size and hash (line counts, times, modes and versions aside). */
export function sameContent(a: Pick<DiskState, 'kind' | 'size' | 'hash'>, b: Pick<DiskState, 'kind' | 'size' | 'hash'>): boolean {
  return a.kind === b.kind && a.size === b.size && bytesEqual(a.hash, b.hash);
}
