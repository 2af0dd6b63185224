/**
 * Conflict policies: what happens when two devices changed the same item concurrently and neither
 * version extends the other. Every device that sees the conflict must reach the same verdict, so
 * the winner is a pure function of the two versions, never of which device is asking.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { compareBytes, toHex, utf8 } from '../bytes.js';
import type { ItemMeta } from '../items.js';
import { splitName } from '../names.js';

export type ConflictMode = 'fork' | 'syncthing';

export interface Verdict {
  readonly winner: ItemMeta;
  readonly loser: ItemMeta;
  /** Where the losing version is kept. Only the device that holds the loser creates it. */
  readonly copyName: string;
}

/** Optional knowledge from outside the core (roamd's session leases). */
export interface PolicyHooks {
  /** Short id of the device holding a live lease on this item, if any. */
  leaseHolder?(folder: string, name: string): string | undefined;
}

/**
 * Syncthing's rule (measured, see docs/PROTOCOL.md): a modification beats a delete; otherwise the
 * newer mtime wins, and on equal mtimes the version made by the device with the larger short id
 * loses. Returns a negative number when `a` wins.
 */
export function syncthingOrder(a: ItemMeta, b: ItemMeta): number {
  if (a.deleted !== b.deleted) return a.deleted ? 1 : -1;
  if (a.mtimeMs !== b.mtimeMs) return b.mtimeMs - a.mtimeMs;
  if (a.modifiedBy !== b.modifiedBy) return a.modifiedBy < b.modifiedBy ? -1 : 1;
  return compareBytes(a.hash, b.hash);
}

/** Syncthing's conflict copy name: `<stem>.sync-conflict-YYYYMMDD-HHMMSS-<7 chars of winner>.<ext>`. */
export function syncthingConflictName(name: string, nowMs: number, winnerDevice: string): string {
  const { dir, stem, ext } = splitName(name);
  const d = new Date(nowMs);
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
  return `${dir}${stem}.sync-conflict-${stamp}-${winnerDevice.slice(0, 7).toUpperCase()}${ext}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The name of a fork: derived from the original name and the hash of the losing continuation, so
 * every device that resolves the same divergence names the same fork.
 *
 * A log named by a UUID (a Claude Code session, `<uuid>.jsonl`) forks to another UUID, derived
 * the same way (SHA-256 of both, as a version-8 UUID): the tool resumes sessions by UUID only, so
 * the losing continuation is at once a session it can resume (`claude --resume <fork id>`; the
 * tool writes the new id into the lines it appends). Other logs fork to
 * `<stem>.fork-<first 12 hex digits of the losing chain hash><ext>`.
 */
export function forkName(name: string, loser: ItemMeta): string {
  const { dir, stem, ext } = splitName(name);
  if (UUID.test(stem)) return `${dir}${forkUuid(stem, loser.hash)}${ext}`;
  return `${dir}${stem}.fork-${toHex(loser.hash).slice(0, 12)}${ext}`;
}

export function forkUuid(id: string, loserHash: Uint8Array): string {
  const h = sha256(utf8.encode(`roam fork v1\n${id.toLowerCase()}\n${toHex(loserHash)}`));
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = toHex(h.subarray(0, 16));
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

export function decide(mode: ConflictMode, folder: string, a: ItemMeta, b: ItemMeta, nowMs: number, hooks: PolicyHooks = {}): Verdict {
  if (mode === 'fork' && a.kind === 'log' && b.kind === 'log' && !a.deleted && !b.deleted) {
    const holder = hooks.leaseHolder?.(folder, a.name);
    let aWins: boolean;
    if (holder !== undefined && (holder === a.modifiedBy) !== (holder === b.modifiedBy)) aWins = holder === a.modifiedBy;
    else aWins = syncthingOrder(a, b) < 0;
    const [winner, loser] = aWins ? [a, b] : [b, a];
    return { winner, loser, copyName: forkName(a.name, loser) };
  }
  const [winner, loser] = syncthingOrder(a, b) < 0 ? [a, b] : [b, a];
  return { winner, loser, copyName: syncthingConflictName(a.name, nowMs, winner.modifiedBy) };
}
