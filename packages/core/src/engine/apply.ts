/** Applying the replicator's store effects: appends, staged writes, removes, touches, copies, positions. */
import { isRoamError } from '../errors.js';
import type { Applied, StoreEffect } from '../replication/effects.js';
import type { FolderStore, StagedWrite } from '../store.js';

/**
 * Applies one store effect of the replicator to its folder's store; a store's refusal (a typed
 * error) is the result, for the replicator to hear. A staged write lives in `staged` (by folder
 * and name) from its first chunk to its commit or abort.
 */
export async function applyStore(stores: ReadonlyMap<string, FolderStore>, staged: Map<string, StagedWrite>, e: StoreEffect): Promise<Applied> {
  const store = stores.get(e.folder)!;
  const sk = `${e.folder}\u0000${e.name}`;
  try {
    switch (e.t) {
      case 'append':
        return { ok: true, state: await store.appendLog(e.name, e.start, e.data, e.end, e.mtimeMs, e.mode) };
      case 'stageWrite': {
        let s = staged.get(sk);
        if (!s) staged.set(sk, (s = await store.stage(e.name)));
        await s.write(e.offset, e.data);
        return { ok: true };
      }
      case 'stageCommit': {
        const s = staged.get(sk) ?? (await store.stage(e.name));
        staged.delete(sk);
        try {
          return { ok: true, state: await s.commit(e.target, e.expected) };
        } catch (err) {
          await s.abort();
          throw err;
        }
      }
      case 'stageAbort': {
        const s = staged.get(sk);
        staged.delete(sk);
        await s?.abort();
        return { ok: true };
      }
      case 'remove':
        await store.remove(e.name, e.expected);
        return { ok: true, state: null };
      case 'touch':
        return { ok: true, state: await store.touch(e.name, e.mtimeMs, e.expected) };
      case 'copy':
        return { ok: true, state: await store.copy(e.name, e.to, e.expected) };
      case 'positionAt':
        return { ok: true, pos: await store.positionAt(e.name, e.offset) };
    }
  } catch (err) {
    if (isRoamError(err)) return { ok: false, code: err.code, message: err.message };
    throw err;
  }
}
