/**
 * roamd: one engine over every synced folder, the libp2p network, a watcher per folder, and the
 * control socket that `roam` talks to.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { Engine, ErrorCodes, RoamError, type FolderStore } from '@roam/core';
import { FsFolderStore, nodeHasher } from '@roam/core/node';
import { ControlServer, type Handler } from '../control/server.js';
import type { PeerStatus, ProjectInfo, Status } from '../control/protocol.js';
import type { DeviceInfo, LeaveResult, PairResult, UnpairResult } from '../pairing/api.js';
import { Trust } from '../pairing/trust.js';
import { VERSION } from '../version.js';
import { defaultDeviceName, folderList, groupKeyFromEnv, readConfigFile, type FolderSpec } from './config.js';
import { roamPaths, type RoamPaths } from './home.js';
import { loadIdentity } from './identity.js';
import type { IgnoreRules } from '@roam/core';
import { ignoreRulesFor } from './ignore.js';
import { Network, deviceIdOf } from './net.js';
import { FolderWatcher } from './watcher.js';

export interface DaemonOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly listen?: readonly string[];
  readonly peers?: readonly string[];
  readonly mdns?: boolean;
  readonly name?: string;
  /** Where log lines go besides the log file (roamd prints them). */
  readonly echo?: (line: string) => void;
}

/** What a device remembers of a peer across restarts. */
interface KnownPeer {
  name: string;
  peerId: string;
  lastSeen: number | null;
}

const LOG_RING = 2000;

export class Daemon {
  readonly paths: RoamPaths;
  readonly folders: readonly FolderSpec[];
  private engine!: Engine;
  private network!: Network;
  private trust!: Trust;
  private control!: ControlServer;
  private readonly watchers: FolderWatcher[] = [];
  private readonly stores = new Map<string, FolderStore>();
  /** Ignore rules and selective sync per folder; replaced by `reload`. */
  private readonly rules = new Map<string, IgnoreRules>();
  private readonly ring: string[] = [];
  private readonly followers = new Set<(line: string) => void>();
  private logFile!: WriteStream;
  private known = new Map<string, KnownPeer>();
  private name = '';
  private stopping: Promise<void> | null = null;

  private constructor(paths: RoamPaths, folders: FolderSpec[], private readonly opts: DaemonOptions) {
    this.paths = paths;
    this.folders = folders;
  }

  static async start(opts: DaemonOptions = {}): Promise<Daemon> {
    const env = opts.env ?? process.env;
    const paths = roamPaths(env);
    await mkdir(paths.config, { recursive: true, mode: 0o700 });
    await mkdir(paths.state, { recursive: true, mode: 0o700 });
    const cfg = readConfigFile(paths.configFile);
    const groupKey = groupKeyFromEnv(env);
    const d = new Daemon(paths, folderList(cfg, env), opts);
    d.name = opts.name ?? cfg.name ?? defaultDeviceName();
    d.logFile = createWriteStream(paths.log, { flags: 'a', mode: 0o600 });
    try {
      await d.open(cfg, groupKey);
    } catch (err) {
      await d.stop();
      throw err;
    }
    return d;
  }

