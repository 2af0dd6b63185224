/**
 * The one launcher of real `roamd` child processes, for the e2e, torture and conformance suites,
 * the benchmarks and the two-node demo. The caller makes the daemon's HOME and ROAM_HOME and
 * passes its env; this spawns `node roamd.js --listen … [--no-mdns] --name … [--peer …]…`,
 * collects what it prints, waits until it listens (its peer id and addresses are then known) and
 * stops it (SIGTERM, SIGKILL after a grace period). Who keeps track of the processes for the
 * clean-up stays the caller's: `Roamd.spawn` hands the process over before waiting for it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { until } from './poll.js';
import { ROAMD } from './paths.js';

export { REPO, CLI_DIST, ROAM, ROAMD } from './paths.js';

export interface RoamdOptions {
  /** `--name`. */
  name: string;
  env: NodeJS.ProcessEnv;
  /** `--listen` (default `/ip4/127.0.0.1/tcp/0`). */
  listen?: string;
  /** `--peer` addresses. */
  peers?: readonly string[];
  /** LAN discovery (default off: `--no-mdns`). */
  mdns?: boolean;
  /** More roamd flags, after the others. */
  args?: readonly string[];
  /** Node flags before roamd.js (e.g. `--cpu-prof`, `--require <preload>`). */
  nodeArgs?: readonly string[];
  /** Also the node flags of roamd's `#!` line, as an installed roamd starts. */
  asInstalled?: boolean;
  /** Run inside this network namespace (`ip netns exec` execs node in place: the pid is roamd's). */
  netns?: string;
  cwd?: string;
  /** A process group of its own (Ctrl-C in a terminal reaches the caller alone). */
  detached?: boolean;
  /** How long it may take to listen (default 20 s) and how often to look (default 5 ms). */
  startTimeoutMs?: number;
  everyMs?: number;
  /** Keep about this many of the last characters of output (default: all of it). */
  keepOutput?: number;
}

const LISTENING = /listening on (\S+)/g;

export class Roamd {
  readonly name: string;
  /** Everything it printed (stdout and stderr), or the last `keepOutput` characters of it. */
  output = '';
  peerId = '';
  /** Its listen addresses with /p2p/<peer id>, as it printed them. */
  addresses: string[] = [];
  /** Resolves with the exit code once it has exited (null: killed by a signal, or never started). */
  readonly exited: Promise<number | null>;

  private constructor(readonly proc: ChildProcess, private readonly opts: RoamdOptions) {
    this.name = opts.name;
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code) => resolve(code));
      proc.once('error', () => resolve(null));
    });
    const keep = (s: string): void => {
      this.output += s;
      const max = opts.keepOutput;
      if (max !== undefined && this.output.length > 2 * max) this.output = this.output.slice(-max);
    };
    proc.stdout!.setEncoding('utf8').on('data', keep);
    proc.stderr!.setEncoding('utf8').on('data', keep);
  }

  /** The roamd command line these options make (node flags, roamd.js and its flags). */
  static argv(opts: RoamdOptions): string[] {
    const flags = [
      '--listen', opts.listen ?? '/ip4/127.0.0.1/tcp/0',
      ...(opts.mdns ? [] : ['--no-mdns']),
      '--name', opts.name,
      ...(opts.peers ?? []).flatMap((p) => ['--peer', p]),
      ...(opts.args ?? []),
    ];
    return [...(opts.asInstalled ? shebangFlags() : []), ...(opts.nodeArgs ?? []), ROAMD, ...flags];
  }

  /** Spawns roamd and returns at once (register `proc` for the clean-up, then `await ready()`). */
  static spawn(opts: RoamdOptions): Roamd {
    const argv = Roamd.argv(opts);
    const [command, args] = opts.netns ? ['ip', ['netns', 'exec', opts.netns, process.execPath, ...argv]] : [process.execPath, argv];
    const proc = spawn(command, args, { env: opts.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: opts.detached ?? false });
    return new Roamd(proc, opts);
  }

  /** Spawns roamd and resolves once it listens. */
  static async start(opts: RoamdOptions): Promise<Roamd> {
    return Roamd.spawn(opts).ready();
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Resolves once roamd prints that it listens; throws if it exits first or takes too long. */
  async ready(): Promise<this> {
    const where = this.opts.netns ? ` in ${this.opts.netns}` : '';
    await until(() => /listening on \S+/.test(this.output) || !this.running, {
      timeoutMs: this.opts.startTimeoutMs ?? 20_000,
      everyMs: this.opts.everyMs ?? 5,
      what: `roamd ${this.name} to start${where}`,
      detail: () => this.output.slice(-2000),
    });
    if (!this.running) throw new Error(`roamd ${this.name} exited with ${this.proc.exitCode ?? this.proc.signalCode}:\n${this.output.slice(-4000)}`);
    this.peerId = /peer id: (\S+)/.exec(this.output)?.[1] ?? '';
    this.addresses = [...this.output.matchAll(LISTENING)].map((m) => m[1]!);
    return this;
  }

  /** Sends `signal` and waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.running) this.proc.kill(signal);
    return this.exited;
  }

  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`; resolves with the exit code. */
  async stop(graceMs = 10_000): Promise<number | null> {
    if (!this.running) return this.exited;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The node flags of roamd's `#!/usr/bin/env -S node …` line. */
function shebangFlags(): string[] {
  const m = /^#!\/usr\/bin\/env -S node (.+)$/.exec(readFileSync(ROAMD, 'utf8').split('\n', 1)[0]!);
  return m ? m[1]!.trim().split(/\s+/) : [];
}
