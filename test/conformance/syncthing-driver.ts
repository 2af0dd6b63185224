// The reference half of the conformance suite: Debian's Syncthing 1.19 run headless and offline,
// N devices on 127.0.0.1, every scenario a folder shared by all of them. Each device has a generated
// home (keys) and a config.xml written here with everything that could leave the machine turned off.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { untilOk } from '../harness/poll.js';
import { readTree, type Device, type Driver, type SettledOptions, type TreeEntry } from './driver.js';

const run = promisify(execFile);
const API_KEY = 'roam-conformance-api-key';
const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
/** How often `settled` and the other waits re-check a condition. */
const POLL_MS = 100;

export interface SyncthingDriverOptions {
  /** The folders' watcher delay; session-roam's setup uses 2 (Syncthing's default is 10). */
  fsWatcherDelayS?: number;
  /** The executable; default `syncthing` from PATH. */
  binary?: string;
}

/**
 * Whether the Syncthing half of the suite can run. Without the binary: with CI=true this throws (a
 * missing binary fails the run), elsewhere it prints a loud notice and returns false (skip).
 */
export function syncthingAvailable(binary = 'syncthing'): boolean {
  if (spawnSync(binary, ['--version'], { stdio: 'ignore' }).status === 0) return true;
  const msg = `\`${binary}\` is not on PATH: the Syncthing half of the conformance suite cannot run (apt-get install -y syncthing)`;
  if (process.env.CI === 'true') throw new Error(`${msg}; CI=true, so this fails the run`);
  console.warn(`\n${'!'.repeat(100)}\n!!! SKIPPED: ${msg}\n${'!'.repeat(100)}\n`);
  return false;
}

/** One socket of a device's processes, from /proc (what `ss -tunap` would list). */
export interface SocketInfo {
  proto: 'tcp' | 'tcp6' | 'udp' | 'udp6';
  /** `addr:port`, IPv6 addresses in brackets. */
  local: string;
  remote: string;
}

interface Node {
  readonly name: string;
  /** Position in `start`'s list: of two devices, the one listed first dials (see `configXml`). */
  readonly index: number;
  readonly id: string;
  readonly home: string;
  readonly guiPort: number;
  /** The monitor process, leader of a session that also holds the child it forks. */
  proc?: ChildProcess;
}

export class SyncthingDriver implements Driver {
  readonly kind = 'syncthing';
  private readonly binary: string;
  private readonly fsWatcherDelayS: number;
  private root: string | undefined;
  private nodes = new Map<string, Node>();
  private scenarios: string[] = [];
  /** Count of `dialNow` calls, for fresh addresses. */
  private dials = 0;
  /** Paused links as 'A|B' with the names sorted. */
  private readonly paused = new Set<string>();
  /** Last resort if the test process exits without `stop()`: no Syncthing outlives it. */
  private readonly killAll = (): void => {
    for (const n of this.nodes.values()) if (n.proc?.pid !== undefined) killSession(n.proc.pid);
  };

  constructor(opts: SyncthingDriverOptions = {}) {
    this.binary = opts.binary ?? 'syncthing';
    this.fsWatcherDelayS = opts.fsWatcherDelayS ?? 2;
  }

