/**
 * `roam doctor [--json]`: checks what a user would check by hand when sync seems off: the daemon,
 * its identity file, the folders (and whether Syncthing still shares one, as it does for
 * session-roam users switching over), the devices, and leftover conflict copies.
 */
import { existsSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isRoamError } from '@roam/core';
import type { Io } from '../main.js';
import { call } from '../control/client.js';
import type { Status } from '../control/protocol.js';
import { folderList, readConfigFile } from '../daemon/config.js';
import { roamPaths } from '../daemon/home.js';
import { VERSION } from '../version.js';

export interface Check {
  readonly check: string;
  readonly level: 'ok' | 'warn' | 'error';
  readonly detail: string;
}

/** The nearest folder at or above `path` that Syncthing marks as shared (`.stfolder`), if any. */
function syncthingShare(path: string): string | null {
  for (let p = path; ; p = dirname(p)) {
    if (existsSync(join(p, '.stfolder'))) return p;
    if (dirname(p) === p) return null;
  }
}

async function conflictCopies(root: string, limit = 1000): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > 12 || found.length >= limit) return;
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) await walk(join(dir, e.name), depth + 1);
      else if (e.name.includes('.sync-conflict-')) found.push(join(dir, e.name));
    }
  };
  await walk(root, 0);
  return found;
}

export async function diagnose(env: NodeJS.ProcessEnv = process.env): Promise<Check[]> {
  const paths = roamPaths(env);
  const checks: Check[] = [];
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  checks.push(major > 20 || (major === 20 && minor >= 19) ? { check: 'node', level: 'ok', detail: `Node ${process.version}` } : { check: 'node', level: 'error', detail: `Node ${process.version}: roam needs 20.19 or newer` });

  let status: Status | null = null;
  try {
    status = await call<Status>(paths.socket, 'status');
    checks.push(status.version === VERSION
      ? { check: 'daemon', level: 'ok', detail: `roamd ${status.version} runs as ${status.name}` }
      : { check: 'daemon', level: 'warn', detail: `roamd is ${status.version}, this roam is ${VERSION}: restart roamd after upgrading` });
  } catch (err) {
    checks.push({ check: 'daemon', level: 'error', detail: isRoamError(err) ? err.message : String(err) });
  }

  if (existsSync(paths.identity)) {
    const mode = statSync(paths.identity).mode & 0o777;
    checks.push(mode & 0o077 ? { check: 'identity', level: 'error', detail: `${paths.identity} is readable by others (mode ${mode.toString(8)}): chmod 600 it` } : { check: 'identity', level: 'ok', detail: paths.identity });
  } else {
    checks.push({ check: 'identity', level: 'warn', detail: 'no identity yet: roamd creates one on first start' });
  }

  let folders: Array<{ id: string; path: string }> = status?.folders ?? [];
  if (!status) {
    try {
      folders = folderList(readConfigFile(paths.configFile), env);
    } catch (err) {
      checks.push({ check: 'config', level: 'error', detail: isRoamError(err) ? err.message : String(err) });
    }
  }
  if (!folders.length) checks.push({ check: 'folders', level: 'warn', detail: "no folders to sync: none of the tools' session folders exists yet" });
  for (const f of folders) {
    if (!existsSync(f.path)) {
      checks.push({ check: `folder ${f.id}`, level: 'error', detail: `${f.path} does not exist` });
      continue;
    }
    const share = syncthingShare(f.path);
    checks.push(share
      ? { check: `folder ${f.id}`, level: 'warn', detail: `Syncthing still shares ${share} (it has .stfolder): once roam is in sync, remove that folder from Syncthing so two tools do not write the same files` }
      : { check: `folder ${f.id}`, level: 'ok', detail: f.path });
    const copies = await conflictCopies(f.path);
    if (copies.length) checks.push({ check: `conflicts ${f.id}`, level: 'warn', detail: `${copies.length} Syncthing conflict cop${copies.length === 1 ? 'y' : 'ies'}, e.g. ${copies[0]}` });
  }

  if (status) {
    const connected = status.peers.filter((p) => p.connected);
    checks.push(!status.peers.length
      ? { check: 'devices', level: 'warn', detail: 'no other device yet: pair one with `roam pair`, or start roamd with --peer' }
      : connected.length
        ? { check: 'devices', level: 'ok', detail: `connected to ${connected.map((p) => p.name).join(', ')}` }
        : { check: 'devices', level: 'warn', detail: `no device connected (known: ${status.peers.map((p) => p.name).join(', ')})` });
  }
  return checks;
}

export async function doctor(opts: { json?: boolean }, io: Io): Promise<boolean> {
  const checks = await diagnose();
  if (opts.json) io.out(JSON.stringify({ ok: !checks.some((c) => c.level === 'error'), checks }, null, 2));
  else for (const c of checks) io.out(`${c.level === 'ok' ? 'ok   ' : c.level === 'warn' ? 'warn ' : 'ERROR'}  ${c.check}: ${c.detail}`);
  return !checks.some((c) => c.level === 'error');
}