  private async open(cfg: ReturnType<typeof readConfigFile>, groupKey: Uint8Array | undefined): Promise<void> {
    const key = await loadIdentity(this.paths.identity);
    this.known = await this.loadKnown();
    // Watch first, so nothing written between the start-up scan and the watcher is missed.
    const early = new Map<string, Set<string> | null>();
    let engine: Engine | undefined;
    const onChange = (folder: string) => (names: string[] | null) => {
      if (engine) void engine.scan(folder, names ?? undefined);
      else {
        const set = early.get(folder);
        if (names === null || set === null) early.set(folder, null);
        else early.set(folder, new Set([...(set ?? []), ...names]));
      }
    };
    for (const f of this.folders) {
      await mkdir(f.path, { recursive: true });
      this.rules.set(f.id, ignoreRulesFor(f.path, cfg.only?.[f.id] ?? null));
      const ignore = (name: string) => this.rules.get(f.id)!.ignores(name);
      this.stores.set(f.id, await FsFolderStore.create({ root: f.path, stateDir: join(this.paths.state, 'folders', f.id), hasher: nodeHasher, ignore }));
      this.watchers.push(
        await FolderWatcher.start(f.path, ignore, onChange(f.id), {
          onError: (err) => this.log(`watcher ${f.id}: ${String(err)}`),
          // An edited .roamignore applies at once.
          onRulesChanged: () => void this.reloadRules().catch((err: unknown) => this.log(`reloading ${f.id}/.roamignore: ${String(err)}`)),
        }),
      );
    }
    if (!this.folders.length) this.log('no folders to sync: none of the tools\' session folders exists and config.json names none');

    const deviceId = deviceIdOf(peerIdFromPrivateKey(key).toString());
    engine = await Engine.open({
      device: deviceId,
      name: this.name,
      software: `roam ${VERSION}`,
      folders: this.folders.map((f) => ({ id: f.id, conflict: f.conflict, logDeletes: f.logDeletes })),
      newIndexId: () => randomBytes(8).toString('hex'),
      stores: this.stores,
      hasher: nodeHasher,
      clock: { now: Date.now },
      log: (line) => this.log(line),
      ignores: (folder, name) => this.rules.get(folder)?.ignores(name) ?? false,
      ignoreLines: (folder) => this.rules.get(folder)?.lines ?? [],
      only: (folder) => {
        const only = this.rules.get(folder)?.only;
        return only ? [...only] : null;
      },
    });
    this.engine = engine;
    for (const [folder, names] of early) void engine.scan(folder, names === null ? undefined : [...names]);
    const listen = [...(this.opts.listen?.length ? this.opts.listen : cfg.listen ?? ['/ip4/0.0.0.0/tcp/0'])];
    const mdns = this.opts.mdns ?? cfg.mdns ?? true;
    // Who may connect: ROAM_GROUP_KEY's holders, or the paired group's members (nobody before pairing).
    const trust = Trust.open({
      configDir: this.paths.config,
      privateKey: key,
      name: this.name,
      ...(groupKey ? { envKey: groupKey } : {}),
      mdns,
      listen,
      log: (line) => this.log(line),
      onForget: (peerId) => this.forget(peerId),
    });
    this.trust = trust;
    this.network = await Network.create({
      privateKey: key,
      listen,
      peers: [...(this.opts.peers ?? []), ...(cfg.peers ?? [])],
      mdns,
      ...(groupKey
        ? { groupKey }
        : { protector: trust.protector!, allow: (peerId: string) => trust.allows(peerId), syncReady: (peerId: string) => trust.syncReady(peerId) }),
      sink: engine,
      log: (line) => this.log(line),
    });
    await trust.attach(this.network);
    this.control = await ControlServer.listen(this.paths.socket, this.handlers());
    this.log(`roamd ${VERSION} started as ${this.name} (${this.network.peerId}), ${this.folders.length} folder(s)`);
  }

  // ---------------------------------------------------------------- status

