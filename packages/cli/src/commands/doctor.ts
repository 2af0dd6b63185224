/**
 * `roam doctor [--json]`: checks what a user would check by hand when sync seems off: the daemon,
 * its identity file, the folders (and whether Syncthing still shares one, as it does for
 * session-roam users switching over), the devices, and leftover conflict copies.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isRoamError } from '@roam/core/errors';
import type { Io } from '../io.js';
import { call } from '../control/client.js';
import type { PeerStatus, Status } from '../control/protocol.js';
import { folderList, readConfigFile } from '../machine/config.js';
import { roamPaths } from '../machine/paths.js';
import { VERSION } from '../version.js';
import { SHARED_FOLDER } from '../machine/leases.js';
import { adaptersFor } from '../sessions/index.js';
import { findConflicts } from './helpers/find-conflicts.js';
import { servicePlan } from './helpers/service-plan.js';
import { ago } from './helpers/format.js';
import { reachCheck } from './helpers/reach.js';

export interface Check {
  readonly check: string;
  readonly level: 'ok' | 'warn' | 'error';
  readonly detail: string;
  /** What to do about it (warnings and errors). */
  readonly fix?: string;
}

/**
 * Clock skew above this makes leases and staleness warnings unreliable: a lease from writing alone
 * lasts WRITE_LEASE_MS (15 s) after the last line, judged by the other device's clock.
 */
const SKEW_WARN_MS = 10_000;

/** The nearest folder at or above `path` that Syncthing marks as shared (`.stfolder`), if any. */
function syncthingShare(path: string): string | null {
  for (let p = path; ; p = dirname(p)) {
    if (existsSync(join(p, '.stfolder'))) return p;
    if (dirname(p) === p) return null;
  }
}

export async function diagnose(env: NodeJS.ProcessEnv = process.env): Promise<Check[]> {
  const paths = roamPaths(env);
  const checks: Check[] = [];
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  checks.push(major > 20 || (major === 20 && minor >= 19) ? { check: 'node', level: 'ok', detail: `Node ${process.version}` } : { check: 'node', level: 'error', detail: `Node ${process.version}: roam needs 20.19 or newer` });

  let status: Status | null = null;
  try {
    status = await call(paths.socket, 'status');
    checks.push(status.version === VERSION
      ? { check: 'daemon', level: 'ok', detail: `roamd ${status.version} runs as ${status.name}` }
      : { check: 'daemon', level: 'warn', detail: `roamd is ${status.version}, this roam is ${VERSION}: restart roamd after upgrading` });
  } catch (err) {
    checks.push({ check: 'daemon', level: 'error', detail: isRoamError(err) ? err.message : String(err), fix: 'start it: `roamd` (or `roam service install` to have it start at login)' });
  }

  if (existsSync(paths.identity)) {
    const mode = statSync(paths.identity).mode & 0o777;
    checks.push(mode & 0o077 ? { check: 'identity', level: 'error', detail: `${paths.identity} is readable by others (mode ${mode.toString(8)}): chmod 600 it` } : { check: 'identity', level: 'ok', detail: paths.identity });
  } else {
    checks.push({ check: 'identity', level: 'warn', detail: 'no identity yet: roamd creates one on first start' });
  }

  // Read whether roamd runs or not: a running roamd read it at start, and fails on its next reload.
  let folders: Array<{ id: string; path: string }> = status?.folders ?? [];
  try {
    const cfg = readConfigFile(paths.configFile);
    if (!status) folders = folderList(cfg, env);
    checks.push({ check: 'config', level: 'ok', detail: existsSync(paths.configFile) ? paths.configFile : `${paths.configFile} (none: the defaults)` });
  } catch (err) {
    checks.push({ check: 'config', level: 'error', detail: isRoamError(err) ? err.message : String(err), fix: `correct it (or move it away to use the defaults)${status ? ', then `roam reload`' : ''}` });
  }
  if (!folders.length) checks.push({ check: 'folders', level: 'warn', detail: "no folders here yet: none of the tools' session folders exists; roamd takes the ones other devices share, and a tool's folder once it appears" });
  for (const f of folders) {
    if (!existsSync(f.path)) {
      checks.push({ check: `folder ${f.id}`, level: 'error', detail: `${f.path} does not exist` });
      continue;
    }
    const share = syncthingShare(f.path);
    checks.push(share
      ? { check: `folder ${f.id}`, level: 'warn', detail: `Syncthing still shares ${share} (it has .stfolder): once roam is in sync, remove that folder from Syncthing so two tools do not write the same files` }
      : { check: `folder ${f.id}`, level: 'ok', detail: f.path });
    if (f.id === SHARED_FOLDER) continue;
    const own = join(f.path, '.roamignore');
    checks.push({ check: `ignore ${f.id}`, level: 'ok', detail: existsSync(own) ? `roam's defaults + ${readFileSync(own, 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('//')).length} rule(s) in ${own}` : "roam's defaults (no .roamignore)" });
  }
  const found = await findConflicts(folders);
  checks.push(found.length
    ? { check: 'conflicts', level: 'warn', detail: `${found.length} diverged item(s), e.g. ${found[0]!.folder}/${found[0]!.copy}`, fix: '`roam conflicts` shows where each continuation went' }
    : { check: 'conflicts', level: 'ok', detail: 'none' });
  try {
    const sessions = await adaptersFor('claude', { env })[0]!.list();
    const projects = new Set(sessions.map((x) => x.projectKey)).size;
    const newest = sessions[0];
    checks.push({ check: 'sessions', level: 'ok', detail: `${sessions.length} Claude Code session(s) in ${projects} project(s)${newest ? `, newest ${newest.id} (${newest.lastActivity})` : ''}` });
  } catch (err) {
    checks.push({ check: 'sessions', level: 'warn', detail: `could not list sessions: ${err instanceof Error ? err.message : String(err)}` });
  }
  const unit = servicePlan(env).file;
  checks.push(existsSync(unit)
    ? { check: 'service', level: 'ok', detail: `roamd starts at login (${unit})` }
    : { check: 'service', level: 'warn', detail: 'roamd does not start at login', fix: '`roam service install`' });

  if (status) {
    // Only the group's members: a device that left or was removed is no longer checked.
    const members = await call(paths.socket, 'devices').then((d) => new Set(d.filter((x) => !x.self).map((x) => x.peerId)), () => null);
    const peers = members ? status.peers.filter((p) => members.has(p.peerId)) : status.peers;
    const connected = peers.filter((p) => p.connected);
    checks.push(!peers.length
      ? { check: 'devices', level: 'warn', detail: 'no other device yet: pair one with `roam pair`, or start roamd with --peer' }
      : connected.length
        ? { check: 'devices', level: 'ok', detail: `connected to ${connected.map((p) => p.name).join(', ')}` }
        : { check: 'devices', level: 'warn', detail: `no device connected (known: ${peers.map((p) => p.name).join(', ')})`, fix: 'start roamd on them, or give their address with `roamd --peer <multiaddr>`' });
    const fresh = status.newDevices ?? [];
    const waiting = status.approval?.pending ?? [];
    checks.push(fresh.length || waiting.length || status.approval?.self
      ? {
          check: 'new devices', level: 'warn',
          detail: [...(status.approval?.self ? ['this device waits for approval'] : []), ...waiting.map((d) => `${d.name} waits for approval (added by ${d.addedBy.name})`), ...fresh.filter((d) => !waiting.some((w) => w.peerId === d.peerId)).map((d) => `${d.name} was added by ${d.addedBy.name}, not acknowledged`)].join('; '),
          fix: waiting.length ? '`roam devices --approve <device>` on a member other than the one that added it' : '`roam devices --ack <device>` once you know the device is yours (else `roam unpair <device>`)',
        }
      : { check: 'new devices', level: 'ok', detail: `every device is acknowledged${status.approval?.required ? '; trust.approve is on' : ''}` });
    if (status.reachability) checks.push(reachCheck(status));
    for (const p of peers) {
      checks.push(p.connected
        ? p.inSync
          ? { check: `sync ${p.name}`, level: 'ok', detail: 'in sync' }
          : { check: `sync ${p.name}`, level: 'warn', detail: `receiving ${p.need.items} item(s), sending ${p.peerNeeds.items}`, fix: '`roam sync --wait` waits for it; `roam status` shows progress' }
        : { check: `sync ${p.name}`, level: 'warn', detail: `offline, ${ago(p.lastSeen)}` });
    }
    try {
      const { leases } = await call(paths.socket, 'leases');
      checks.push({ check: 'leases', level: 'ok', detail: leases.length ? leases.map((l) => `${l.session} is being written on ${l.self ? 'this device' : l.name}`).join('; ') : 'no session is being written anywhere' });
    } catch (err) {
      checks.push({ check: 'leases', level: 'warn', detail: isRoamError(err) ? err.message : String(err), fix: 'restart roamd after upgrading roam' });
    }
    checks.push(...(await clockChecks(paths.socket, connected)));
  }
  return checks;
}

