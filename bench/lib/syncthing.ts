/**
 * The reference: Debian's Syncthing 1.19, two devices on 127.0.0.1, one shared folder (`claude`), set
 * up as session-roam does (sendreceive, watcher on, fsWatcherDelayS 2 unless told otherwise, no
 * versioning) with everything that could leave the machine turned off (as in
 * test/conformance/syncthing-driver.ts, whose findings this follows).
 *
 * B dials A (A knows B as "dynamic", i.e. never dials it): a restarted B connects at once, and B's
 * address for A may point at a counting proxy. Each device runs detached (a session of its own: the
 * monitor and the child it forks); CPU and memory are summed over the session's processes.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { sessionPids } from './proc.js';
import { sleep, trackGroup, untrackGroup } from './util.js';
import { untilOk } from '#harness/poll.js';

const run = promisify(execFile);
const API_KEY = 'roam-bench-api-key';
export const FOLDER_ID = 'claude';

export function syncthingVersion(): string | null {
  const r = spawnSync('syncthing', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

export interface StDbStatus {
  state: string;
  sequence: number;
  localFiles: number;
  localDirectories: number;
  localSymlinks: number;
  /** Counts 128 B for every directory and symlink besides the files' bytes. */
  localBytes: number;
  globalFiles: number;
  globalBytes: number;
  needTotalItems: number;
  needBytes: number;
  pullErrors: number;
}

/** Whether a device's folder holds `files` files of `bytes` bytes in all (Syncthing counts 128 B per directory). */
export function stHolds(s: StDbStatus, files: number, bytes: number): boolean {
  return s.localFiles === files && s.localBytes - 128 * (s.localDirectories + s.localSymlinks) === bytes;
}

export interface StTotals {
  inBytesTotal: number;
  outBytesTotal: number;
}

export class StDevice {
  id = '';
  guiPort = 0;
  listenPort = 0;
  proc: ChildProcess | null = null;
  spawnedAt = 0;
  readonly home: string;

  constructor(readonly root: string, readonly name: string, readonly folder: string) {
    this.home = path.join(root, 'st-home');
  }

