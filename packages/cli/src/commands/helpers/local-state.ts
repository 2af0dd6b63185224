/**
 * What `roam restore --list`, `roam map` and `roam projects` can tell without roamd: what this
 * device keeps on disk (config.json, the folders, each folder's trash and Claude Code's project
 * table under the state directory). What only the running daemon knows (other devices' items,
 * names it has not resolved yet) is left out, and the verbs say so.
 */
import { readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { isRoamError, ErrorCodes } from '@roam/core/errors';
import { folderList, readConfigFile } from '../../machine/config.js';
import { roamPaths } from '../../machine/paths.js';
import { ProjectNames, type ProjectEntry } from '../../machine/project-names.js';
import type { TrashView } from '../../control/results.js';
import { SHARED_FOLDER } from '../../machine/leases.js';
import { readTrash, sessionIdOfItem, trashId } from '../../machine/trash.js';

/** What was said when the daemon did not answer: the verbs print it on stderr. */
export const OFFLINE_NOTE = 'roamd is not running: this is what this device keeps on disk';

/** `online()`, or when no daemon answers, `offline()`; `live` says which. */
export async function orOffline<T>(online: () => Promise<T>, offline: () => T): Promise<{ value: T; live: boolean }> {
  try {
    return { value: await online(), live: true };
  } catch (err) {
    if (!isRoamError(err, ErrorCodes.NOT_RUNNING)) throw err;
    return { value: offline(), live: false };
  }
}

function folders(env: NodeJS.ProcessEnv) {
  return folderList(readConfigFile(roamPaths(env).configFile), env).filter((f) => f.id !== SHARED_FOLDER);
}

/** Claude Code's project table as roamd last saved it (read only: nothing is resolved or written). */
function claudeNames(env: NodeJS.ProcessEnv, root: string): ProjectNames {
  return new ProjectNames({ root, home: env.HOME || homedir(), file: join(roamPaths(env).state, 'folders', 'claude', 'projects.json') });
}

/** The wire name of a local Claude Code item name, when roamd recorded its key; else the name as it is. */
function claudeWire(names: ProjectNames, local: string): string {
  const slash = local.indexOf('/');
  const key = slash < 0 ? local : local.slice(0, slash);
  const wire = names.entryOfKey(key)?.wire;
  return wire === undefined ? local : `${wire}${slash < 0 ? '' : local.slice(slash)}`;
}

/** Every folder's trash, newest first, as roamd's `trash` answers it. */
export function localTrash(env: NodeJS.ProcessEnv = process.env): TrashView[] {
  const out: TrashView[] = [];
  for (const f of folders(env)) {
    const names = f.id === 'claude' ? claudeNames(env, f.path) : null;
    for (const e of readTrash(join(roamPaths(env).state, 'folders', f.id))) {
      const name = names ? claudeWire(names, e.name) : e.name;
      out.push({ id: trashId(f.id, e), folder: f.id, entry: e.entry, name, path: join(f.path, ...e.name.split('/')), session: sessionIdOfItem(f.id, name), deletedAt: e.deletedAt, size: e.size });
    }
  }
  return out.sort((a, b) => b.deletedAt - a.deletedAt || (a.id < b.id ? -1 : 1));
}

/** Claude Code's projects as roamd placed them here (`roam map`). */
export function localProjectMap(env: NodeJS.ProcessEnv = process.env): Array<ProjectEntry & { wires: string[] }> {
  const claude = folders(env).find((f) => f.id === 'claude');
  if (!claude) return [];
  const names = claudeNames(env, claude.path);
  const wires = names.wires();
  return names.entries().map((e) => ({ ...e, wires: Object.keys(wires).filter((w) => wires[w] === e.key) }));
}

export interface ProjectRow {
  readonly folder: string;
  /** The top-level entry of the folder (for Claude Code, the project's wire name when known). */
  readonly name: string;
  readonly synced: boolean;
  readonly here: number;
  /** Items other devices hold; null when not known (roamd is not running). */
  readonly onPeers: number | null;
}

function countFiles(dir: string): number {
  let n = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const d of entries) n += d.isDirectory() ? countFiles(join(dir, d.name)) : d.isFile() ? 1 : 0;
  return n;
}

/** Each folder's top-level entries here and whether config.json's selective sync keeps them. */
export function localProjects(env: NodeJS.ProcessEnv = process.env): ProjectRow[] {
  const only = readConfigFile(roamPaths(env).configFile).only ?? {};
  const out: ProjectRow[] = [];
  for (const f of folders(env)) {
    const names = f.id === 'claude' ? claudeNames(env, f.path) : null;
    let entries;
    try {
      entries = readdirSync(f.path, { withFileTypes: true });
    } catch {
      continue;
    }
    const keep = only[f.id] ? new Set(only[f.id]) : null;
    const rows = entries
      .filter((d) => !d.name.startsWith('.'))
      .map((d) => {
        const name = names ? claudeWire(names, d.name) : d.name;
        return { folder: f.id, name, synced: !keep || keep.has(name), here: d.isDirectory() ? countFiles(join(f.path, d.name)) : 1, onPeers: null };
      });
    out.push(...rows.sort((a, b) => (a.name < b.name ? -1 : 1)));
  }
  return out;
}
