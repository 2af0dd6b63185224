/**
 * Real `roamd` processes for the torture suite. Each has its own HOME and ROAM_HOME in a temp dir
 * and syncs one user-defined folder, `torture` (config.json), never a tool's folder. It listens at
 * a fixed address (so a restarted daemon is found where it was), optionally inside a network
 * namespace (`ip netns exec` execs roamd in place: the child's pid is roamd's). Commands go to
 * `roam` asynchronously, so a test's own event loop (writers, proxies, samplers) never stalls.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Status } from '../../../packages/cli/src/control/protocol.js';
import { runRoam } from '../../harness/cli.js';
import { until } from '../../harness/poll.js';
import { Roamd } from '../../harness/roamd.js';
import { TEST_GROUP_KEY } from '../../support/daemons.js';
import { alive, stopProcess, tempDir, trackProcess } from './cleanup.js';

export const FOLDER_ID = 'torture';

export interface DaemonSpec {
  name: string;
  /** Listen host (default 127.0.0.1). */
  host?: string;
  /** Listen port (default: a free one on 127.0.0.1, picked by `freePort`). */
  port?: number;
  /** Run inside this network namespace. */
  netns?: string;
  /** Addresses to keep dialing (`--peer`). */
  peers?: string[];
  /** ROAM_GROUP_KEY (default TEST_GROUP_KEY); null: no key, the daemon pairs for real. */
  groupKey?: string | null;
  /** The synced folder (default `<root>/folder`). */
  folder?: string;
  conflict?: 'fork' | 'syncthing';
  env?: NodeJS.ProcessEnv;
}

export interface CommandResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export class TortureDaemon {
  readonly root: string;
  readonly home: string;
  readonly roamHome: string;
  readonly folder: string;
  readonly env: NodeJS.ProcessEnv;
  private roamd: Roamd | null = null;
  /** Every process's output, for post-mortems. */
  history = '';
  peerId = '';
  starts = 0;
  peers: string[];

  private constructor(readonly spec: DaemonSpec & { port: number; host: string }) {
    this.root = tempDir(spec.name);
    this.home = join(this.root, 'home');
    this.roamHome = join(this.root, 'roam');
    this.folder = spec.folder ?? join(this.root, 'folder');
    mkdirSync(this.home, { recursive: true });
    mkdirSync(this.roamHome, { recursive: true, mode: 0o700 });
    mkdirSync(this.folder, { recursive: true });
    const key = spec.groupKey === undefined ? TEST_GROUP_KEY : spec.groupKey;
    this.env = { PATH: process.env.PATH, HOME: this.home, ROAM_HOME: this.roamHome, ROAM_GROUP_KEY: key ?? '', ...spec.env };
    this.peers = [...(spec.peers ?? [])];
    writeFileSync(
      join(this.roamHome, 'config.json'),
      `${JSON.stringify({ folders: [{ id: FOLDER_ID, path: this.folder, conflict: spec.conflict ?? 'fork' }] }, null, 2)}\n`,
      { mode: 0o600 },
    );
  }

  static async create(spec: DaemonSpec): Promise<TortureDaemon> {
    const host = spec.host ?? '127.0.0.1';
    const port = spec.port ?? (await freePort());
    return new TortureDaemon({ ...spec, host, port });
  }

  get name(): string {
    return this.spec.name;
  }

  /** The address it listens at, without /p2p (dialable before its peer id is known). */
  get address(): string {
    return `/ip4/${this.spec.host}/tcp/${this.spec.port}`;
  }

  get pid(): number | null {
    return this.proc && alive(this.proc) ? (this.proc.pid ?? null) : null;
  }

  get running(): boolean {
    return this.proc !== null && alive(this.proc);
  }

  /** Everything the current process printed. */
  get output(): string {
    return this.roamd?.output ?? '';
  }

  get proc(): ChildProcess | null {
    return this.roamd?.proc ?? null;
  }

  async start(): Promise<void> {
    if (this.running) throw new Error(`roamd ${this.name} is already running`);
    // For diagnosis, node options for every daemon: ROAM_TORTURE_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'.
    const nodeArgs = (process.env.ROAM_TORTURE_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const roamd = Roamd.spawn({
      name: this.name, env: this.env, listen: this.address, peers: this.peers, nodeArgs,
      ...(this.spec.netns ? { netns: this.spec.netns } : {}), startTimeoutMs: 30_000, everyMs: 20,
    });
    trackProcess(roamd.proc);
    this.roamd = roamd;
    this.starts++;
    this.history += `\n----- start #${this.starts} -----\n`;
    const take = (s: string): void => {
      this.history += s;
      if (this.history.length > 400_000) this.history = this.history.slice(-200_000);
    };
    roamd.proc.stdout!.on('data', take);
    roamd.proc.stderr!.on('data', take);
    await roamd.ready();
    this.peerId = roamd.peerId || this.peerId;
  }

  /** Sends a signal and waits for the process to exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.proc;
    if (!p || !alive(p)) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill(signal);
    await exited;
  }

  /** SIGTERM (SIGKILL after a grace period). */
  async stop(): Promise<void> {
    if (this.proc) await stopProcess(this.proc, 10_000);
  }

  /** Resident set size in KiB (VmRSS of /proc/<pid>/status), null when not running. */
  rssKiB(): number | null {
    const pid = this.pid;
    if (pid === null) return null;
    try {
      const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return m ? Number(m[1]) : null;
    } catch {
      return null;
    }
  }

  /** CPU time (user + system) the running process has used, in seconds (Linux, 100 ticks/s). */
  cpuSeconds(): number | null {
    const pid = this.pid;
    if (pid === null) return null;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      return null;
    }
  }

  /** `roam <args>` against this daemon, without blocking the event loop. */
  async roam(...args: string[]): Promise<CommandResult> {
    const r = await runRoam(args, { env: this.env, timeoutMs: 120_000, onSpawn: trackProcess });
    return { status: r.code, stdout: r.stdout, stderr: r.stderr };
  }

  async status(): Promise<Status> {
    const r = await this.roam('status', '--json');
    if (r.status !== 0) throw new Error(`roam status on ${this.name} failed (${r.status}): ${r.stderr}`);
    return JSON.parse(r.stdout) as Status;
  }

  /** The daemon's log file (all runs). */
  log(): string {
    const file = join(this.roamHome, 'state', 'roamd.log');
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }
}

/** Waits until every daemon has a live sync stream with every other (status: connected and not paused). */
export async function meshConnected(ds: readonly TortureDaemon[], timeoutMs = 60_000): Promise<void> {
  let last: unknown;
  await until(
    async () => {
      const views = await Promise.all(ds.map(async (d) => ({ d, s: await d.status() })));
      last = views.map(({ d, s }) => ({ name: d.name, peers: s.peers.filter((p) => p.connected).map((p) => p.name) }));
      return views.every(({ d, s }) => ds.every((o) => o === d || s.peers.some((p) => p.peerId === o.peerId && p.connected)));
    },
    { timeoutMs, everyMs: 250, what: 'every daemon to connect to every other', detail: () => last },
  );
}