  status(): Status {
    const net = this.network;
    const peers: PeerStatus[] = net.peers().map((p) => {
      const states = p.connected ? this.engine.syncState(p.deviceId) : [];
      const sum = (pick: (s: (typeof states)[number]) => { items: number; bytes: number }) =>
        states.reduce((a, s) => ({ items: a.items + pick(s).items, bytes: a.bytes + pick(s).bytes }), { items: 0, bytes: 0 });
      const known = this.known.get(p.deviceId);
      const name = this.engine.replicator.peerName(p.deviceId) ?? known?.name ?? p.deviceId;
      if (p.connected && (!known || known.name !== name || known.lastSeen !== p.lastSeen)) this.remember(p.deviceId, { name, peerId: p.peerId, lastSeen: p.lastSeen });
      return {
        peerId: p.peerId, deviceId: p.deviceId, name, connected: p.connected, paused: p.paused,
        lastSeen: p.lastSeen ?? known?.lastSeen ?? null, addresses: p.addresses,
        need: sum((s) => s.need), peerNeeds: sum((s) => s.peerNeeds),
        inSync: p.connected && states.length > 0 && states.every((s) => s.inSync),
      };
    });
    for (const [deviceId, k] of this.known) {
      if (!peers.some((p) => p.deviceId === deviceId)) {
        peers.push({ peerId: k.peerId, deviceId, name: k.name, connected: false, paused: false, lastSeen: k.lastSeen, addresses: [], need: { items: 0, bytes: 0 }, peerNeeds: { items: 0, bytes: 0 }, inSync: false });
      }
    }
    const folders = this.folders.map((f) => {
      const items = this.engine.replicator.localItems(f.id).filter((m) => !m.deleted);
      return { id: f.id, path: f.path, items: items.length, bytes: items.reduce((a, m) => a + m.size, 0) };
    });
    const traffic = { bytesIn: this.engine.stats.bytesIn, bytesOut: this.engine.stats.bytesOut };
    return { version: VERSION, peerId: net.peerId, deviceId: net.deviceId, name: this.name, addresses: net.addresses(), peers, folders, traffic };
  }

  private handlers(): Record<string, Handler> {
    const peerArg = (params: Record<string, unknown>): string | undefined => {
      const d = params.device;
      if (d === undefined || d === null) return undefined;
      const match = this.status().peers.find((p) => p.name === d || p.peerId === d || p.deviceId === d);
      if (!match) throw new RoamError(ErrorCodes.USAGE, `no known device ${JSON.stringify(d)}; see \`roam status\``);
      return match.peerId;
    };
    return {
      status: async () => this.status(),
      projects: async () => {
        const out: ProjectInfo[] = [];
        for (const f of this.folders) {
          const count = new Map<string, { here: number; onPeers: number }>();
          const bump = (name: string, k: 'here' | 'onPeers') => {
            const top = name.split('/')[0]!;
            const c = count.get(top) ?? { here: 0, onPeers: 0 };
            c[k]++;
            count.set(top, c);
          };
          for (const m of this.engine.replicator.localItems(f.id)) if (!m.deleted) bump(m.name, 'here');
          for (const name of this.engine.replicator.peerItems(f.id)) bump(name, 'onPeers');
          const only = this.rules.get(f.id)?.only ?? null;
          for (const [name, c] of [...count].sort(([a], [b]) => (a < b ? -1 : 1))) out.push({ folder: f.id, name, synced: !only || only.has(name), ...c });
        }
        return out;
      },
      reload: async () => {
        await this.reloadRules();
        return this.status();
      },
      scan: async () => {
        await Promise.all(this.folders.map((f) => this.engine.scan(f.id)));
        return null;
      },
      pause: async (params) => {
        await this.network.pause(peerArg(params));
        return this.status();
      },
      unpause: async (params) => {
        await this.network.unpause(peerArg(params));
        return this.status();
      },
      pair: async (params, stream, closed) => {
        const timeout = typeof params.timeout === 'number' && params.timeout > 0 ? params.timeout * 1000 : undefined;
        if (typeof params.code === 'string') {
          const r = await this.trust.join(params.code, timeout ?? 30_000);
          return { joined: r.inviter, devices: this.devices() } satisfies PairResult;
        }
        const inv = await this.trust.invite(timeout ?? 600_000);
        // The code goes to the command only (never to the log).
        stream({ code: inv.code, expiresAt: inv.expiresAt });
        void closed.then(() => inv.cancel());
        const joined = await inv.outcome;
        return { joined, devices: this.devices() } satisfies PairResult;
      },
      devices: async () => this.devices(),
      unpair: async (params) => {
        if (typeof params.device !== 'string' || !params.device) throw new RoamError(ErrorCodes.USAGE, 'name the device to remove');
        const r = await this.trust.unpair(params.device, deviceIdOf);
        return { removed: { peerId: r.peerId, name: r.name }, generation: r.generation, devices: this.devices() } satisfies UnpairResult;
      },
      leave: async (): Promise<LeaveResult> => this.trust.leave(),
      logs: async (params, stream, closed) => {
        const lines = [...this.ring];
        if (!params.follow) return lines;
        for (const l of lines) stream(l);
        const f = (line: string) => void stream(line);
        this.followers.add(f);
        await closed;
        this.followers.delete(f);
        return null;
      },
    };
  }

