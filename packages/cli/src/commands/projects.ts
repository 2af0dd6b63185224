/**
 * `roam projects [--folder <id>] [--only <name>...] [--all] [--json]`: selective sync by project.
 * Without --only/--all, lists each folder's projects (top-level entries) and whether this device
 * syncs them. --only keeps only the named ones; --all syncs every project again. The choice is
 * kept in config.json and applied by the running daemon at once; nothing is deleted anywhere.
 */
import { ErrorCodes, RoamError } from '@roam/core/errors';
import type { Io } from '../main.js';
import { call } from '../control/client.js';
import type { ProjectInfo } from '../control/protocol.js';
import { readConfigFile, writeConfigFile } from '../machine/config.js';
import { roamPaths } from '../machine/paths.js';
import { encodePath } from '../machine/project-names.js';
import { displayWire } from './map.js';

/** `~/code/app` → `~code%2Fapp`, `/work/app` → `=%2Fwork%2Fapp`; a wire name or key as it is. */
function wireName(p: string): string {
  if (p === '~' || p === '~/') return '~';
  if (p.startsWith('~/')) return `~${encodePath(p.slice(2).replace(/\/+$/, ''))}`;
  if (p.startsWith('/')) return `=${encodePath(p.replace(/\/+$/, ''))}`;
  return p;
}

export async function projects(opts: { folder?: string; only?: string[]; all?: boolean; json?: boolean }, io: Io): Promise<void> {
  const paths = roamPaths();
  if (opts.only && opts.all) throw new RoamError(ErrorCodes.USAGE, 'use either --only or --all');
  if (opts.only || opts.all) {
    const folder = opts.folder ?? 'claude';
    const cfg = readConfigFile(paths.configFile);
    const only = { ...cfg.only };
    if (opts.all) delete only[folder];
    else {
      if (!opts.only!.length) throw new RoamError(ErrorCodes.USAGE, '--only needs at least one project');
      // Claude Code projects may be named as `roam projects` shows them: ~/code/app, /work/app.
      if (folder === 'claude') opts = { ...opts, only: opts.only!.map((p) => wireName(p)) };
      const bad = opts.only!.find((p) => p.includes('/') || p === '.' || p === '..');
      if (bad !== undefined) throw new RoamError(ErrorCodes.USAGE, `not a project name: ${bad} (use the top-level name shown by \`roam projects\`)`);
      only[folder] = [...new Set(opts.only!)];
    }
    writeConfigFile(paths.configFile, { ...cfg, only });
    await call(paths.socket, 'reload');
  }
  const list = (await call<ProjectInfo[]>(paths.socket, 'projects')).filter((p) => !opts.folder || p.folder === opts.folder);
  if (opts.json) {
    io.out(JSON.stringify(list, null, 2));
    return;
  }
  if (!list.length) io.out('no projects yet');
  for (const p of list) io.out(`${p.synced ? 'synced ' : 'skipped'}  ${p.folder}  ${p.folder === 'claude' ? displayWire(p.name) : p.name}  (${p.here} here, ${p.onPeers} on other devices)`);
}
