/**
 * `roam resume [<session id>] [--tool t] [--force] [--dry-run] [-- <tool args>]`: the command a
 * user types on the machine they walked to.
 *
 * 1. Waits until this device holds what its connected devices hold (bounded, with a progress line;
 *    alone, it says so and goes on with what it has).
 * 2. Picks the session: the id given (or a unique prefix of one), else the most recent session of
 *    the current directory's project, whichever device wrote it and whichever tool (Claude Code's
 *    logs live under this device's own key: machine/project-names.ts; the other tools' recorded
 *    directories are placed by machine/project-identity.ts).
 * 3. Refuses, unless --force, while another device holds the session's lease (its tool has the
 *    session open or wrote to it within the last minute), or while the tool has it open here.
 * 4. Warns when the directory is outside the configured namespace or the session is stale.
 * 5. Runs the tool's resume command in the project's directory here, in the foreground, and exits
 *    with the tool's exit code. --dry-run prints {"cwd", "command"} instead.
 */
import { realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { ErrorCodes, RoamError, isRoamError } from '@roam/core/errors';
import type { Io } from '../io.js';
import { call } from '../control/client.js';
import { roamPaths } from '../machine/paths.js';
import { readConfigFile } from '../machine/config.js';
import { TICK_MS, WRITE_LEASE_MS } from '../machine/leases.js';
import type { LeaseView } from '../control/results.js';
import type { ProjectEntry } from '../machine/project-names.js';
import { resumeIn } from '../convert/index.js';
import { wireProjects } from '../tools/registry.js';
import { runTool, ToolExit } from '../sessions/exec.js';
import { resolveSession, sessionDir } from '../sessions/index.js';
import type { SessionAdapter, SessionInfo } from '../sessions/types.js';
import { ago } from './helpers/format.js';
import { waitInSync } from './helpers/wait-in-sync.js';

export interface ResumeOptions {
  readonly tool?: string;
  readonly in?: string;
  readonly force?: boolean;
  readonly dryRun?: boolean;
  /** What it prepared and could not carry, as one JSON line on stdout before the tool starts. */
  readonly json?: boolean;
  /** Seconds to wait for sync (default: config resume.syncTimeout, else 120). */
  readonly timeout?: number;
}

export interface ResumeDeps {
  /** The adapters `--tool` means (every adapter without it). */
  readonly adapters: (tool: string | undefined) => SessionAdapter[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

const DEFAULT_SYNC_TIMEOUT_S = 120;
/** How long a lease held elsewhere may take to be released before resume refuses. */
const LEASE_GRACE_MS = 10_000;
/** How long to wait for a first connection when the daemon knows devices but none is connected yet. */
const ALONE_AFTER_MS = 3_000;

function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function expandHome(p: string, home: string): string {
  return p === '~' ? home : p.startsWith('~/') ? join(home, p.slice(2)) : p;
}

function within(child: string, parent: string): boolean {
  const r = relative(parent, child);
  return r === '' || (!r.startsWith('..') && !r.startsWith(sep) && r !== '..');
}

export async function resume(id: string | undefined, toolArgs: readonly string[], opts: ResumeOptions, io: Io, deps: ResumeDeps): Promise<void> {
  const env = deps.env ?? process.env;
  const adapters = deps.adapters(opts.tool);
  const paths = roamPaths(env);
  const cfg = readConfigFile(paths.configFile);
  const home = real(env.HOME || homedir());
  const cwd = real(deps.cwd ?? process.cwd());

  // 1. Catch up with the other devices.
  let daemon = true;
  try {
    const r = await waitInSync(paths.socket, {
      timeout: opts.timeout ?? cfg.resume?.syncTimeout ?? DEFAULT_SYNC_TIMEOUT_S,
      aloneAfterMs: ALONE_AFTER_MS,
      progress: (why) => io.err(`roam: waiting for sync: ${why}`),
    });
    if (!r.connected) {
      const last = r.offline.reduce<number | null>((m, p) => (p.lastSeen !== null && (m === null || p.lastSeen > m) ? p.lastSeen : m), null);
      io.err(`roam: warning: connected to no device; resuming what this machine has${r.offline.length ? ` (${ago(last)})` : ''}`);
    }
  } catch (err) {
    if (isRoamError(err) && err.code === ErrorCodes.NOT_RUNNING) {
      daemon = false;
      io.err('roam: warning: roamd is not running, so nothing was synced; resuming what this machine has');
    } else if (isRoamError(err) && err.code === ErrorCodes.SYNC_TIMEOUT && opts.force) {
      io.err(`roam: warning: ${err.message}; resuming anyway (--force)`);
    } else throw err;
  }

  // 2. The session (and so the tool).
  const { adapter, session } = id ? await resolveSession(adapters, id) : await newestHere(adapters, cwd, daemon ? paths.socket : null);
  if (opts.in && opts.in !== adapter.tool) {
    // Converted into a new session of the other tool (docs/CONVERT.md); the source is only read.
    return resumeIn({ adapter, session, target: opts.in, toolArgs, dryRun: opts.dryRun === true, adapters: deps.adapters, env, cwd, socket: daemon ? paths.socket : null, io });
  }

  // 3. Who is writing it.
  const othersHolding = async (): Promise<LeaseView[]> =>
    daemon ? (await call(paths.socket, 'leases', { session: session.id })).leases.filter((l) => !l.self) : [];
  let elsewhere = await othersHolding();
  // A device whose tool just closed the session releases it a moment later (its next shared-state
  // write has to arrive): give it that moment before refusing.
  if (elsewhere.length && !opts.force) {
    // A lease from writing alone (no live process known) ends WRITE_LEASE_MS after the last line and
    // reaches this device within a tick of its device and the transfer: wait that out, unless the
    // tool goes on writing. A registry lease gets LEASE_GRACE_MS.
    const now = Date.now();
    const until = now + (elsewhere.some((l) => l.pid === null) ? WRITE_LEASE_MS + TICK_MS + 5_000 : LEASE_GRACE_MS);
    io.err(`roam: ${elsewhere.map((l) => l.name).join(', ')} still holds session ${session.id}; waiting up to ${Math.max(1, Math.ceil((until - now) / 1000))} s for it to let go`);
    while (elsewhere.length && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 250));
      elsewhere = await othersHolding();
    }
  }
  const openHere = adapter.openHere?.(session.id) ?? [];
  const busy = [
    ...elsewhere.map((l) => `${l.name} is ${l.pid !== null ? `running it (pid ${l.pid} there)` : 'writing to it'}, last active ${Math.max(0, Math.round((Date.now() - l.lastActive) / 1000))} s ago`),
    ...openHere.map((l) => `it is open in another terminal here (pid ${l.pid})`),
  ];
  if (busy.length && !opts.force) {
    throw new RoamError(ErrorCodes.SESSION_BUSY, `session ${session.id} is in use: ${busy.join('; ')}. Stop it there, or resume anyway with --force (both continuations are kept, one as a fork)`);
  }
  for (const b of busy) io.err(`roam: warning: ${b}; resuming anyway (--force)`);

  // 4. Warnings.
  const namespace = cfg.resume?.namespace === undefined ? '~/Desktop' : cfg.resume.namespace;
  if (namespace) {
    const ns = real(expandHome(namespace, home));
    if (!within(cwd, ns)) io.err(`roam: warning: ${cwd} is outside your sessions namespace ${namespace} (config.json resume.namespace; null turns this off)`);
  }
  const staleHours = cfg.resume?.staleHours === undefined ? 24 : cfg.resume.staleHours;
  const age = Date.now() - Date.parse(session.lastActivity);
  if (staleHours && age > staleHours * 3_600_000) io.err(`roam: warning: session ${session.id} was last active ${Math.round(age / 3_600_000)} h ago (config.json resume.staleHours)`);

  // 5. Where and what to run.
  const where = await projectDir(session, adapter, cwd, daemon ? paths.socket : null, env);
  // Qwen Code resumes a session only in the directory it recorded: elsewhere it continues as a new session (docs/tools/qwen.md).
  const continued = adapter.continueIn ? await adapter.continueIn(session, where, { dryRun: opts.dryRun === true }) : null;
  const target = continued?.session ?? session;
  const command = adapter.resumeCommand(target.id, { cwd: where });
  const argv = [...command.argv, ...toolArgs];
  const runIn = command.cwd ?? where;
  // Gemini CLI finds a session only under its directory's project slug: register this directory for it (docs/GEMINI.md).
  const prepared = [...(continued?.lines ?? []), ...(adapter.prepareResume && !opts.dryRun ? await adapter.prepareResume(target, runIn) : []), ...(adapter.beforeRun && !opts.dryRun ? await adapter.beforeRun(target) : [])];
  // What did not travel with the session (the tool's docs: "What roam resume says it could not carry").
  const notCarried = adapter.notCarried?.(target, runIn) ?? [];
  const from = continued ? { continues: session.id } : {};
  if (opts.dryRun) {
    io.out(JSON.stringify({ cwd: runIn, command: argv, session: target.id, file: target.file, notCarried, ...from }));
    return;
  }
  if (opts.json) io.out(JSON.stringify({ cwd: runIn, command: argv, session: target.id, tool: adapter.tool, prepared, notCarried, ...from }));
  else {
    for (const line of prepared) io.err(`roam: ${line}`);
    for (const line of notCarried) io.err(`roam: not carried: ${line}`);
  }
  const code = await runTool(argv, { cwd: runIn, env });
  if (code !== 0) throw new ToolExit(code);
}

/**
 * The most recent session of the project in `cwd` (or of the nearest parent directory that has one),
 * whichever tool wrote it.
 */
async function newestHere(adapters: readonly SessionAdapter[], cwd: string, socket: string | null): Promise<{ adapter: SessionAdapter; session: SessionInfo }> {
  const mapped = socket ? await mappedProjects(socket) : [];
  for (let dir = cwd; ; ) {
    const found: Array<{ adapter: SessionAdapter; session: SessionInfo }> = [];
    for (const adapter of adapters) {
      const [newest] = await adapter.list({ project: dir, limit: 1 });
      if (newest) found.push({ adapter, session: newest });
      // A Claude project placed here by `roam map` may be kept under another key.
      const m = wireProjects(adapter.tool) ? mapped.find((e) => e.path !== null && real(e.path) === dir && e.key !== adapter.projectKey(dir)) : undefined;
      if (m) {
        const [s] = (await adapter.list()).filter((x) => x.projectKey === m.key);
        if (s) found.push({ adapter, session: s });
      }
    }
    const newest = found.sort((a, b) => (a.session.lastActivity < b.session.lastActivity ? 1 : -1))[0];
    if (newest) return newest;
    const up = resolve(dir, '..');
    if (up === dir) break;
    dir = up;
  }
  throw new RoamError(ErrorCodes.SESSION_NOT_FOUND, `no session of ${cwd} on this machine; \`roam list --all\` lists every project, \`roam map\` shows how projects from other devices are placed`);
}

async function mappedProjects(socket: string): Promise<ProjectEntry[]> {
  try {
    return (await call(socket, 'map')).projects;
  } catch {
    return [];
  }
}

/**
 * The session's project directory on this device: here if it is this directory's project, else
 * where roamd's map puts a Claude Code key, else the place of its project (sessionDir), else here.
 * Never the directory another device recorded, even where that path exists here too.
 */
async function projectDir(session: SessionInfo, adapter: SessionAdapter, cwd: string, socket: string | null, env: NodeJS.ProcessEnv): Promise<string> {
  if (session.projectKey === adapter.projectKey(cwd)) return cwd;
  if (socket && wireProjects(adapter.tool)) {
    const entry = (await mappedProjects(socket)).find((e) => e.key === session.projectKey);
    if (entry?.path && isDir(entry.path)) return entry.path;
  }
  return sessionDir(session, cwd, env);
}
