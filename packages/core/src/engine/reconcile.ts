/** Reconciling a store's content with the replication state when a folder opens. */
import type { DiskState, LocalChange } from '../items.js';
import { endOf, samePos } from '../log/position.js';
import type { Replicator } from '../replication/replicator.js';
import type { FolderStore } from '../store.js';

/**
 * What a store holds at open (`states`) against the replication state's records: whatever is on
 * disk but not recorded (a crash between a write and its record, or edits while the daemon was
 * down) becomes a local change, an append when the recorded log is a prefix of the disk's.
 */
export async function reconcile(replicator: Replicator, folder: string, store: FolderStore, states: DiskState[]): Promise<LocalChange[]> {
  const out: LocalChange[] = [];
  const seen = new Set<string>();
  for (const s of states) {
    seen.add(s.name);
    const rec = replicator.local(folder, s.name);
    if (rec && !rec.deleted && rec.size === s.size && samePos(endOf(rec), endOf(s))) continue;
    let change: LocalChange['change'] = 'replace';
    if (rec && !rec.deleted && s.kind === 'log' && s.size > rec.size) {
      const at = await store.positionAt(s.name, rec.size);
      if (at && samePos(at, endOf(rec))) change = 'append';
    }
    out.push({ change, state: s });
  }
  for (const rec of replicator.localItems(folder)) {
    if (!rec.deleted && !seen.has(rec.name)) out.push({ change: 'delete', state: { ...rec, deleted: true } });
  }
  return out;
}