  async start(devices: string[], scenarios: string[]): Promise<void> {
    if (this.root !== undefined) throw new Error('SyncthingDriver: already started');
    if (devices.length < 2 || new Set(devices).size !== devices.length || !devices.every((d) => NAME.test(d)))
      throw new Error(`SyncthingDriver: need two or more distinct device names, got ${JSON.stringify(devices)}`);
    if (new Set(scenarios).size !== scenarios.length || !scenarios.every((s) => NAME.test(s)))
      throw new Error(`SyncthingDriver: scenario names must be distinct folder ids, got ${JSON.stringify(scenarios)}`);
    this.root = await mkdtemp(path.join(os.tmpdir(), 'roam-syncthing-'));
    this.scenarios = [...scenarios];
    process.on('exit', this.killAll);
    try {
      const ports = await freePorts(devices.length * 2);
      const generated = await Promise.all(devices.map((name) => this.generate(name)));
      devices.forEach((name, i) => {
        const g = generated[i]!;
        this.nodes.set(name, { name, index: i, id: g.id, home: g.home, guiPort: ports[2 * i + 1]! });
      });
      const listen = new Map(devices.map((name, i) => [name, ports[2 * i]!]));
      for (const node of this.nodes.values()) {
        const version = /<configuration version="(\d+)"/.exec(await readFile(path.join(node.home, 'config.xml'), 'utf8'))?.[1];
        if (version === undefined) throw new Error(`SyncthingDriver: no config version in ${node.home}/config.xml`);
        await writeFile(path.join(node.home, 'config.xml'), this.configXml(node, version, listen));
        for (const s of scenarios) await mkdir(path.join(this.folderPath(node.name, s), '.stfolder'), { recursive: true });
      }
      const nodes = [...this.nodes.values()];
      await Promise.all(nodes.map((n) => this.spawn(n)));
      for (const a of nodes) for (const b of nodes) if (a.index < b.index) await this.dialNow(a, b);
    } catch (err) {
      await this.stop().catch(() => undefined); // the first failure is the one worth reporting
      throw err;
    }
  }

  device(name: string): Device {
    this.node(name);
    return { name, folder: (scenario) => this.folderPath(name, scenario) };
  }

  async pause(a: string, b: string): Promise<void> {
    const [na, nb] = [this.node(a), this.node(b)];
    for (const n of [na, nb]) if (!n.proc) throw new Error(`SyncthingDriver: pause(${a}, ${b}) needs both running; ${n.name} is stopped`);
    await this.api(na, 'POST', `/rest/system/pause?device=${nb.id}`);
    await this.api(nb, 'POST', `/rest/system/pause?device=${na.id}`);
    this.paused.add(linkKey(a, b));
    // The config change closes the connection asynchronously; a change made before that would leak.
    await untilOk(async () => {
      const open = [];
      for (const [x, y] of [[a, b], [b, a]] as const) if ((await this.connections(x))[this.node(y).id]?.connected) open.push(`${x}→${y}`);
      return open.length === 0 ? undefined : `still connected: ${open.join(', ')}`;
    }, { timeoutMs: 15_000, everyMs: POLL_MS, what: `pause(${a}, ${b})` });
  }

  async resume(a: string, b: string): Promise<void> {
    const [dialer, listener] = [this.node(a), this.node(b)].sort((x, y) => x.index - y.index) as [Node, Node];
    for (const n of [dialer, listener]) if (!n.proc) throw new Error(`SyncthingDriver: resume(${a}, ${b}) needs both running; ${n.name} is stopped`);
    // The listener first: a dial reaching a side that still has the link paused is refused.
    await this.api(listener, 'POST', `/rest/system/resume?device=${dialer.id}`);
    await this.dialNow(dialer, listener); // also unpauses
    this.paused.delete(linkKey(a, b));
  }

  async startDevice(name: string): Promise<void> {
    const node = this.node(name);
    await this.spawn(node);
    for (const peer of this.nodes.values()) {
      if (peer === node || !peer.proc || this.paused.has(linkKey(name, peer.name))) continue;
      await (node.index < peer.index ? this.dialNow(node, peer) : this.dialNow(peer, node));
    }
  }

