/**
 * roamd: one engine over every synced folder, the libp2p network, a watcher per folder, and the
 * control socket that `roam` talks to.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, watch, type FSWatcher, type WriteStream } from 'node:fs';
import { mkdir, readFile, realpath, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, posix, relative, sep } from 'node:path';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { Engine, ErrorCodes, RoamError, type FolderStore } from '@roam/core';
import { nodeHasher, type FsFolderStore } from '@roam/core/node';
import { ControlServer, type Handler } from '../control/server.js';
import type { PeerStatus, ProjectInfo, Status } from '../control/protocol.js';
import type { DeviceInfo } from '../pairing/api.js';
import { pairingHandlers } from '../pairing/handlers.js';
import { Trust } from '../pairing/trust.js';
import { VERSION } from '../version.js';
import { defaultDeviceName, folderList, groupKeyFromEnv, readConfigFile, writeConfigFile, type FileConfig, type FolderSpec } from '../machine/config.js';
import { roamPaths, type RoamPaths } from '../machine/paths.js';
import { loadIdentity } from './identity.js';
import type { IgnoreRules } from '@roam/core';
import { ignoreRulesFor } from './ignore.js';
import { openFolder } from './open-folder.js';
import { Network, deviceIdOf } from './net/index.js';
import type { FolderWatcher } from './watcher.js';
import type { MappedStore } from './mapped-store.js';
import { partialTailOptions } from './partial-tail.js';
import { rememberedHeadIds, sessionOfItem } from './activity.js';
import type { ToolName } from '../sessions/types.js';
import type { ProjectEntry, ProjectNames } from '../machine/project-names.js';
import { ACTIVE_MS, LEASE_TTL_MS, SHARED_FOLDER, TICK_MS, WRITE_LEASE_MS, deviceHome, readShared, writeShared, type Lease, type SharedInfo } from './shared.js';
import { liveClaudeSessions } from '../tools/claude/live.js';
import { gitIdentity } from '../machine/git.js';
import { sessionIdOfItem, trashId, type TrashView } from '../machine/trash.js';
import { importedWrites } from '../machine/imported.js';
import { measureClock, serveClock } from './clock.js';
import { folderOffers, offerInputOf } from './offers.js';
import { FolderTaker } from './take-folders.js';

export { sessionIdOfItem, type TrashView };

export interface DaemonOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly listen?: readonly string[];
  readonly peers?: readonly string[];
  readonly mdns?: boolean;
  readonly name?: string;
  /** Where log lines go besides the log file (roamd prints them). */
  readonly echo?: (line: string) => void;
  /** Asks the owner to stop this daemon and start it again (after `roam leave`, as the new identity). */
  readonly onRestart?: () => void;
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
  /** The folders open; a folder taken while running is added (`addFolder`). */
  readonly folders: FolderSpec[];
  private engine!: Engine;
  private network!: Network;
  private trust!: Trust;
  private control!: ControlServer;
  private readonly watchers: FolderWatcher[] = [];
  private readonly stores = new Map<string, FolderStore>();
  /** Each folder's file store (under the mapped one for Claude Code): its trash is `roam restore`'s. */
  private readonly fsStores = new Map<string, FsFolderStore>();
  private trashTimer: NodeJS.Timeout | null = null;
  /** Claude Code's projects folder: wire names ↔ this device's project keys. */
  private projectNames: ProjectNames | null = null;
  private mapped: MappedStore | null = null;
  /** roam's own folder: one file per device with its leases and its projects' git remotes. */
  private sharedDir = '';
  private shared: SharedInfo | null = null;
  private deviceId = '';
  /** Whether a change is `roam import`'s own write (no lease: machine/imported.ts). */
  private readonly importedWrite: ReturnType<typeof importedWrites>;
  /** Sessions whose log grew here: id → first and last time. */
  private readonly activity = new Map<string, { tool: ToolName; since: number; last: number; project: string | null }>();
  private readonly leaseSince = new Map<string, number>();
  /** Gemini sessions' ids, read once from each file's first line. */
  private readonly headIds = rememberedHeadIds();
  private tick: NodeJS.Timeout | null = null;
  /** Claude Code's live-session registry, watched so a session closed here is released at once. */
  private registryWatch: FSWatcher | null = null;
  private registryTimer: NodeJS.Timeout | null = null;
  /** Ignore rules and selective sync per folder; replaced by `reload`. */
  private readonly rules = new Map<string, IgnoreRules>();
  private readonly ring: string[] = [];
  private readonly followers = new Set<(line: string) => void>();
  private logFile!: WriteStream;
  private known = new Map<string, KnownPeer>();
  private name = '';
  private stopping: Promise<void> | null = null;
  /** A watcher's change in a folder: to the engine (or held until it is open). Opted out: config.json `exclude`. */
  private onChange!: (folder: string) => (local: string[] | null) => void;
  private excluded = new Set<string>();
  private readonly taker = new FolderTaker({ offerInput: () => offerInputOf(this.engine, this.folders, this.excluded, this.env), add: (spec) => this.addFolder(spec), log: (line) => this.log(line) });

  private constructor(paths: RoamPaths, folders: FolderSpec[], private readonly opts: DaemonOptions) {
    this.paths = paths;
    this.importedWrite = importedWrites(paths.state);
    this.folders = folders;
  }

  private get env(): NodeJS.ProcessEnv {
    return this.opts.env ?? process.env;
  }

  static async start(opts: DaemonOptions = {}): Promise<Daemon> {
    const env = opts.env ?? process.env;
    const paths = roamPaths(env);
    await mkdir(paths.config, { recursive: true, mode: 0o700 });
    await mkdir(paths.state, { recursive: true, mode: 0o700 });
    const cfg = readConfigFile(paths.configFile);
    const groupKey = groupKeyFromEnv(env);
    const sharedDir = join(paths.state, 'shared');
    const d = new Daemon(paths, [...folderList(cfg, env), { id: SHARED_FOLDER, path: sharedDir, conflict: 'syncthing', logDeletes: 'propagate' }], opts);
    d.sharedDir = sharedDir;
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
    this.excluded = new Set(cfg.exclude ?? []);
    this.onChange = (folder: string) => (local: string[] | null) => {
      const names = local && folder === 'claude' && this.projectNames ? local.map((n) => this.projectNames!.toWire(n)) : local;
      if (folder === SHARED_FOLDER && engine) void this.remapByRemote().catch((err: unknown) => this.log(`mapping projects by git remote: ${String(err)}`));
      if (engine) void engine.scan(folder, names ?? undefined);
      else {
        const set = early.get(folder);
        if (names === null || set === null) early.set(folder, null);
        else early.set(folder, new Set([...(set ?? []), ...names]));
      }
    };
    for (const f of this.folders) await this.openFolder(f, cfg);
    if (this.folders.length === 1) this.log('no folders yet: none of the tools\' session folders exists here and config.json names none; roamd takes a tool\'s folder that a peer shares, or that appears here');

    const deviceId = deviceIdOf(peerIdFromPrivateKey(key).toString());
    this.deviceId = deviceId;
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
      declined: () => [...this.excluded],
      ...partialTailOptions(this.env, this.folders, () => this.ownLeases(Date.now()), this.headIds),
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
    await serveClock(this.network);
    this.control = await ControlServer.listen(this.paths.socket, this.handlers());
    this.refreshShared();
    this.tick = setInterval(() => {
      if (!this.registryWatch) this.watchRegistry();
      this.refreshShared();
    }, TICK_MS);
    this.tick.unref();
    this.watchRegistry();
    this.startTrashExpiry();
    this.taker.start();
    this.log(`roamd ${VERSION} started as ${this.name} (${this.network.peerId}), ${this.folders.length - 1} folder(s)`);
  }

  /** A folder taken while running (`FolderTaker`): opened, added to the engine (which announces it); on failure nothing stays open. */
  private async addFolder(spec: FolderSpec): Promise<void> {
    const watchers = this.watchers.length;
    try {
      const store = await this.openFolder(spec, readConfigFile(this.paths.configFile));
      await this.engine.addFolder({ id: spec.id, conflict: spec.conflict, logDeletes: spec.logDeletes }, store);
    } catch (err) {
      for (const w of this.watchers.splice(watchers)) await w.close().catch(() => undefined);
      await this.fsStores.get(spec.id)?.close().catch(() => undefined);
      for (const m of [this.fsStores, this.stores]) m.delete(spec.id);
      throw err;
    }
    this.folders.push(spec);
  }

  /** Opens a folder's store and watcher (open-folder.ts), and records them (not yet in the engine). */
  private async openFolder(f: FolderSpec, cfg: FileConfig): Promise<FolderStore> {
    const o = await openFolder(f, cfg, {
      home: this.env.HOME || homedir(), stateDir: this.paths.state, rules: this.rules,
      onChange: (folder) => this.onChange(folder),
      onRulesChanged: (folder) => void this.reloadRules().catch((err: unknown) => this.log(`reloading ${folder}/.roamignore: ${String(err)}`)),
      noteActivity: (folder, root, changes) => this.noteActivity(folder, root, changes),
      mapOverrides: () => readConfigFile(this.paths.configFile).map ?? {},
      sharedDir: this.sharedDir, self: () => this.deviceId,
      log: (line) => this.log(line),
      opened: ({ watcher, fsStore }) => (watcher && this.watchers.push(watcher), fsStore && this.fsStores.set(f.id, fsStore)),
    });
    if (o.names) [this.projectNames, this.mapped] = [o.names, o.mapped];
    this.stores.set(f.id, o.store);
    return o.store;
  }

  // ---------------------------------------------------------------- status

  status(): Status {
    const net = this.network;
    const input = offerInputOf(this.engine, this.folders, this.excluded, this.env);
    const offer = folderOffers(input);
    const peers: PeerStatus[] = net.peers().map((p) => {
      const states = p.connected ? input.peers.find((x) => x.deviceId === p.deviceId)?.states ?? this.engine.syncState(p.deviceId) : [];
      const offers = p.connected ? offer.offers.get(p.deviceId) ?? [] : [];
      const sum = (pick: (s: (typeof states)[number]) => { items: number; bytes: number }) =>
        states.reduce((a, s) => ({ items: a.items + pick(s).items, bytes: a.bytes + pick(s).bytes }), { items: 0, bytes: 0 });
      const known = this.known.get(p.deviceId);
      const name = this.engine.replicator.peerName(p.deviceId) ?? known?.name ?? p.deviceId;
      if (p.connected && (!known || known.name !== name || known.lastSeen !== p.lastSeen)) this.remember(p.deviceId, { name, peerId: p.peerId, lastSeen: p.lastSeen });
      return {
        peerId: p.peerId, deviceId: p.deviceId, name, connected: p.connected, paused: p.paused,
        lastSeen: p.lastSeen ?? known?.lastSeen ?? null, addresses: p.addresses,
        need: sum((s) => s.need), peerNeeds: sum((s) => s.peerNeeds), offers, optedOut: p.connected ? offer.optedOut.get(p.deviceId) ?? [] : [],
        // Not while the peer offers a folder this device neither holds nor skips.
        inSync: p.connected && states.length > 0 && states.every((s) => s.inSync) && offers.length === 0,
      };
    });
    for (const [deviceId, k] of this.known) {
      if (!peers.some((p) => p.deviceId === deviceId)) {
        peers.push({ peerId: k.peerId, deviceId, name: k.name, connected: false, paused: false, lastSeen: k.lastSeen, addresses: [], need: { items: 0, bytes: 0 }, peerNeeds: { items: 0, bytes: 0 }, offers: [], optedOut: [], inSync: false });
      }
    }
    // roam's own folder (leases, projects' remotes) is an implementation detail, not the user's.
    const folders = this.folders.filter((f) => f.id !== SHARED_FOLDER).map((f) => {
      const items = this.engine.replicator.localItems(f.id).filter((m) => !m.deleted);
      return { id: f.id, path: f.path, items: items.length, bytes: items.reduce((a, m) => a + m.size, 0) };
    });
    const traffic = { bytesIn: this.engine.stats.bytesIn, bytesOut: this.engine.stats.bytesOut };
    return { version: VERSION, peerId: net.peerId, deviceId: net.deviceId, name: this.name, addresses: net.addresses(), peers, folders, offered: offer.offered, skipped: offer.skipped, traffic };
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
          if (f.id === SHARED_FOLDER) continue;
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
      ...pairingHandlers({
        trust: () => this.trust, devices: () => this.devices(), deviceIdOf, identityFile: this.paths.identity, restart: this.opts.onRestart, log: (l) => this.log(l),
      }),
      devices: async () => this.devices(),
      // Each connected device's clock against this one's, by round trips (daemon/clock.ts).
      clock: async () => Promise.all(this.network.connectedPeers().map((p) => measureClock(this.network, p).catch((err: unknown) => ({ peerId: p, error: String(err) })))),
      leases: async (params) => {
        const now = Date.now();
        const session = typeof params.session === 'string' ? params.session : null;
        const wanted = (l: Lease) => session === null || l.session === session;
        const mine = this.ownLeases(now).filter(wanted).map((l) => ({ ...l, device: this.deviceId, name: this.name, self: true, heartbeat: now }));
        const others = readShared(this.sharedDir)
          .filter((d) => d.device !== this.deviceId && now - d.updatedAt <= LEASE_TTL_MS)
          .flatMap((d) => d.leases.filter(wanted).map((l) => ({ ...l, device: d.device, name: d.name, self: false, heartbeat: d.updatedAt })));
        return { now, ttlMs: LEASE_TTL_MS, leases: [...mine, ...others] };
      },
      map: async (params) => {
        if (typeof params.wire === 'string' && typeof params.path === 'string') {
          const cfg = readConfigFile(this.paths.configFile);
          writeConfigFile(this.paths.configFile, { ...cfg, map: { ...(cfg.map ?? {}), [params.wire]: params.path } });
          return { changed: await this.remapProject(params.wire, params.path, 'roam map'), projects: this.projectMap() };
        }
        return { projects: this.projectMap() };
      },
      ...this.removeHandlers(),
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

  /**
   * Ignore rules, selective sync and opt-outs: re-read, rescan what is now included, tell the
   * peers; and take the folders config.json now names and the tools' folders that appeared.
   */
  private async reloadRules(): Promise<void> {
    const cfg = readConfigFile(this.paths.configFile);
    this.excluded = new Set(cfg.exclude ?? []);
    await this.taker.take(folderList(cfg, this.env));
    for (const f of this.folders) if (this.excluded.has(f.id)) this.log(`${f.id} is excluded in config.json but open: it stops syncing once roamd restarts`);
    for (const f of this.folders) this.rules.set(f.id, ignoreRulesFor(f.path, cfg.only?.[f.id] ?? null));
    await Promise.all(this.folders.map((f) => this.engine.scan(f.id)));
    await this.engine.refreshFolders();
    this.log('reloaded ignore rules and selective sync');
  }

  // ---------------------------------------------------------------- sessions: leases, project names

  private noteActivity(folder: string, root: string, changes: readonly { change: string; state: { name: string; mtimeMs: number; size: number } }[]): void {
    const now = Date.now();
    for (const c of changes) {
      if (c.change === 'delete') continue;
      // A log last written long ago was found, not written: the first index of a folder, or what
      // changed while roamd was down. Leasing those made every session of a 10,000-file folder
      // "being written here" for a minute (a 0.5 MB shared file sent to every peer, and resume
      // refused everywhere else).
      if (now - c.state.mtimeMs >= ACTIVE_MS) continue;
      const s = sessionOfItem(folder, root, c.state.name, this.headIds);
      // `roam import` wrote it whole: no tool is writing it (machine/imported.ts).
      if (!s || this.importedWrite(s.session, c.state.size, now)) continue;
      const prev = this.activity.get(s.session);
      this.activity.set(s.session, { tool: s.tool, since: prev && now - prev.last < WRITE_LEASE_MS ? prev.since : now, last: now, project: s.project });
    }
    if (changes.length) this.refreshShared();
  }

  private claudeConfigDir(): string | null {
    const f = this.folders.find((x) => x.id === 'claude');
    return f ? join(f.path, '..') : null;
  }

  /**
   * The leases this device holds now. Claude Code registers each open session (its live-session
   * registry): a session open there is leased, and once the registry exists, a session written to
   * by a process that has exited is not (the user stopped, and may walk to another device at once).
   * Without a registry (the other tools, older Claude Code) a session whose log grew here in the last
   * WRITE_LEASE_MS is leased.
   */
  private ownLeases(now: number): Lease[] {
    const out: Lease[] = [];
    const dir = this.claudeConfigDir();
    const registry = dir !== null && existsSync(join(dir, 'sessions'));
    for (const l of dir ? liveClaudeSessions(dir) : []) {
      if (out.some((x) => x.session === l.sessionId)) continue;
      const a = this.activity.get(l.sessionId);
      out.push({ tool: 'claude', session: l.sessionId, project: a?.project ?? null, since: this.leaseSince.get(l.sessionId) ?? now, lastActive: Math.max(a?.last ?? 0, now), pid: l.pid, cwd: l.cwd });
    }
    for (const [id, a] of this.activity) {
      if (now - a.last >= WRITE_LEASE_MS) {
        this.activity.delete(id);
        continue;
      }
      // Claude Code's registry, where it exists, says which sessions are open: growth alone is no lease then.
      if (!(registry && a.tool === 'claude') && !out.some((x) => x.session === id)) out.push({ tool: a.tool, session: id, project: a.project, since: a.since, lastActive: a.last, pid: null, cwd: null });
    }
    for (const l of out) if (!this.leaseSince.has(l.session)) this.leaseSince.set(l.session, l.since);
    for (const id of [...this.leaseSince.keys()]) if (!out.some((x) => x.session === id)) this.leaseSince.delete(id);
    return out;
  }

  /**
   * Watches Claude Code's live-session registry: a session opened or closed here changes this
   * device's leases within ~100 ms rather than at the next tick, so a user who quits the CLI and
   * walks to another device is not refused there by a lease that is already over.
   */
  private watchRegistry(): void {
    const dir = this.claudeConfigDir();
    if (!dir) return;
    try {
      this.registryWatch = watch(join(dir, 'sessions'), () => {
        if (this.registryTimer) return;
        this.registryTimer = setTimeout(() => {
          this.registryTimer = null;
          this.refreshShared();
        }, 100);
      });
      this.registryWatch.on('error', () => undefined);
      this.registryWatch.unref();
    } catch {
      // No registry yet (an older CLI, or Claude Code never ran here): the tick covers it.
    }
  }

  /** Rewrites this device's file in the shared folder when something changed or a heartbeat is due. */
  private refreshShared(): void {
    if (!this.engine || !this.sharedDir) return;
    try {
      const now = Date.now();
      const projects: SharedInfo['projects'] = {};
      for (const e of this.projectNames?.entries() ?? []) {
        if (!e.path || e.how === 'missing' || e.how === 'raw') continue;
        const g = gitIdentity(e.path);
        if (g) projects[e.wire] = { remote: g.remote, sub: g.sub };
      }
      const info: SharedInfo = { v: 1, device: this.deviceId, name: this.name, updatedAt: now, leases: this.ownLeases(now), projects, home: deviceHome(this.env) };
      if (writeShared(this.sharedDir, info, this.shared)) {
        this.shared = info;
        void this.engine.scan(SHARED_FOLDER, [`${this.deviceId}.json`]);
      }
    } catch (err) {
      this.log(`writing this device's shared state: ${String(err)}`);
    }
  }

  /** Projects stored under a directory that does not exist here, now found by a git remote a peer published. */
  private async remapByRemote(): Promise<void> {
    const names = this.projectNames;
    if (!names) return;
    for (const wire of Object.keys(names.wires())) {
      const better = names.betterPath(wire);
      if (better) await this.remapProject(wire, better, 'git remote');
    }
  }

  /** Points a project's wire name at a directory here and moves its files to that directory's key. */
  async remapProject(wire: string, path: string, why: string): Promise<{ wire: string; from: string | null; to: string; moved: number }> {
    const names = this.projectNames;
    const store = this.mapped;
    if (!names || !store) throw new RoamError(ErrorCodes.USAGE, 'this device does not sync Claude Code projects');
    return this.engine.exclusive(async () => {
      const items = this.engine.replicator
        .localItems('claude')
        .filter((m) => !m.deleted && m.name.startsWith(`${wire}/`))
        .map((m) => names.toLocal(m.name));
      const { from, to } = names.remap(wire, path);
      const moved = from && from !== to ? await store.move(wire, from, to, items) : 0;
      this.log(`project ${wire} now lives in ${to} (${why}); moved ${moved} file(s)${from && from !== to ? ` from ${from}` : ''}`);
      return { wire, from, to, moved };
    });
  }

  projectMap(): Array<ProjectEntry & { wires: string[] }> {
    const names = this.projectNames;
    if (!names) return [];
    const wires = names.wires();
    return names.entries().map((e) => ({ ...e, wires: Object.keys(wires).filter((w) => wires[w] === e.key) }));
  }

  // ---------------------------------------------------------------- roam rm, the trash, roam restore

  /**
   * `rm`: a session's files deleted on every device (the engine's `removeEverywhere`), each copy
   * into its device's trash. `trash`: what this device's trash holds. `restore`: an entry, or a
   * session's files, put back as new local changes, so they reach the other devices again.
   */
  private removeHandlers(): Record<string, Handler> {
    return {
      rm: async (params) => this.removeSession(params),
      trash: async () => ({ entries: await this.trashEntries(), keepDays: TRASH_DAYS }),
      restore: async (params) => this.restore(params),
    };
  }

  private async removeSession(params: Record<string, unknown>): Promise<RemoveResult> {
    const ref = typeof params.session === 'string' ? params.session.trim() : '';
    if (!ref) throw new RoamError(ErrorCodes.USAGE, 'name the session to remove');
    const file = typeof params.file === 'string' ? params.file : null;
    const found = file ? await this.sessionByFile(ref, file) : this.sessionByName(ref);
    const { folder, id, names } = found;
    if (!params.force) {
      const now = Date.now();
      const busy = [
        ...this.ownLeases(now).filter((l) => l.session === id).map((l) => (l.pid !== null ? `it is open here (pid ${l.pid})` : 'it is being written here')),
        ...readShared(this.sharedDir)
          .filter((d) => d.device !== this.deviceId && now - d.updatedAt <= LEASE_TTL_MS)
          .flatMap((d) => d.leases.filter((l) => l.session === id).map(() => `${d.name} is using it`)),
      ];
      if (busy.length) throw new RoamError(ErrorCodes.SESSION_BUSY, `session ${id} is in use: ${busy.join('; ')}. Stop it first, or remove it anyway with --force`, { id });
    }
    const local = (name: string) => (folder === 'claude' && this.projectNames ? this.projectNames.toLocal(name) : name);
    const root = this.folders.find((f) => f.id === folder)!.path;
    const here = new Set(this.engine.replicator.localItems(folder).filter((m) => !m.deleted).map((m) => m.name));
    if (params.dryRun) {
      return { session: id, folder, dryRun: true, items: names.map((name) => ({ name, path: join(root, ...local(name).split('/')), here: here.has(name), removed: false })) };
    }
    const results = await this.engine.removeEverywhere(folder, names);
    const failed = results.filter((r) => !r.removed && r.wasHere);
    this.log(`roam rm ${id}: ${results.filter((r) => r.removed).length} file(s) of ${folder} removed on every device${failed.length ? `; ${failed.length} changed while being removed` : ''}`);
    if (failed.length) {
      throw new RoamError(ErrorCodes.STORE_CONFLICT, `session ${id}: ${failed.map((r) => r.name).join(', ')} changed while being removed (a tool is writing it); nothing of those was deleted, the rest was`, { id });
    }
    return { session: id, folder, dryRun: false, items: results.map((r) => ({ name: r.name, path: join(root, ...local(r.name).split('/')), here: r.wasHere, removed: r.removed })) };
  }

  /** The folder and item names of a session whose transcript is `file` on this device. */
  private async sessionByFile(id: string, file: string): Promise<{ folder: string; id: string; names: string[] }> {
    const real = await realpath(file).catch(() => file);
    for (const f of this.folders) {
      if (f.id === SHARED_FOLDER) continue;
      const root = await realpath(f.path).catch(() => f.path);
      const rel = relative(root, real);
      if (!rel || rel.startsWith('..') || rel.startsWith(sep)) continue;
      const localName = rel.split(sep).join('/');
      const name = f.id === 'claude' && this.projectNames ? this.projectNames.toWire(localName) : localName;
      return { folder: f.id, id, names: this.sessionItems(f.id, name, id) };
    }
    throw new RoamError(ErrorCodes.USAGE, `session ${id} (${file}) is not in a folder roam syncs; delete it with its tool`);
  }

  /**
   * A session this device does not hold (deleted here, or never fetched) found by its id in the
   * folders' item names, here or on peers: Claude Code's `<project>/<id>.jsonl`, Codex's
   * `…/rollout-…-<id>.jsonl`, Copilot's `<id>/events.jsonl`. (Gemini names its files by time.)
   */
  private sessionByName(ref: string): { folder: string; id: string; names: string[] } {
    const hits = new Map<string, { folder: string; id: string; name: string }>();
    for (const f of this.folders) {
      if (f.id === SHARED_FOLDER) continue;
      const names = new Set([...this.engine.replicator.localItems(f.id).filter((m) => !m.deleted).map((m) => m.name), ...this.engine.replicator.peerItems(f.id)]);
      for (const name of names) {
        const id = sessionIdOfItem(f.id, name);
        if (id && id.startsWith(ref)) hits.set(`${f.id}:${id}`, { folder: f.id, id, name });
      }
    }
    const list = [...hits.values()];
    if (!list.length) throw new RoamError(ErrorCodes.SESSION_NOT_FOUND, `no session ${ref} here or on the devices this one has seen`, { id: ref });
    if (list.length > 1) throw new RoamError(ErrorCodes.USAGE, `${list.length} sessions start with ${ref}: ${list.slice(0, 10).map((h) => h.id).join(', ')}`, { id: ref });
    const h = list[0]!;
    return { folder: h.folder, id: h.id, names: this.sessionItems(h.folder, h.name, h.id) };
  }

  /**
   * A session's items (wire names): its transcript, everything under the directory beside it named
   * by its id (Claude Code's `<id>/subagents/`, `<id>/tool-results/`; Gemini's sub-agents), and
   * when the transcript's own directory is named by the id (Copilot), everything in it. Items only
   * peers hold count too: the delete reaches them.
   */
  private sessionItems(folder: string, name: string, id: string): string[] {
    const dir = posix.dirname(name);
    const prefix = dir === '.' ? '' : `${dir}/`;
    const own = posix.basename(dir) === id;
    const all = new Set([...this.engine.replicator.localItems(folder).filter((m) => !m.deleted).map((m) => m.name), ...this.engine.replicator.peerItems(folder), name]);
    return [...all].filter((n) => n === name || n.startsWith(`${prefix}${id}/`) || (own && n.startsWith(prefix))).sort((a, b) => (a === name ? -1 : b === name ? 1 : a < b ? -1 : 1));
  }

  /** Every folder's trash, newest first, with short ids to pass back to `restore`. */
  private async trashEntries(): Promise<TrashView[]> {
    const out: TrashView[] = [];
    for (const [folder, store] of this.fsStores) {
      if (folder === SHARED_FOLDER) continue;
      const root = this.folders.find((f) => f.id === folder)!.path;
      for (const e of await store.listTrash()) {
        const name = folder === 'claude' && this.projectNames ? this.projectNames.toWire(e.name) : e.name;
        out.push({ id: trashId(folder, e), folder, entry: e.entry, name, path: join(root, ...e.name.split('/')), session: sessionIdOfItem(folder, name), deletedAt: e.deletedAt, size: e.size });
      }
    }
    return out.sort((a, b) => b.deletedAt - a.deletedAt || (a.id < b.id ? -1 : 1));
  }

  private async restore(params: Record<string, unknown>): Promise<{ restored: TrashView[]; skipped: TrashView[] }> {
    const ref = typeof params.ref === 'string' ? params.ref.trim() : '';
    if (!ref) throw new RoamError(ErrorCodes.USAGE, 'name a trash entry or a session to restore (see `roam restore --list`)');
    const entries = await this.trashEntries();
    let chosen = entries.filter((e) => e.id === ref || `${e.folder}:${e.entry}` === ref);
    if (!chosen.length) {
      const sessions = new Set(entries.filter((e) => e.session !== null && e.session.startsWith(ref)).map((e) => e.session!));
      if (sessions.size > 1) throw new RoamError(ErrorCodes.USAGE, `${sessions.size} sessions in the trash start with ${ref}: ${[...sessions].slice(0, 10).join(', ')}`);
      if (!sessions.size) throw new RoamError(ErrorCodes.SESSION_NOT_FOUND, `nothing in the trash is ${ref} (neither an entry id nor a session; see \`roam restore --list\`)`, { id: ref });
      const session = [...sessions][0]!;
      // The newest copy of each of the session's files (entries are newest first).
      const seen = new Set<string>();
      chosen = entries.filter((e) => e.session === session && !seen.has(`${e.folder}\u0000${e.name}`) && seen.add(`${e.folder}\u0000${e.name}`));
    }
    const restored: TrashView[] = [];
    const skipped: TrashView[] = [];
    const scans = new Map<string, string[]>();
    for (const e of chosen) {
      const store = this.fsStores.get(e.folder)!;
      try {
        await this.engine.exclusive(() => store.restoreFromTrash(e.entry));
        restored.push(e);
        scans.set(e.folder, [...(scans.get(e.folder) ?? []), e.name]);
      } catch (err) {
        // One entry named: its error is the answer. A session: files that exist already stay as they are.
        if (chosen.length === 1 || !(err instanceof RoamError) || err.code !== ErrorCodes.STORE_CONFLICT) throw err;
        skipped.push(e);
      }
    }
    // Recorded now (the watcher would too): a new version of each, which the peers take.
    for (const [folder, names] of scans) await this.engine.scan(folder, names);
    if (!restored.length) throw new RoamError(ErrorCodes.STORE_CONFLICT, `every file of ${ref} in the trash exists already: ${skipped.map((e) => e.path).join(', ')}`);
    this.log(`roam restore ${ref}: ${restored.length} file(s) restored${skipped.length ? `, ${skipped.length} left in the trash (the file exists)` : ''}`);
    return { restored, skipped };
  }

  /** Trash entries older than TRASH_DAYS go, at start and then daily; never a younger one. */
  private startTrashExpiry(): void {
    const expire = async () => {
      for (const [folder, store] of this.fsStores) {
        const n = await store.expireTrash(TRASH_DAYS * 86_400_000).catch((err: unknown) => {
          this.log(`expiring ${folder}'s trash: ${String(err)}`);
          return 0;
        });
        if (n) this.log(`removed ${n} trash folder(s) of ${folder} older than ${TRASH_DAYS} days`);
      }
    };
    void expire();
    this.trashTimer = setInterval(() => void expire(), 86_400_000);
    this.trashTimer.unref();
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
      if (this.tick) clearInterval(this.tick);
      await this.taker.stop();
      if (this.trashTimer) clearInterval(this.trashTimer);
      if (this.registryTimer) clearTimeout(this.registryTimer);
      this.registryWatch?.close();
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

/** How long the trash keeps what roam removed or replaced. */
const TRASH_DAYS = 30;

export interface RemoveResult {
  readonly session: string;
  readonly folder: string;
  readonly dryRun: boolean;
  /** name: the item's wire name; path: where it is (or was) on this device. */
  readonly items: ReadonlyArray<{ name: string; path: string; here: boolean; removed: boolean }>;
}

