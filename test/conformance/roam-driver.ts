// The roam half of the conformance suite: real `roamd` child processes on 127.0.0.1, each device with
// its own HOME and ROAM_HOME in one temp dir, every scenario a folder of config.json shared by all of
// them. Everything is driven through the real CLI (`roam sync --wait`, `roam pause`, `roam status`).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runRoam } from '../harness/cli.js';
import { untilOk } from '../harness/poll.js';
import { Roamd } from '../harness/roamd.js';
import { readTree, type Device, type Driver, type SettledOptions, type TreeEntry } from './driver.js';

/** Every daemon of a driver joins this group (ROAM_GROUP_KEY: no pairing, any holder admitted). */
const GROUP_KEY = 'c0'.repeat(32);
const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const POLL_MS = 100;

export interface RoamFolderConfig {
  conflict: 'fork' | 'syncthing';
  logDeletes: 'local' | 'propagate';
}

export interface RoamDriverOptions {
  /** Per folder (scenario) id: the folder's settings in config.json. Default: fork, propagate. */
  folderConfig?: (scenario: string) => RoamFolderConfig;
}

interface RoamNode {
  readonly name: string;
  readonly index: number;
  readonly root: string;
  readonly env: NodeJS.ProcessEnv;
  /** The running roamd (undefined while the device is stopped). */
  proc?: Roamd;
  /** The last roamd started (its output outlives it, for the log tail). */
  last?: Roamd;
  peerId: string;
  deviceId: string;
  addresses: string[];
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class RoamDriver implements Driver {
  readonly kind = 'roam';
  private readonly folderConfig: (scenario: string) => RoamFolderConfig;
  private root: string | undefined;
  private nodes = new Map<string, RoamNode>();
  private scenarios: string[] = [];
  /** Paused links as 'A|B' with the names sorted. */
  private readonly paused = new Set<string>();
  /** `roam sync --wait` rounds are shared by the scenarios that settle at the same time. */
  private round: Promise<void> | null = null;
  private nextRound: Promise<void> | null = null;
  /** Last resort if the test process exits without `stop()`: no roamd outlives it. */
  private readonly killAll = (): void => {
    for (const n of this.nodes.values()) if (n.proc?.running) n.proc.proc.kill('SIGKILL');
  };

  constructor(opts: RoamDriverOptions = {}) {
    this.folderConfig = opts.folderConfig ?? (() => ({ conflict: 'fork', logDeletes: 'propagate' }));
  }

  async start(devices: string[], scenarios: string[]): Promise<void> {
    if (this.root !== undefined) throw new Error('RoamDriver: already started');
    if (devices.length < 2 || new Set(devices).size !== devices.length || !devices.every((d) => NAME.test(d)))
      throw new Error(`RoamDriver: need two or more distinct device names, got ${JSON.stringify(devices)}`);
    if (new Set(scenarios).size !== scenarios.length || !scenarios.every((s) => /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(s)))
      throw new Error(`RoamDriver: scenario names must be distinct folder ids, got ${JSON.stringify(scenarios)}`);
    this.root = await mkdtemp(path.join(os.tmpdir(), 'roam-conformance-'));
    this.scenarios = [...scenarios];
    process.on('exit', this.killAll);
    try {
      for (const [index, name] of devices.entries()) {
        const root = path.join(this.root, name);
        const home = path.join(root, 'home');
        const roamHome = path.join(root, 'roam');
        await mkdir(home, { recursive: true });
        await mkdir(roamHome, { recursive: true, mode: 0o700 });
        for (const s of scenarios) await mkdir(path.join(root, 'folders', s), { recursive: true });
        const config = {
          name,
          mdns: false,
          // HOME's tool folders do not matter: only the scenarios' folders are synced.
          exclude: ['claude', 'codex', 'gemini', 'copilot'],
          folders: scenarios.map((s) => ({ id: s, path: path.join(root, 'folders', s), ...this.folderConfig(s) })),
        };
        await writeFile(path.join(roamHome, 'config.json'), `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
        const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, ROAM_HOME: roamHome, ROAM_GROUP_KEY: GROUP_KEY, TZ: 'UTC' };
        this.nodes.set(name, { name, index, root, env, peerId: '', deviceId: '', addresses: [] });
      }
      // One after the other, each dialing those before it: a full mesh.
      for (const n of this.nodes.values()) await this.spawn(n);
      await untilOk(async () => {
        const missing: string[] = [];
        for (const n of this.nodes.values()) {
          const s = await this.status(n.name);
          for (const peer of this.nodes.values()) {
            if (peer !== n && !s.peers.some((p) => p.peerId === peer.peerId && p.connected && p.name === peer.name)) missing.push(`${n.name}→${peer.name}`);
          }
        }
        return missing.length ? `not connected (with names): ${missing.join(', ')}` : undefined;
      }, { timeoutMs: 30_000, everyMs: POLL_MS, what: 'RoamDriver: full mesh' });
    } catch (err) {
      await this.stop().catch(() => undefined);
      throw err;
    }
  }

  device(name: string): Device {
    this.node(name);
    return { name, folder: (scenario) => this.folderPath(name, scenario) };
  }

  async pause(a: string, b: string): Promise<void> {
    for (const [x, y] of [[a, b], [b, a]] as const) {
      if (!this.node(x).proc) throw new Error(`RoamDriver: pause(${a}, ${b}) needs both running; ${x} is stopped`);
      await this.cliOk(x, ['pause', y]);
    }
    this.paused.add(linkKey(a, b));
    await untilOk(async () => {
      const open: string[] = [];
      for (const [x, y] of [[a, b], [b, a]] as const) {
        const p = (await this.status(x)).peers.find((q) => q.name === y);
        if (!p?.paused) open.push(`${x}→${y}`);
      }
      return open.length ? `not paused: ${open.join(', ')}` : undefined;
    }, { timeoutMs: 15_000, everyMs: POLL_MS, what: `pause(${a}, ${b})` });
  }

  async resume(a: string, b: string): Promise<void> {
    for (const [x, y] of [[a, b], [b, a]] as const) {
      if (!this.node(x).proc) throw new Error(`RoamDriver: resume(${a}, ${b}) needs both running; ${x} is stopped`);
      await this.cliOk(x, ['unpause', y]);
    }
    this.paused.delete(linkKey(a, b));
  }

  async stopDevice(name: string): Promise<void> {
    const n = this.node(name);
    const p = n.proc;
    n.proc = undefined;
    await p?.stop(10_000);
  }

  async startDevice(name: string): Promise<void> {
    await this.spawn(this.node(name));
  }

  private async spawn(n: RoamNode): Promise<void> {
    if (n.proc) throw new Error(`RoamDriver: ${n.name} is already running`);
    const peers = [...this.nodes.values()].filter((p) => p !== n && p.proc).flatMap((p) => p.addresses);
    const roamd = Roamd.spawn({ name: n.name, env: n.env, peers, startTimeoutMs: 30_000, everyMs: POLL_MS });
    n.proc = roamd;
    n.last = roamd;
    await roamd.ready();
    n.peerId = roamd.peerId;
    n.addresses = roamd.addresses;
    n.deviceId = (await this.status(n.name)).deviceId;
  }

  /**
   * Settled: `roam sync --wait` on every running device that has a running, unpaused peer (it
   * rescans first, so a write made before this call counts), then the folder's trees on every
   * running device read equal on two rounds in a row.
   */
  async settled(scenario: string, opts: SettledOptions = {}): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    let previous: string | undefined;
    for (;;) {
      await this.syncRound(timeoutMs);
      const running = [...this.nodes.values()].filter((n) => n.proc);
      const now = JSON.stringify(await Promise.all(running.map((n) => this.tree(n.name, scenario))));
      if (now === previous) return;
      previous = now;
      if (Date.now() >= deadline) throw new Error(`settled(${scenario}) not reached within ${timeoutMs} ms: the folder kept changing`);
    }
  }

  /** One `roam sync --wait` round, shared by every caller that arrives before it starts. */
  private syncRound(timeoutMs: number): Promise<void> {
    if (this.nextRound) return this.nextRound;
    const run = (): Promise<void> => {
      const p = this.doSyncRound(timeoutMs).finally(() => {
        if (this.round === p) this.round = null;
      });
      this.round = p;
      return p;
    };
    if (!this.round) return run();
    const next = this.round.catch(() => undefined).then(() => {
      this.nextRound = null;
      return run();
    });
    this.nextRound = next;
    return next;
  }

  private async doSyncRound(timeoutMs: number): Promise<void> {
    const running = [...this.nodes.values()].filter((n) => n.proc);
    const live = running.filter((n) => running.some((p) => p !== n && !this.paused.has(linkKey(n.name, p.name))));
    const seconds = String(Math.max(1, Math.round(timeoutMs / 1000)));
    const results = await Promise.all(live.map(async (n) => [n, await this.cli(n.name, ['sync', '--wait', '--timeout', seconds], timeoutMs + 15_000)] as const));
    const failed = results.filter(([, r]) => r.code !== 0);
    if (failed.length) {
      throw new Error(`roam sync --wait failed: ${failed.map(([n, r]) => `${n.name}: exit ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`).join('; ')}`);
    }
  }

  tree(name: string, scenario: string): Promise<TreeEntry[]> {
    return readTree(this.folderPath(name, scenario));
  }

  /** roam names conflict copies after the winner's short id: its first 7 hex digits, upper case. */
  conflictIdOf(name: string): string {
    return this.deviceIdOf(name).slice(0, 7).toUpperCase();
  }

  shortIdOf(name: string): bigint {
    return BigInt(`0x${this.deviceIdOf(name)}`);
  }

  /** roam's short device id (16 hex digits), from `roam status --json`. */
  deviceIdOf(name: string): string {
    const id = this.node(name).deviceId;
    if (!/^[0-9a-f]{16}$/.test(id)) throw new Error(`RoamDriver: no device id for ${name} (got ${JSON.stringify(id)})`);
    return id;
  }

  /**
   * Writes the folder's `.roamignore`. The daemon reloads it by itself when it sees the change;
   * `roam reload` makes sure it has before the scenario goes on.
   */
  async setIgnores(name: string, scenario: string, lines: readonly string[]): Promise<void> {
    await writeFile(path.join(this.folderPath(name, scenario), '.roamignore'), lines.map((l) => `${l}\n`).join(''));
    await this.cliOk(name, ['reload']);
  }

  async status(name: string): Promise<StatusJson> {
    return JSON.parse((await this.cliOk(name, ['status', '--json'])).stdout) as StatusJson;
  }

  /** Runs `roam <args>` against one device, asynchronously (many run at once). */
  async cli(name: string, args: string[], timeoutMs = 60_000): Promise<CliResult> {
    const r = await runRoam(args, { env: this.node(name).env, timeoutMs });
    // Killed (on timeout): exit 1, and say so where the error would be.
    if (r.code === null) return { code: 1, stdout: r.stdout, stderr: r.stderr || `roam ${args.join(' ')}: ${r.timedOut ? `killed after ${timeoutMs} ms` : 'killed'}` };
    return { code: r.code, stdout: r.stdout, stderr: r.stderr };
  }

  private async cliOk(name: string, args: string[]): Promise<CliResult> {
    const r = await this.cli(name, args);
    if (r.code !== 0) throw new Error(`${name}: roam ${args.join(' ')} → exit ${r.code}: ${r.stderr.trim()}\n--- roamd ${name} (tail) ---\n${this.logTail(name)}`);
    return r;
  }

  logTail(name: string, lines = 30): string {
    return (this.node(name).last?.output ?? '').split('\n').slice(-lines).join('\n');
  }

  /** The pids of the running daemons (for the leak check). */
  pids(): number[] {
    return [...this.nodes.values()].flatMap((n) => (n.proc?.proc.pid !== undefined ? [n.proc.proc.pid] : []));
  }

  async stop(): Promise<void> {
    if (this.root === undefined) return;
    await Promise.allSettled([...this.nodes.keys()].map((name) => this.stopDevice(name)));
    process.off('exit', this.killAll);
    await rm(this.root, { recursive: true, force: true });
    this.root = undefined;
    this.nodes = new Map();
    this.paused.clear();
  }

  private node(name: string): RoamNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`RoamDriver: no device ${JSON.stringify(name)} (started: ${[...this.nodes.keys()].join(', ') || 'none'})`);
    return n;
  }

  private folderPath(name: string, scenario: string): string {
    if (!this.scenarios.includes(scenario)) throw new Error(`RoamDriver: unknown scenario ${JSON.stringify(scenario)}`);
    return path.join(this.node(name).root, 'folders', scenario);
  }
}

interface StatusJson {
  peerId: string;
  deviceId: string;
  name: string;
  peers: Array<{ peerId: string; deviceId: string; name: string; connected: boolean; paused: boolean; inSync: boolean }>;
}

function linkKey(a: string, b: string): string {
  return [a, b].sort().join('|');
}