  get running(): boolean {
    return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Throws if the device's processes exited without being asked to. */
  assertAlive(): void {
    if (this.proc && (this.proc.exitCode !== null || this.proc.signalCode !== null)) throw new Error(`syncthing ${this.name} died (${this.proc.signalCode ?? `exit ${this.proc.exitCode}`})`);
  }

  /** Every live process of this device (monitor and child). */
  pids(): number[] {
    const sid = this.proc?.pid;
    return sid === undefined ? [] : sessionPids(sid);
  }

  async api<T = unknown>(method: 'GET' | 'POST' | 'PATCH' | 'PUT', urlPath: string, json?: unknown): Promise<T> {
    const res = await fetch(`http://127.0.0.1:${this.guiPort}${urlPath}`, {
      method,
      headers: { 'X-API-Key': API_KEY, ...(json === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: json === undefined ? null : JSON.stringify(json),
      signal: AbortSignal.timeout(60_000),
    });
    const body = await res.text();
    if (!res.ok) throw new Error(`${this.name}: ${method} ${urlPath} → ${res.status} ${body.trim()}`);
    return (body === '' ? undefined : JSON.parse(body)) as T;
  }

  dbStatus(): Promise<StDbStatus> {
    return this.api<StDbStatus>('GET', `/rest/db/status?folder=${FOLDER_ID}`);
  }

  async totals(): Promise<StTotals> {
    const r = await this.api<{ total: StTotals }>('GET', '/rest/system/connections');
    return { inBytesTotal: r.total.inBytesTotal, outBytesTotal: r.total.outBytesTotal };
  }

  async connectedTo(peer: StDevice): Promise<boolean> {
    const r = await this.api<{ connections: Record<string, { connected: boolean }> }>('GET', '/rest/system/connections');
    return r.connections[peer.id]?.connected === true;
  }

  async completion(peer: StDevice): Promise<number> {
    return (await this.api<{ completion: number }>('GET', `/rest/db/completion?folder=${FOLDER_ID}&device=${peer.id}`)).completion;
  }

  async start(): Promise<void> {
    if (this.running) throw new Error(`syncthing ${this.name} already running`);
    const log = openSync(path.join(this.home, 'syncthing.log'), 'a');
    try {
      this.spawnedAt = Date.now();
      this.proc = spawn('syncthing', ['serve', '--home', this.home, '--no-browser', '--no-restart', '--no-upgrade'], {
        env: { ...process.env, STNOUPGRADE: '1', TZ: 'UTC' },
        detached: true,
        stdio: ['ignore', log, log],
      });
    } finally {
      closeSync(log);
    }
    const proc = this.proc;
    trackGroup(proc.pid!);
    let exited: string | undefined;
    proc.once('exit', (code, signal) => (exited = `exited (${signal ?? code})`));
    await untilOk(async () => {
      if (exited) throw new Error(`syncthing ${this.name} ${exited}:\n${await this.logTail()}`);
      return (await this.api('GET', '/rest/system/ping').then(() => true, () => false)) ? undefined : 'not up';
    }, { what: `syncthing ${this.name} REST API`, timeoutMs: 60_000, everyMs: 25 });
  }

  async stop(): Promise<void> {
    const sid = this.proc?.pid;
    if (sid === undefined) return;
    await this.api('POST', '/rest/system/shutdown').catch(() => undefined);
    const gone = async (ms: number) => untilOk(() => (sessionPids(sid).length === 0 ? undefined : 'running'), { what: 'exit', timeoutMs: ms, everyMs: 50 }).then(() => true, () => false);
    if (!(await gone(20_000))) {
      for (const pid of sessionPids(sid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      await gone(5_000);
    }
    untrackGroup(sid);
    this.proc = null;
  }

  /** Forgets everything B knew (its database), keeping its keys: a fresh install of the same device. */
  async wipeDatabase(): Promise<void> {
    if (this.running) throw new Error('stop it first');
    for (const entry of ['index-v0.14.0.db', 'index-v0.14.0.db-migrated']) await rm(path.join(this.home, entry), { recursive: true, force: true });
  }

  async logTail(): Promise<string> {
    const text = await readFile(path.join(this.home, 'syncthing.log'), 'utf8').catch(() => '(no log)');
    return text.split('\n').slice(-30).join('\n');
  }
}

export interface StPairOptions {
  delayS: number;
  /** Where B dials A (a proxy); default A's own listen address. */
  dialPort?: number;
}

/**
 * Two devices A and B sharing one folder. `create` generates keys and config but starts nothing.
 */
export class StPair {
  private constructor(readonly a: StDevice, readonly b: StDevice, readonly delayS: number) {}

  static async create(rootA: string, folderA: string, rootB: string, folderB: string, opts: StPairOptions): Promise<StPair> {
    const a = new StDevice(rootA, 'A', folderA);
    const b = new StDevice(rootB, 'B', folderB);
    const ports = await freePorts(4);
    a.listenPort = ports[0]!;
    a.guiPort = ports[1]!;
    b.listenPort = ports[2]!;
    b.guiPort = ports[3]!;
    for (const d of [a, b]) {
      await mkdir(d.home, { recursive: true });
      await run('syncthing', ['generate', '--home', d.home, '--no-default-folder', '--skip-port-probing']);
      d.id = (await run('syncthing', ['serve', '--home', d.home, '--device-id'])).stdout.trim();
      await mkdir(path.join(d.folder, '.stfolder'), { recursive: true });
    }
    const pair = new StPair(a, b, opts.delayS);
    await pair.writeConfigs(opts.dialPort ?? a.listenPort);
    return pair;
  }

  /** (Re)writes both config.xml files; B dials A at `dialPort`. */
  async writeConfigs(dialPort: number): Promise<void> {
    const { a, b } = this;
    for (const self of [a, b]) {
      const file = path.join(self.home, 'config.xml');
      const version = /<configuration version="(\d+)"/.exec(await readFile(file, 'utf8'))?.[1] ?? '35';
      const other = self === a ? b : a;
      const otherAddr = self === b ? `tcp://127.0.0.1:${dialPort}` : 'dynamic';
      const xml = `<configuration version="${version}">
  <folder id="${FOLDER_ID}" label="${FOLDER_ID}" path="${xmlAttr(self.folder)}" type="sendreceive" rescanIntervalS="86400" fsWatcherEnabled="true" fsWatcherDelayS="${this.delayS}" ignorePerms="false" autoNormalize="true">
    <filesystemType>basic</filesystemType>
    <device id="${a.id}" introducedBy=""></device>
    <device id="${b.id}" introducedBy=""></device>
    <minDiskFree unit="%">1</minDiskFree>
    <markerName>.stfolder</markerName>
    <maxConflicts>10</maxConflicts>
  </folder>
  <device id="${self.id}" name="${self.name}" compression="metadata" introducer="false">
    <address>dynamic</address>
    <paused>false</paused>
    <autoAcceptFolders>false</autoAcceptFolders>
  </device>
  <device id="${other.id}" name="${other.name}" compression="metadata" introducer="false">
    <address>${otherAddr}</address>
    <paused>false</paused>
    <autoAcceptFolders>false</autoAcceptFolders>
  </device>
  <gui enabled="true" tls="false" debugging="false">
    <address>127.0.0.1:${self.guiPort}</address>
    <apikey>${API_KEY}</apikey>
  </gui>
  <options>
    <listenAddress>tcp://127.0.0.1:${self.listenPort}</listenAddress>
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
      await writeFile(file, xml);
    }
  }

  /** A's folder scanned: idle and holding `files` files / `bytes` bytes. */
  async waitScanned(dev: StDevice, files: number, bytes: number, timeoutMs: number): Promise<void> {
    await untilOk(async () => {
      const s = await dev.dbStatus();
      return s.state === 'idle' && stHolds(s, files, bytes) ? undefined : `state ${s.state}, ${s.localFiles} files / ${s.localBytes} B`;
    }, { what: `syncthing ${dev.name} scan`, timeoutMs: timeoutMs, everyMs: 100 });
  }

  /**
   * Both sides agree: connected, idle, nothing needed, each 100 % complete for the other, and the
   * local sequences unchanged over two polls (a pull ends with a scan of what it moved).
   */
  async settled(timeoutMs: number, expect?: { files: number; bytes: number }, everyMs = 100): Promise<void> {
    const { a, b } = this;
    let previous = '';
    await untilOk(async () => {
      const problems: string[] = [];
      const seqs: number[] = [];
      for (const [d, peer] of [[a, b], [b, a]] as const) {
        if (!(await d.connectedTo(peer))) {
          problems.push(`${d.name} not connected`);
          continue;
        }
        const s = await d.dbStatus();
        seqs.push(s.sequence);
        if (s.state !== 'idle' || s.needTotalItems !== 0 || s.needBytes !== 0) problems.push(`${d.name}: ${s.state}, needs ${s.needTotalItems} items / ${s.needBytes} B`);
        if (expect && !stHolds(s, expect.files, expect.bytes)) problems.push(`${d.name}: ${s.localFiles} files / ${s.localBytes} B`);
        const c = await d.completion(peer);
        if (c !== 100) problems.push(`${d.name}: peer ${c}% complete`);
      }
      const now = seqs.join(',');
      if (problems.length) {
        previous = '';
        return problems.join('; ');
      }
      if (now !== previous) {
        previous = now;
        return 'confirming on the next poll';
      }
      return undefined;
    }, { what: 'syncthing settled', timeoutMs: timeoutMs, everyMs: everyMs });
  }

  async stop(): Promise<void> {
    await Promise.allSettled([this.a.stop(), this.b.stop()]);
  }

  /** Scan now (a write the watcher has not reported yet). */
  async scan(d: StDevice): Promise<void> {
    await d.api('POST', `/rest/db/scan?folder=${FOLDER_ID}`);
  }
}

export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<net.Server>((resolve, reject) => {
      const s = net.createServer().once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await sleep(0);
  return ports;
}

function xmlAttr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
}
