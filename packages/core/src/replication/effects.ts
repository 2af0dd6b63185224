/**
 * What the pure replicator asks its runner (engine.ts) to do. Effects that touch a store report
 * back through `Replicator.applied`; sends and serves are fire-and-forget, in order per peer.
 */
import type { DiskState, ItemMeta } from '../items.js';
import type { LogPos } from '../log/position.js';
import type { Message } from '../protocol/index.js';
import type { StagedTarget } from '../store.js';

export type Effect =
  | { readonly t: 'send'; readonly peer: string; readonly msg: Message }
  /** Verify that `from` is a position of the local log, then stream complete lines up to `to`. */
  | { readonly t: 'serveLog'; readonly peer: string; readonly folder: string; readonly name: string; readonly wantId: number; readonly version: ItemMeta['version']; readonly from: LogPos; readonly to: LogPos }
  | { readonly t: 'serveFile'; readonly peer: string; readonly folder: string; readonly wantId: number; readonly meta: ItemMeta }
  | { readonly t: 'close'; readonly peer: string; readonly reason: string }
  /** Re-examine items on disk; changes come back through `Replicator.localChanges`. */
  | { readonly t: 'scan'; readonly folder: string; readonly names: readonly string[]; readonly deep?: boolean }
  /** Decide about an item again (after a deep scan found nothing). */
  | { readonly t: 'recheck'; readonly folder: string; readonly name: string }
  | StoreEffect;

export type StoreEffect =
  | { readonly t: 'append'; readonly folder: string; readonly name: string; readonly start: LogPos; readonly data: readonly Uint8Array[]; readonly end: LogPos; readonly mtimeMs: number; readonly mode: number }
  | { readonly t: 'stageWrite'; readonly folder: string; readonly name: string; readonly offset: number; readonly data: Uint8Array }
  | { readonly t: 'stageCommit'; readonly folder: string; readonly name: string; readonly target: StagedTarget; readonly expected: DiskState | null }
  | { readonly t: 'stageAbort'; readonly folder: string; readonly name: string }
  | { readonly t: 'remove'; readonly folder: string; readonly name: string; readonly expected: DiskState }
  | { readonly t: 'touch'; readonly folder: string; readonly name: string; readonly mtimeMs: number; readonly expected: DiskState }
  | { readonly t: 'copy'; readonly folder: string; readonly name: string; readonly to: string; readonly expected: DiskState }
  /** Find the local log's position at `offset` (null when it is not a line end). */
  | { readonly t: 'positionAt'; readonly folder: string; readonly name: string; readonly offset: number; readonly peer: string }
;

/** The outcome of a store effect. */
export type Applied =
  | { readonly ok: true; readonly state?: DiskState | null; readonly pos?: LogPos | null }
  | { readonly ok: false; readonly code: string; readonly message: string };
