/**
 * What the file store's parts (scan, appends, writes, staging, trash) share: the folder, its
 * state directory, the index, the reader, the options, and the staged writes in progress.
 */
import type { Hasher } from '../log/hash.js';
import type { FsStoreStats } from './stats.js';
import type { ItemIndex } from './index-records.js';
import type { ChunkReader } from './read-range.js';
import type { Staging } from './staged-file.js';

export interface StoreCtx {
  /** The synced folder (its real path). */
  readonly root: string;
  /** Where the index, meta journal and trash live (its real path). */
  readonly stateDir: string;
  readonly hasher: Hasher;
  /** Log checkpoint spacing in bytes. */
  readonly interval: number;
  /** Paths (relative to root) that scans skip. */
  readonly ignore: (name: string) => boolean;
  /** Clock for deletion times and trash folder names. */
  readonly now: () => number;
  readonly stats: FsStoreStats;
  readonly index: ItemIndex;
  readonly reader: ChunkReader;
  /** Staged writes not yet committed or discarded (`close` discards them). */
  readonly staging: Set<Staging>;
  readonly afterAppendWrite: ((name: string) => Promise<void>) | undefined;
  readonly midAppendWrite: ((name: string) => Promise<void>) | undefined;
}