/**
 * Each connected member's clock, measured by roamd in round trips (daemon/clock.ts): a skew is
 * reported only beyond SKEW_WARN_MS plus the half round trip it may be off by.
 */
async function clockChecks(socket: string, connected: readonly PeerStatus[]): Promise<Check[]> {
  let readings: Array<{ peerId: string; skewMs?: number; rttMs?: number; error?: string }>;
  try {
    readings = await call(socket, 'clock');
  } catch (err) {
    return [{ check: 'clock', level: 'warn', detail: `roamd did not measure the clocks: ${isRoamError(err) ? err.message : String(err)}`, fix: 'restart roamd after upgrading roam' }];
  }
  const out: Check[] = [];
  for (const p of connected) {
    const r = readings.find((x) => x.peerId === p.peerId);
    if (!r) continue;
    if (r.skewMs === undefined || r.rttMs === undefined) {
      out.push({ check: `clock ${p.name}`, level: 'warn', detail: `could not measure: ${r.error ?? 'no answer'}` });
      continue;
    }
    const skew = Math.abs(r.skewMs);
    const within = `${skew < 1000 ? `${Math.round(skew)} ms` : `${(skew / 1000).toFixed(1)} s`} (± ${Math.ceil(r.rttMs / 2)} ms)`;
    out.push(skew > SKEW_WARN_MS + r.rttMs / 2
      ? { check: `clock ${p.name}`, level: 'warn', detail: `its clock is ${Math.round(skew / 1000)} s ${r.skewMs < 0 ? 'behind' : 'ahead of'} this one (± ${Math.ceil(r.rttMs / 2)} ms)`, fix: 'turn on time sync (NTP) on both devices: leases and staleness warnings rely on clocks' }
      : { check: `clock ${p.name}`, level: 'ok', detail: `within ${within} of this one` });
  }
  return out;
}

export async function doctor(opts: { json?: boolean }, io: Io): Promise<boolean> {
  const checks = await diagnose();
  if (opts.json) io.out(JSON.stringify({ ok: !checks.some((c) => c.level === 'error'), checks }, null, 2));
  else for (const c of checks) io.out(`${c.level === 'ok' ? 'ok   ' : c.level === 'warn' ? 'warn ' : 'ERROR'}  ${c.check}: ${c.detail}${c.fix ? `\n       fix: ${c.fix}` : ''}`);
  return !checks.some((c) => c.level === 'error');
}
