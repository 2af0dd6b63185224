/**
 * A real `roamd` child process for the benchmarks, as a user runs it: its own HOME (the synced folder
 * is HOME/.claude/projects, found by roamd's defaults) and ROAM_HOME, a group key in ROAM_GROUP_KEY,
 * listening on 127.0.0.1 only, mDNS off, the peer given with --peer. Talks to it over its control
 * socket (the same newline-delimited JSON the `roam` CLI speaks) so that polling costs no process.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import path from 'node:path';
import { runRoamSync } from '#harness/cli.js';
import { Roamd } from '#harness/roamd.js';
import { STORE_STATS, sleep, track } from './util.js';

export const BENCH_GROUP_KEY = 'b3'.repeat(32);

export interface RoamPeerStatus {
  peerId: string;
  deviceId: string;
  name: string;
  connected: boolean;
  paused: boolean;
  need: { items: number; bytes: number };
  peerNeeds: { items: number; bytes: number };
  inSync: boolean;
  /** How the connection goes (roam status): direct, or through a relay. */
  via?: 'direct' | 'relay' | null;
}

export interface RoamStatus {
  peerId: string;
  deviceId: string;
  name: string;
  addresses: string[];
  peers: RoamPeerStatus[];
  folders: Array<{ id: string; path: string; items: number; bytes: number }>;
  traffic: { bytesIn: number; bytesOut: number };
}

export interface RoamNodeOptions {
  /** Extra node flags for roamd (e.g. --cpu-prof --cpu-prof-dir <dir>). */
  nodeArgs?: string[];
  /** Preload tools/store-stats.cjs so that `storeStats()` can read the store's own counters. */
  storeStats?: boolean;
  /** Run inside this network namespace, listening there (W7, the NAT lab). */
  netns?: { ns: string; listen: string };
  /** More roamd flags (e.g. --relay). */
  args?: string[];
}

/** The store counters of every folder of a roamd (tools/store-stats.cts), summed, or per folder. */
export interface StoreStats {
  bytesRead: number;
  tailBytesRead: number;
  bytesHashed: number;
  fsyncs: number;
  folders: Array<{ root: string; bytesRead: number; tailBytesRead: number; bytesHashed: number; fsyncs: number }>;
}

export class RoamNode {
  readonly home: string;
  readonly roamHome: string;
  /** The synced folder (Claude Code's projects folder under HOME). */
  readonly projects: string;
  readonly env: NodeJS.ProcessEnv;
  readonly socket: string;
  /** Where the store-stats preload writes the counters (with `storeStats`). */
  readonly statsFile: string;
  private roamd: Roamd | null = null;
  peerId = '';
  addresses: string[] = [];
  /** Date.now() when the process was spawned. */
  spawnedAt = 0;
  private stopping = false;

  constructor(readonly root: string, readonly name: string, private readonly opts: RoamNodeOptions = {}) {
    this.home = path.join(root, 'home');
    this.roamHome = path.join(root, 'roam');
    this.projects = path.join(this.home, '.claude', 'projects');
    this.socket = path.join(this.roamHome, 'roamd.sock');
    if (Buffer.byteLength(this.socket) > 100) throw new Error(`RoamNode: ${this.socket} is too long for a unix socket; use a shorter temp dir`);
    mkdirSync(this.projects, { recursive: true });
    mkdirSync(this.roamHome, { recursive: true, mode: 0o700 });
    this.statsFile = path.join(root, 'store-stats.json');
    this.env = { PATH: process.env.PATH, HOME: this.home, ROAM_HOME: this.roamHome, ROAM_GROUP_KEY: BENCH_GROUP_KEY, TZ: 'UTC', ...(opts.storeStats ? { ROAM_BENCH_STORE_STATS: this.statsFile } : {}) };
  }

  /** The store's own counters now (needs `storeStats`): asks roamd with SIGUSR2, reads its dump. */
  async storeStats(): Promise<StoreStats | null> {
    if (!this.opts.storeStats || !this.running) return null;
    const seqOf = () => {
      try {
        return (JSON.parse(readFileSync(this.statsFile, 'utf8')) as { seq: number }).seq;
      } catch {
        return 0;
      }
    };
    const before = seqOf();
    this.proc!.kill('SIGUSR2');
    const deadline = Date.now() + 5_000;
    while (seqOf() === before) {
      if (Date.now() > deadline) return null;
      await sleep(5);
    }
    const dump = JSON.parse(readFileSync(this.statsFile, 'utf8')) as { hooked: boolean; stores: StoreStats['folders'] };
    if (!dump.hooked) return null;
    const sum = (k: 'bytesRead' | 'tailBytesRead' | 'bytesHashed' | 'fsyncs') => dump.stores.reduce((a, x) => a + x[k], 0);
    return { bytesRead: sum('bytesRead'), tailBytesRead: sum('tailBytesRead'), bytesHashed: sum('bytesHashed'), fsyncs: sum('fsyncs'), folders: dump.stores };
  }

  get pid(): number {
    const p = this.proc?.pid;
    if (p === undefined || !this.running) throw new Error(`roamd ${this.name} is not running`);
    return p;
  }

  get proc(): ChildProcess | null {
    return this.roamd?.proc ?? null;
  }

  /** What the current (or last) process printed, its last 100 to 200 kB. */
  get output(): string {
    return this.roamd?.output ?? '';
  }