  /** The group's members (with what the network knows of them), or in ROAM_GROUP_KEY mode the devices seen. */
  devices(): DeviceInfo[] {
    const s = this.status();
    const self: DeviceInfo = { name: s.name, peerId: s.peerId, deviceId: s.deviceId, lastSeen: Date.now(), addresses: s.addresses, self: true, connected: true };
    if (this.trust.mode === 'env') {
      return [self, ...s.peers.map((p) => ({ name: p.name, peerId: p.peerId, deviceId: p.deviceId, lastSeen: p.lastSeen, addresses: p.addresses, self: false, connected: p.connected }))];
    }
    const members = this.trust.members();
    if (!members.length) return [self];
    return members
      .map((m): DeviceInfo => {
        if (m.self) return self;
        const p = s.peers.find((x) => x.peerId === m.peerId);
        return {
          name: m.name, peerId: m.peerId, deviceId: deviceIdOf(m.peerId), lastSeen: p?.lastSeen ?? null,
          addresses: [...new Set([...(p?.addresses ?? []), ...m.addresses])], self: false, connected: p?.connected ?? false,
        };
      })
      .sort((a, b) => Number(b.self) - Number(a.self) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Ignore rules and selective sync: re-read, rescan what is now included, tell the peers. */
  private async reloadRules(): Promise<void> {
    const cfg = readConfigFile(this.paths.configFile);
    for (const f of this.folders) this.rules.set(f.id, ignoreRulesFor(f.path, cfg.only?.[f.id] ?? null));
    await Promise.all(this.folders.map((f) => this.engine.scan(f.id)));
    await this.engine.refreshFolders();
    this.log('reloaded ignore rules and selective sync');
  }

  // ---------------------------------------------------------------- peers remembered

  /** Forgets a device removed from the group. */
  private forget(peerId: string): void {
    const deviceId = deviceIdOf(peerId);
    if (!this.known.delete(deviceId)) return;
    void writeFile(join(this.paths.state, 'peers.json'), JSON.stringify(Object.fromEntries(this.known), null, 2), { mode: 0o600 }).catch(() => undefined);
  }

  private async loadKnown(): Promise<Map<string, KnownPeer>> {
    try {
      return new Map(Object.entries(JSON.parse(await readFile(join(this.paths.state, 'peers.json'), 'utf8')) as Record<string, KnownPeer>));
    } catch {
      return new Map();
    }
  }

  private remember(deviceId: string, k: KnownPeer): void {
    this.known.set(deviceId, k);
    void writeFile(join(this.paths.state, 'peers.json'), JSON.stringify(Object.fromEntries(this.known), null, 2), { mode: 0o600 }).catch(() => undefined);
  }

  // ---------------------------------------------------------------- log, stop

  log(line: string): void {
    const stamped = `${new Date().toISOString()} ${line}`;
    this.ring.push(stamped);
    if (this.ring.length > LOG_RING) this.ring.splice(0, this.ring.length - LOG_RING);
    this.logFile?.write(`${stamped}\n`);
    this.opts.echo?.(stamped);
    for (const f of this.followers) f(stamped);
  }

  /** Stops everything in order and flushes state. Safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.network) this.status(); // remember peers' last-seen times
      await this.control?.close().catch(() => undefined);
      await this.trust?.stop().catch(() => undefined);
      for (const w of this.watchers) await w.close().catch(() => undefined);
      await this.network?.stop().catch((err: unknown) => this.log(`network stop: ${String(err)}`));
      if (this.engine) await this.engine.close();
      else for (const s of this.stores.values()) await s.close().catch(() => undefined);
      this.log('roamd stopped');
      await new Promise<void>((resolve) => (this.logFile ? this.logFile.end(resolve) : resolve()));
    })();
    return this.stopping;
  }
}