  /** Starts one device's processes and waits for its REST API. */
  private async spawn(node: Node): Promise<void> {
    const name = node.name;
    if (node.proc) throw new Error(`SyncthingDriver: ${name} is already running`);
    const log = openSync(path.join(node.home, 'syncthing.log'), 'a');
    try {
      node.proc = spawn(this.binary, ['serve', '--home', node.home, '--no-browser', '--no-restart', '--no-upgrade'], {
        // TZ: conflict copies are named after the local time of resolution; UTC makes that predictable.
        env: { ...process.env, STNOUPGRADE: '1', TZ: 'UTC' },
        detached: true, // a session of its own: the monitor and its child are found (and killed) together
        stdio: ['ignore', log, log],
      });
    } finally {
      closeSync(log);
    }
    const proc = node.proc;
    let exited: string | undefined;
    proc.once('exit', (code, signal) => (exited = `exited (${signal ?? code})`));
    proc.once('error', (err) => (exited = `failed to spawn: ${err.message}`));
    try {
      await untilOk(async () => {
        if (exited) throw new Error(`${name}: syncthing ${exited}`);
        return (await this.api(node, 'GET', '/rest/system/ping').then(() => true, () => false)) ? undefined : 'REST API not up';
      }, { timeoutMs: 30_000, everyMs: POLL_MS, what: `start ${name}` });
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- ${name}'s log (tail) ---\n${await this.logTail(node)}`);
    }
  }

  async stopDevice(name: string): Promise<void> {
    const node = this.node(name);
    const sid = node.proc?.pid;
    if (sid === undefined) {
      node.proc = undefined;
      return;
    }
    // The connection may drop before the answer: whether it returned does not matter, the exit does.
    await this.api(node, 'POST', '/rest/system/shutdown').catch(() => undefined);
    if (!(await sessionGone(sid, 15_000))) {
      killSession(sid);
      if (!(await sessionGone(sid, 5_000))) throw new Error(`SyncthingDriver: ${name}'s processes survived SIGKILL`);
    }
    node.proc = undefined;
  }