  get running(): boolean {
    return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Throws if the daemon died (a wait on it would otherwise run into its timeout). */
  assertAlive(): void {
    if (this.proc && !this.running && !this.stopping) {
      throw new Error(`roamd ${this.name} died (${this.proc.signalCode ?? `exit ${this.proc.exitCode}`}): ${lastError(this.output)}`);
    }
  }

  /** Spawns roamd and resolves once it listens (its control socket may come a moment later). */
  async start(peers: string[] = []): Promise<void> {
    if (this.running) throw new Error(`roamd ${this.name} is already running`);
    this.stopping = false;
    this.spawnedAt = Date.now();
    const roamd = Roamd.spawn({
      name: this.name,
      env: this.env,
      peers,
      ...(this.opts.netns ? { netns: this.opts.netns.ns, listen: this.opts.netns.listen } : {}),
      ...(this.opts.args ? { args: this.opts.args } : {}),
      // roamd runs as users start it: with the node flags of its bin's #! line.
      asInstalled: true,
      nodeArgs: [...(this.opts.storeStats ? ['--require', STORE_STATS] : []), ...(this.opts.nodeArgs ?? [])],
      // Long: roamd listens only once it has indexed its folders (minutes for a fresh 2 GB corpus on a busy machine).
      startTimeoutMs: 900_000,
      everyMs: 10,
      keepOutput: 100_000,
    });
    this.roamd = roamd;
    track(roamd.proc);
    roamd.proc.once('exit', (code, signal) => {
      if (!this.stopping) process.stderr.write(`[bench] roamd ${this.name} exited unexpectedly (${signal ?? code}); last output:\n${roamd.output.slice(-4000)}\n`);
    });
    await roamd.ready();
    this.peerId = roamd.peerId;
    this.addresses = roamd.addresses;
  }

  /** The listen address with /p2p/<id>, to give the other side with --peer. */
  get address(): string {
    const a = this.addresses[0]!;
    return a.includes('/p2p/') ? a : `${a}/p2p/${this.peerId}`;
  }

  /** The TCP port roamd listens on. */
  get port(): number {
    return Number(/\/tcp\/(\d+)/.exec(this.addresses[0] ?? '')?.[1]);
  }

  call<T>(method: string, params: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<T> {
    return controlCall<T>(this.socket, method, params, timeoutMs);
  }

  status(): Promise<RoamStatus> {
    return this.call<RoamStatus>('status');
  }

  /** Status, or null while the control socket is not up yet. */
  async statusOrNull(): Promise<RoamStatus | null> {
    try {
      return await this.status();
    } catch {
      return null;
    }
  }

  /** Runs the real `roam` CLI against this daemon (slow: a Node process). */
  cli(...args: string[]): { status: number | null; stdout: string; stderr: string; ms: number } {
    const t0 = performance.now();
    const r = runRoamSync(args, { env: this.env, timeoutMs: 120_000 });
    return { status: r.code, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - t0 };
  }

  /** SIGTERM, wait for the exit (SIGKILL after 15 s). */
  async stop(): Promise<void> {
    if (!this.roamd || !this.running) return;
    this.stopping = true;
    await this.roamd.stop(15_000);
  }

}

/** Whether `a` reports `b` connected and in sync, and holding `items` items / `bytes` bytes. */
export function pairState(s: RoamStatus | null, peerId: string, expect?: { items: number; bytes: number }): string | undefined {
  if (!s) return 'control socket not up';
  const p = s.peers.find((x) => x.peerId === peerId);
  if (!p) return 'peer unknown';
  if (!p.connected) return 'peer not connected';
  if (!p.inSync) return `not in sync (need ${p.need.items} items / ${p.need.bytes} B, peer needs ${p.peerNeeds.items} / ${p.peerNeeds.bytes} B)`;
  if (expect) {
    const f = s.folders[0];
    if (!f) return 'no folder';
    if (f.items !== expect.items || f.bytes !== expect.bytes) return `folder holds ${f.items} items / ${f.bytes} B, expected ${expect.items} / ${expect.bytes}`;
  }
  return undefined;
}

/** The most telling line of a crashed daemon's output (the error), else its last line. */
export function lastError(output: string): string {
  const lines = output.trim().split('\n');
  return lines.find((l) => /^\w*Error\b|Error:/.test(l))?.trim() ?? lines.at(-1)?.trim() ?? '';
}

let nextId = 1;

/** One request on roamd's control socket (protocol version 1). */
export function controlCall<T>(socket: string, method: string, params: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    const s = createConnection(socket);
    let buf = '';
    let done = false;
    const timer = setTimeout(() => finish(() => reject(new Error(`control ${method}: no answer in ${timeoutMs} ms`))), timeoutMs);
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      fn();
    };
    s.setEncoding('utf8');
    s.once('connect', () => s.write(`${JSON.stringify({ v: 1, id, method, params })}\n`));
    s.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const r = JSON.parse(buf.slice(0, nl)) as { ok?: boolean; result?: unknown; error?: { code: string; message: string }; event?: unknown };
        buf = buf.slice(nl + 1);
        if ('event' in r) continue;
        if (r.ok) finish(() => resolve(r.result as T));
        else finish(() => reject(new Error(`${r.error?.code}: ${r.error?.message}`)));
      }
    });
    s.on('error', (err) => finish(() => reject(err)));
    s.on('close', () => finish(() => reject(new Error('control socket closed without an answer'))));
  });
}
