/**
 * Real `roamd` processes for the torture suite. Each has its own HOME and ROAM_HOME in a temp dir
 * and syncs one user-defined folder, `torture` (config.json), never a tool's folder. It listens at
 * a fixed address (so a restarted daemon is found where it was), optionally inside a network
 * namespace (`ip netns exec` execs roamd in place: the child's pid is roamd's). Commands go to
 * `roam` asynchronously, so a test's own event loop (writers, proxies, samplers) never stalls.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Status } from '../../../packages/cli/src/control/protocol.js';
import { until } from '../../../packages/core/test/support/poll.js';
import { ROAM, ROAMD, TEST_GROUP_KEY } from '../../support/daemons.js';
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
  proc: import('node:child_process').ChildProcess | null = null;
  /** Everything the current process printed. */
  output = '';
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

  async start(): Promise<void> {
    if (this.running) throw new Error(`roamd ${this.name} is already running`);
    const args = ['--listen', this.address, '--no-mdns', '--name', this.name, ...this.peers.flatMap((p) => ['--peer', p])];
    const cmd = this.spec.netns ? 'ip' : process.execPath;
    // For diagnosis, node options for every daemon: ROAM_TORTURE_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'.
    const nodeArgs = (process.env.ROAM_TORTURE_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const argv = this.spec.netns ? ['netns', 'exec', this.spec.netns, process.execPath, ...nodeArgs, ROAMD, ...args] : [...nodeArgs, ROAMD, ...args];
    const proc = trackProcess(spawn(cmd, argv, { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] }));
    this.proc = proc;
    this.output = '';
    this.starts++;
    this.history += `\n----- start #${this.starts} -----\n`;
    const take = (s: string): void => {
      this.output += s;
      this.history += s;
      if (this.history.length > 400_000) this.history = this.history.slice(-200_000);
    };
    proc.stdout!.setEncoding('utf8').on('data', take);
    proc.stderr!.setEncoding('utf8').on('data', take);
    await until(() => /listening on \S+/.test(this.output) || !alive(proc), {
      timeoutMs: 30_000, everyMs: 20, what: `roamd ${this.name} to start`, detail: () => this.output.slice(-2000),
    });
    if (!alive(proc)) throw new Error(`roamd ${this.name} exited with ${proc.exitCode ?? proc.signalCode}:\n${this.output.slice(-4000)}`);
    this.peerId = /peer id: (\S+)/.exec(this.output)?.[1] ?? this.peerId;
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
  roam(...args: string[]): Promise<CommandResult> {
    return new Promise((resolve) => {
      const p = trackProcess(spawn(process.execPath, [ROAM, ...args], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] }));
      let stdout = '';
      let stderr = '';
      p.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
      p.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
      const timer = setTimeout(() => p.kill('SIGKILL'), 120_000);
      p.on('close', (status) => {
        clearTimeout(timer);
        resolve({ status, stdout, stderr });
      });
    });
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
