/**
 * `roam projects [--folder <id>] [--only <name>...] [--all] [--json]`: selective sync by project.
 * Without --only/--all, lists each folder's projects (top-level entries) and whether this device
 * syncs them. --only keeps only the named ones; --all syncs every project again. The choice is
 * kept in config.json and applied by the running daemon at once; nothing is deleted anywhere.
 * A name --only does not know (nothing here, nor on a device roamd has seen) is refused: it would
 * stop syncing every real project of the folder (`--force` keeps such a name: a choice made before
 * the first sync, when no device has shown the project yet). Without roamd the list is what is on this disk,
 * and --only is saved for roamd to apply when it starts.
 */
import { ErrorCodes, RoamError } from '@roam/core/errors';
import type { Io } from '../io.js';
import { call } from '../control/client.js';
import { readConfigFile, writeConfigFile } from '../machine/config.js';
import { roamPaths } from '../machine/paths.js';
import { encodePath } from '../machine/project-names.js';
import { displayWire } from './helpers/wire-display.js';
import { localProjects, orOffline, type ProjectRow } from './helpers/local-state.js';
import { wireProjects } from '../tools/registry.js';

/** `~/code/app` → `~code%2Fapp`, `/work/app` → `=%2Fwork%2Fapp`; a wire name or key as it is. */
function wireName(p: string): string {
  if (p === '~' || p === '~/') return '~';
  if (p.startsWith('~/')) return `~${encodePath(p.slice(2).replace(/\/+$/, ''))}`;
  if (p.startsWith('/')) return `=${encodePath(p.replace(/\/+$/, ''))}`;
  return p;
}

export async function projects(opts: { folder?: string; only?: string[]; all?: boolean; force?: boolean; json?: boolean }, io: Io): Promise<void> {
  const paths = roamPaths();
  if (opts.only && opts.all) throw new RoamError(ErrorCodes.USAGE, 'use either --only or --all');
  const known = () => orOffline(() => call(paths.socket, 'projects'), () => localProjects());
  let listed: { value: ProjectRow[]; live: boolean } | null = null;
  if (opts.only || opts.all) {
    const folder = opts.folder ?? 'claude';
    const cfg = readConfigFile(paths.configFile);
    const only = { ...cfg.only };
    if (opts.all) delete only[folder];
    else {
      if (!opts.only!.length) throw new RoamError(ErrorCodes.USAGE, '--only needs at least one project');
      // Claude Code projects may be named as `roam projects` shows them: ~/code/app, /work/app.
      if (wireProjects(folder)) opts = { ...opts, only: opts.only!.map((p) => wireName(p)) };
      const bad = opts.only!.find((p) => p.includes('/') || p === '.' || p === '..');
      if (bad !== undefined) throw new RoamError(ErrorCodes.USAGE, `not a project name: ${bad} (use the top-level name shown by \`roam projects\`)`);
      // A name that matches nothing would silently stop syncing every real project of the folder.
      listed = await known();
      const names = new Set(listed.value.filter((p) => p.folder === folder).map((p) => p.name));
      const unknown = opts.only!.filter((p) => !names.has(p));
      if (unknown.length && !opts.force) {
        const show = (n: string) => (wireProjects(folder) ? displayWire(n) : n);
        const where = listed.live ? 'here or on the devices roamd has seen' : 'here (roamd is not running, so other devices\' projects are not known: start it to choose one of theirs)';
        const have = [...names].sort().map(show);
        throw new RoamError(ErrorCodes.USAGE, `no project ${unknown.map((n) => JSON.stringify(show(n))).join(', ')} in folder ${folder} ${where}; ${have.length ? `it has: ${have.slice(0, 20).join(', ')}${have.length > 20 ? `, … (${have.length} in all: \`roam projects\`)` : ''}` : 'it has no projects yet'}; to choose a project no device has shown yet (before the first sync), add --force`);
      }
      only[folder] = [...new Set(opts.only!)];
    }
    writeConfigFile(paths.configFile, { ...cfg, only });
    const reloaded = await orOffline(() => call(paths.socket, 'reload'), () => null);
    if (!reloaded.live) io.err('roam: saved in config.json; roamd is not running and applies it when it starts');
    listed = null;
  }
  listed ??= await known();
  if (!listed.live) io.err('roam: roamd is not running: these are the projects on this disk; what other devices hold is not known (onPeers: null)');
  const list = listed.value.filter((p) => !opts.folder || p.folder === opts.folder);
  if (opts.json) {
    io.out(JSON.stringify(list, null, 2));
    return;
  }
  if (!list.length) io.out('no projects yet');
  for (const p of list) io.out(`${p.synced ? 'synced ' : 'skipped'}  ${p.folder}  ${wireProjects(p.folder) ? displayWire(p.name) : p.name}  (${p.here} here, ${p.onPeers === null ? 'unknown' : p.onPeers} on other devices)`);
}