  async settled(scenario: string, opts: SettledOptions = {}): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const folder = this.scenarioId(scenario);
    const running = [...this.nodes.values()].filter((n) => n.proc);
    const t0 = Date.now();
    // Synchronous in 1.19: returns once the scan is done. A write the watcher has not picked up yet
    // is invisible to every other condition below.
    await Promise.all(running.map((n) => this.api(n, 'POST', `/rest/db/scan?folder=${folder}`)));
    // A pull ends with the folder idle and then scans what it moved aside (conflict copies): for a
    // moment everything looks done. So the conditions must hold on two polls in a row with no
    // device's local sequence changing in between.
    let previous: string | undefined;
    // The deadline counts from before the scan.
    await untilOk(async () => {
      const problems: string[] = [];
      const sequences: number[] = [];
      for (const n of running) {
        const conns = await this.connections(n.name);
        const status = await this.api<DbStatus>(n, 'GET', `/rest/db/status?folder=${folder}`);
        sequences.push(status.sequence);
        if (status.state !== 'idle') problems.push(`${n.name}: folder state is "${status.state}"`);
        if (status.needTotalItems !== 0 || status.needBytes !== 0)
          problems.push(`${n.name}: needs ${status.needTotalItems} items / ${status.needBytes} bytes (${status.pullErrors} pull errors)`);
        for (const peer of running) {
          if (peer === n || this.paused.has(linkKey(n.name, peer.name))) continue;
          if (!conns[peer.id]?.connected) {
            problems.push(`${n.name}: not connected to ${peer.name}`);
            continue;
          }
          const c = await this.api<Completion>(n, 'GET', `/rest/db/completion?folder=${folder}&device=${peer.id}`);
          if (c.completion !== 100) problems.push(`${n.name}: ${peer.name} is ${c.completion}% complete (${c.needItems} items)`);
        }
      }
      const now = JSON.stringify(sequences);
      if (problems.length > 0 || now !== previous) {
        previous = problems.length > 0 ? undefined : now;
        return problems.length > 0 ? problems.join('; ') : 'all met once, confirming on the next poll';
      }
      return undefined;
    }, { timeoutMs: Math.max(0, t0 + timeoutMs - Date.now()), everyMs: POLL_MS, what: `settled(${scenario})` });
  }

  tree(name: string, scenario: string): Promise<TreeEntry[]> {
    return readTree(this.folderPath(name, scenario));
  }

  /** The first 7 characters of the device id, as in `<stem>.sync-conflict-<date>-<time>-<id>.<ext>`. */
  conflictIdOf(name: string): string {
    return this.node(name).id.slice(0, 7);
  }

  /** The full device id. */
  idOf(name: string): string {
    return this.node(name).id;
  }

  /** Syncthing's `ShortID`: the first 8 bytes of the device id, big-endian. */
  shortIdOf(name: string): bigint {
    return syncthingShortId(this.node(name).id);
  }

  /** `POST /rest/db/ignores`: writes the folder's `.stignore` and loads it at once. */
  async setIgnores(name: string, scenario: string, lines: readonly string[]): Promise<void> {
    const node = this.node(name);
    if (!node.proc) throw new Error(`SyncthingDriver: setIgnores(${name}) needs it running`);
    await this.api(node, 'POST', `/rest/db/ignores?folder=${this.scenarioId(scenario)}`, { ignore: lines });
  }

  /** The peers' view from `name`: `GET /rest/system/connections`, keyed by device id. */
  async connections(name: string): Promise<Record<string, Connection>> {
    return (await this.api<{ connections: Record<string, Connection> }>(this.node(name), 'GET', '/rest/system/connections')).connections;
  }

  /** Every IP socket held by the device's processes (monitor and child), read from /proc. */
  async sockets(name: string): Promise<SocketInfo[]> {
    const sid = this.node(name).proc?.pid;
    if (sid === undefined) throw new Error(`SyncthingDriver: ${name} is stopped`);
    const inodes = new Set<string>();
    for (const pid of sessionPids(sid)) {
      const fds = await readdir(`/proc/${pid}/fd`).catch(() => []);
      for (const fd of fds) {
        const m = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ''));
        if (m) inodes.add(m[1]!);
      }
    }
    const out: SocketInfo[] = [];
    for (const proto of ['tcp', 'tcp6', 'udp', 'udp6'] as const) {
      const lines = (await readFile(`/proc/net/${proto}`, 'utf8')).trim().split('\n').slice(1);
      for (const f of lines.map((l) => l.trim().split(/\s+/))) {
        if (inodes.has(f[9]!)) out.push({ proto, local: procAddr(f[1]!), remote: procAddr(f[2]!) });
      }
    }
    return out;
  }

  async stop(): Promise<void> {
    if (this.root === undefined) return;
    const results = await Promise.allSettled([...this.nodes.keys()].map((name) => this.stopDevice(name)));
    process.off('exit', this.killAll);
    await rm(this.root, { recursive: true, force: true });
    this.root = undefined;
    this.nodes = new Map();
    this.paused.clear();
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private node(name: string): Node {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`SyncthingDriver: no device ${JSON.stringify(name)} (started: ${[...this.nodes.keys()].join(', ') || 'none'})`);
    return n;
  }

  private scenarioId(scenario: string): string {
    if (!this.scenarios.includes(scenario)) throw new Error(`SyncthingDriver: unknown scenario ${JSON.stringify(scenario)}`);
    return scenario;
  }

  private folderPath(name: string, scenario: string): string {
    return path.join(this.root!, name, 'folders', this.scenarioId(scenario));
  }

  /** `syncthing generate` (keys and a config we only take the version from) and the device id. */
  private async generate(name: string): Promise<{ home: string; id: string }> {
    const home = path.join(this.root!, name, 'home');
    await run(this.binary, ['generate', '--home', home, '--no-default-folder', '--skip-port-probing']);
    const { stdout } = await run(this.binary, ['serve', '--home', home, '--device-id']);
    const id = stdout.trim();
    if (!/^([A-Z2-7]{7}-){7}[A-Z2-7]{7}$/.test(id)) throw new Error(`SyncthingDriver: unexpected device id ${JSON.stringify(stdout)}`);
    return { home, id };
  }

  private configXml(self: Node, version: string, listen: Map<string, number>): string {
    const all = [...this.nodes.values()];
    const folders = this.scenarios.map((s) => `
  <folder id="${s}" label="${s}" path="${xmlAttr(this.folderPath(self.name, s))}" type="sendreceive" rescanIntervalS="86400" fsWatcherEnabled="true" fsWatcherDelayS="${this.fsWatcherDelayS}" ignorePerms="false" autoNormalize="true">
    <filesystemType>basic</filesystemType>
${all.map((n) => `    <device id="${n.id}" introducedBy=""></device>`).join('\n')}
    <minDiskFree unit="%">1</minDiskFree>
    <markerName>.stfolder</markerName>
    <maxConflicts>10</maxConflicts>
  </folder>`);
    // Only the device listed first dials: when both dial at once, 1.19 can deadlock in the Hello
    // exchange (each handles its own outgoing connection first) until a 20 s timeout. "dynamic"
    // resolves to nothing here, discovery being off.
    const devices = all.map((n) => `
  <device id="${n.id}" name="${n.name}" compression="metadata" introducer="false">
    <address>${n.index > self.index ? `tcp://127.0.0.1:${listen.get(n.name)}` : 'dynamic'}</address>
    <paused>false</paused>
    <autoAcceptFolders>false</autoAcceptFolders>
  </device>`);
    return `<configuration version="${version}">${folders.join('')}${devices.join('')}
  <gui enabled="true" tls="false" debugging="false">
    <address>127.0.0.1:${self.guiPort}</address>
    <apikey>${API_KEY}</apikey>
  </gui>
  <options>
    <listenAddress>tcp://127.0.0.1:${listen.get(self.name)}</listenAddress>
    <globalAnnounceEnabled>false</globalAnnounceEnabled>
    <localAnnounceEnabled>false</localAnnounceEnabled>
    <relaysEnabled>false</relaysEnabled>
    <natEnabled>false</natEnabled>
    <announceLANAddresses>false</announceLANAddresses>
    <stunKeepaliveStartS>0</stunKeepaliveStartS>
    <stunKeepaliveMinS>0</stunKeepaliveMinS>
    <urAccepted>-1</urAccepted>
    <crashReportingEnabled>false</crashReportingEnabled>
    <autoUpgradeIntervalH>0</autoUpgradeIntervalH>
    <startBrowser>false</startBrowser>
    <restartOnWakeup>false</restartOnWakeup>
    <reconnectionIntervalS>5</reconnectionIntervalS>
  </options>
</configuration>
`;
  }

  /**
   * Makes `from` dial `to` at once (and unpauses `to` on `from`). 1.19 dials from a loop that sleeps
   * at least 5 s and wakes it early only when a device's addresses change; an address dialed in the
   * last reconnectionIntervalS (5 s at least) is then still skipped. So give the peer an address
   * never used before: the same `tcp://127.0.0.1:<port>` with a fresh path, which the dialer ignores.
   */
  private async dialNow(from: Node, to: Node): Promise<void> {
    const url = `/rest/config/devices/${to.id}`;
    const [address] = (await this.api<{ addresses: string[] }>(from, 'GET', url)).addresses;
    const fresh = `${address!.replace(/\/\d*$/, '')}/${++this.dials}`;
    await this.api(from, 'PATCH', url, { paused: false, addresses: [fresh] });
  }

  private async api<T = unknown>(node: Node, method: 'GET' | 'POST' | 'PATCH', urlPath: string, json?: unknown): Promise<T> {
    const res = await fetch(`http://127.0.0.1:${node.guiPort}${urlPath}`, {
      method,
      headers: { 'X-API-Key': API_KEY, ...(json === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: json === undefined ? null : JSON.stringify(json),
      signal: AbortSignal.timeout(30_000),
    }).catch((err: Error) => {
      throw new Error(`${node.name}: ${method} ${urlPath}: ${err.message} (${(err.cause as Error | undefined)?.message ?? 'no cause'})`);
    });
    const body = await res.text();
    if (!res.ok) throw new Error(`${node.name}: ${method} ${urlPath} → ${res.status} ${body.trim()}`);
    return (body === '' ? undefined : JSON.parse(body)) as T;
  }

  private async logTail(node: Node): Promise<string> {
    const text = await readFile(path.join(node.home, 'syncthing.log'), 'utf8').catch(() => '(no log)');
    return text.split('\n').slice(-30).join('\n');
  }
}

interface DbStatus {
  state: string;
  sequence: number;
  needTotalItems: number;
  needBytes: number;
  pullErrors: number;
}

interface Completion {
  completion: number;
  needItems: number;
}

export interface Connection {
  connected: boolean;
  paused: boolean;
  /** The peer's address as seen from here, `ip:port`. */
  address: string;
  type: string;
}

/**
 * The 64-bit short id of a device id string (`XXXXXXX-…`, 8 groups of 7 base32 characters): drop
 * the dashes and the Luhn check character that ends every 14, base32-decode the 52 left to the
 * 32-byte id, read its first 8 bytes big-endian (lib/protocol/deviceid.go).
 */
export function syncthingShortId(id: string): bigint {
  const s = id.replace(/-/g, '');
  if (!/^[A-Z2-7]{56}$/.test(s)) throw new Error(`not a Syncthing device id: ${id}`);
  let data = '';
  for (let i = 0; i < 4; i++) data += s.slice(i * 14, i * 14 + 13);
  let bits = '';
  for (const c of data) bits += 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'.indexOf(c).toString(2).padStart(5, '0');
  return BigInt(`0b${bits.slice(0, 64)}`);
}

function xmlAttr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
}

function linkKey(a: string, b: string): string {
  return [a, b].sort().join('|');
}


/** n distinct free TCP ports on 127.0.0.1 (all held open while picking, so no duplicates). */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<net.Server>((resolve, reject) => {
      const s = net.createServer().once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/**
 * Live (non-zombie) processes of a session, from /proc/<pid>/stat. The monitor leads the session
 * (spawned detached, i.e. setsid); the child it forks gets a process group of its own, same session.
 */
function sessionPids(sid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid pgrp session …"; comm may contain spaces and parentheses.
    const [state, , , session] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(session) === sid && state !== 'Z') pids.push(Number(entry));
  }
  return pids;
}

async function sessionGone(sid: number, timeoutMs: number): Promise<boolean> {
  return untilOk(() => (sessionPids(sid).length === 0 ? undefined : 'running'), { timeoutMs, everyMs: POLL_MS, what: 'exit' }).then(() => true, () => false);
}

/** Synchronous, so that it also works from a process 'exit' handler. */
function killSession(sid: number): void {
  for (const pid of sessionPids(sid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // ESRCH: already gone
    }
  }
}

/** /proc/net address `0100007F:1F90` or 32-hex-digit IPv6 → `127.0.0.1:8080` / `[::1]:8080`. */
function procAddr(hex: string): string {
  const [ip, port] = hex.split(':') as [string, string];
  // The address is stored as 32-bit words in host (little-endian) order.
  const bytes = ip.match(/.{8}/g)!.flatMap((w) => w.match(/../g)!.reverse().map((b) => parseInt(b, 16)));
  const p = parseInt(port, 16);
  if (bytes.length === 4) return `${bytes.join('.')}:${p}`;
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16));
  return `[${groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::')}]:${p}`;
}

/** Whether a `SocketInfo` address (`ip:port`, `[ip6]:port`) is on the loopback interface. */
export function isLoopback(addr: string): boolean {
  const ip = addr.slice(0, addr.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  return /^127\./.test(ip) || ip === '::1' || /^::ffff:7f/.test(ip);
}
