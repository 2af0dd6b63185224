/**
 * Opening one synced folder for roamd: its ignore rules and selective sync, its watcher and its
 * file store (started together), and for Claude Code's projects the per-device project names. The
 * same at start and for a folder taken while roamd runs (take-folders.ts).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { FolderStore, IgnoreRules, LocalChange } from '@roam/core';
import { FsFolderStore, nodeHasher } from '@roam/core/node';
import { onlyFor, type FileConfig, type FolderSpec } from '../machine/config.js';
import { ProjectNames } from '../machine/project-names.js';
import { toolNamed, unionLogNamed } from '../tools/registry.js';
import { homePaths } from '../machine/home-paths.js';
import { UnionDriver } from './union-driver.js';
import { ignoreRulesFor } from './ignore.js';
import { MappedStore } from './mapped-store.js';
import { killInAppendHook } from './test-hooks.js';
import { ObservedStore } from './observed-store.js';
import { readShared } from '../machine/leases.js';
import { FolderWatcher } from './watcher.js';

/** What roamd stops with a folder: its watcher, a union log's driver. */
export interface Closable {
  close(): Promise<void>;
}

export interface OpenFolderHost {
  readonly home: string;
  /** roamd's environment (the tools' own variables: where a union log's view is). */
  readonly env: NodeJS.ProcessEnv;
  /** roam's state directory: each folder's journal is under `folders/<id>`. */
  readonly stateDir: string;
  /** Ignore rules and selective sync per folder (set here, replaced by reload). */
  readonly rules: Map<string, IgnoreRules>;
  onChange(folder: string): (local: string[] | null) => void;
  onRulesChanged(folder: string): void;
  /** A session log grew (leases). */
  noteActivity(folder: string, root: string, changes: readonly LocalChange[]): void;
  /** Claude Code's project map overrides (config.json `map`). */
  mapOverrides(): Record<string, string>;
  /** roam's own folder, where each device publishes its projects' git remotes; and this device's id there. */
  readonly sharedDir: string;
  self(): string;
  log(line: string): void;
  /** Registered as soon as open, so that stopping closes them even if the rest failed. */
  opened(parts: { watcher?: Closable; fsStore?: FsFolderStore }): void;
}

export interface OpenedFolder {
  /** What the engine syncs. */
  readonly store: FolderStore;
  readonly fsStore: FsFolderStore;
  /** Claude Code's projects folder: wire names ↔ this device's project keys. */
  readonly names: ProjectNames | null;
  readonly mapped: MappedStore | null;
}

export async function openFolder(f: FolderSpec, cfg: FileConfig, host: OpenFolderHost): Promise<OpenedFolder> {
  await mkdir(f.path, { recursive: true });
  host.rules.set(f.id, ignoreRulesFor(f.path, onlyFor(cfg, f.id)));
  let ignore = (name: string) => host.rules.get(f.id)!.ignores(name);
  const stateDir = join(host.stateDir, 'folders', f.id);
  // The watcher starts while the store opens (its walk and the store's journal overlap, W4);
  // both before the engine's start-up scan, so nothing written meanwhile is missed. It reads
  // `ignore` when called, after the branch below has set it.
  const watch = async () => {
    const watcher = await FolderWatcher.start(f.path, (name) => ignore(name), host.onChange(f.id), {
      onError: (err) => host.log(`watcher ${f.id}: ${String(err)}`),
      // An edited .roamignore applies at once.
      onRulesChanged: () => host.onRulesChanged(f.id),
    });
    host.opened({ watcher });
  };
  // The watcher is up before the engine opens the store: the start-up scan may reuse the open's walk.
  const openStore = () => FsFolderStore.create({ root: f.path, stateDir, hasher: nodeHasher, ignore: (name) => ignore(name), reuseOpenWalk: true, midAppendWrite: killInAppendHook() }).then((fsStore) => (host.opened({ fsStore }), fsStore));
  const activity = (changes: readonly LocalChange[]) => host.noteActivity(f.id, f.path, changes);
  if (f.id === 'claude') {
    const names = new ProjectNames({ root: f.path, home: host.home, file: join(stateDir, 'projects.json'), overrides: () => host.mapOverrides(), remoteOf: (wire) => publishedRemote(host, wire), log: (line) => host.log(line) });
    // Ignore rules and selective sync speak of wire names; the disk and the watcher of local ones.
    ignore = (name: string) => host.rules.get(f.id)!.ignores(names.wireForRules(name, f.path));
    const fsStore = await settled(openStore(), watch());
    const mapped = new MappedStore(fsStore, names, activity);
    return { store: mapped, fsStore, names, mapped };
  }
  const fsStore = await settled(openStore(), watch());
  const union = unionLogNamed(f.id);
  if (union) {
    // A union log: the per-device logs sync as they are; the tool's file is their view.
    const home = host.home;
    const driver = UnionDriver.start({
      spec: union, file: union.file(host.env), root: f.path, store: fsStore, stateFile: join(stateDir, 'union-view.json'),
      paths: homePaths(home, () => host.mapOverrides()), self: () => host.self(), ownAppended: (name) => host.onChange(f.id)([name]), log: (line) => host.log(line),
    });
    host.opened({ watcher: driver });
    return { store: fsStore, fsStore, names: null, mapped: null };
  }
  // The tools' folders: a growing session log is a lease (noteActivity); other folders just sync.
  return { store: toolNamed(f.id) ? new ObservedStore(fsStore, activity) : fsStore, fsStore, names: null, mapped: null };
}

/** A project's git remote as another device published it. */
function publishedRemote(host: OpenFolderHost, wire: string): { remote: string; sub: string; root: string } | null {
  for (const d of readShared(host.sharedDir)) {
    const p = d.device !== host.self() ? d.projects[wire] : undefined;
    if (p) return { remote: p.remote, sub: p.sub, root: '' };
  }
  return null;
}

/** Both promises settled: the first's value, or the first failure (neither is left running unawaited). */
async function settled<T>(value: Promise<T>, also: Promise<unknown>): Promise<T> {
  const [a, b] = await Promise.allSettled([value, also]);
  if (a.status === 'rejected') throw a.reason;
  if (b.status === 'rejected') throw b.reason;
  return a.value;
}
