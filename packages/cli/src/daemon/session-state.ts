/**
 * A session's per-session state on roamd's side (the tools' state folders, tools/types.ts
 * StateFolder): which items of the folders held here belong to a session, so that `roam rm`
 * removes them with it everywhere.
 */
import type { Engine } from '@roam/core';
import type { FolderSpec } from '../machine/config.js';
import { stateFolders } from '../tools/registry.js';

export interface StateItems {
  readonly folder: string;
  readonly root: string;
  /** Wire names (the state folders' names are their local names). */
  readonly names: string[];
}

/**
 * The items of `tool`'s state folders that are session `session`'s, here or on peers. `transcript`
 * is its transcript on this device (plans are named by slugs it records), or null.
 */
export function sessionStateItems(engine: Engine, held: readonly FolderSpec[], env: NodeJS.ProcessEnv, tool: string, session: string, transcript: string | null): StateItems[] {
  const out: StateItems[] = [];
  for (const f of stateFolders(env)) {
    const spec = held.find((h) => h.id === f.id);
    if (f.tool !== tool || !spec) continue;
    const r = engine.replicator;
    const all = new Set([...r.localItems(f.id).filter((m) => !m.deleted).map((m) => m.name), ...r.peerItems(f.id)]);
    const names = [...all].filter((n) => f.owns(n, session, transcript)).sort();
    if (names.length) out.push({ folder: f.id, root: spec.path, names });
  }
  return out;
}
