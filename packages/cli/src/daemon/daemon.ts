/**
 * roamd: one engine over every synced folder, the libp2p network, a watcher per folder, and the
 * control socket that `roam` talks to. This module wires them and answers `status`; the control
 * methods are handlers.ts, this device's leases leases.ts, `rm`/`restore` removal.ts, Claude Code's
 * project placement project-map.ts (the process's entry: main.ts).
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { Engine, type FolderStore, type IgnoreRules } from '@roam/core';
import { nodeHasher, type FsFolderStore } from '@roam/core/node';
import type { Handlers } from '../control/methods.js';
import type { PeerStatus, Status } from '../control/protocol.js';
import { ControlServer } from '../control/server.js';
import { defaultDeviceName, excludedFolders, folderList, groupKeyFromEnv, onlyFor, readConfigFile, type FileConfig, type FolderSpec } from '../machine/config.js';
import { SHARED_FOLDER } from '../machine/leases.js';
import { prepareControlSocket } from '../machine/control-dir.js';
import { roamPaths, type RoamPaths } from '../machine/paths.js';
import type { ProjectNames } from '../machine/project-names.js';
import { Trust } from '../pairing/trust.js';
import { VERSION } from '../version.js';
import { serveClock } from './clock.js';
import { controlHandlers } from './handlers.js';
import { loadIdentity } from './identity.js';
import { ignoreRulesFor } from './ignore.js';
import { KnownPeers } from './known-peers.js';
import { Leases } from './leases.js';
import { partialTailOptions } from './partial-tail.js';
import type { MappedStore } from './mapped-store.js';
import { AddressBook, AddressGossip, Network, Reachability, deviceIdOf, relayOf } from './net/index.js';
import { folderOffers, offerInputOf } from './offers.js';
import { openFolder, type Closable } from './open-folder.js';
import { ProjectMap } from './project-map.js';
import { Removal } from './removal.js';
import { FolderTaker } from './take-folders.js';
import { SessionRegistrar } from './register-sessions.js';
import { ToolLogs } from './tool-logs.js';
import type { FolderWatcher } from './watcher.js';

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
  /** A relay-only device (`roamd --relay`): no folders, no sync; circuit relay v2 for the group's members. */
  readonly relay?: boolean;
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
  private readonly watchers: Closable[] = [];
  private readonly stores = new Map<string, FolderStore>();
  /** Each folder's file store (under the mapped one for Claude Code): its trash is `roam restore`'s. */
  private readonly fsStores = new Map<string, FsFolderStore>();
  /** Claude Code's projects folder: wire names ↔ this device's project keys. */
  private projectNames: ProjectNames | null = null;
  private mapped: MappedStore | null = null;
  private readonly projects = new ProjectMap({ engine: () => this.engine, names: () => this.projectNames, store: () => this.mapped, log: (line) => this.log(line) });
  /** roam's own folder: one file per device with its leases and its projects' git remotes. */
  private sharedDir = '';
  private deviceId = '';
  /** This device's leases, published in the shared folder (leases.ts). */
  private leases!: Leases;
  /** `rm`, `trash`, `restore` and the trash's expiry (removal.ts). */
  private removal!: Removal;
  /** Ignore rules and selective sync per folder; replaced by `reload`. */
  private readonly rules = new Map<string, IgnoreRules>();
  private readonly ring: string[] = [];
  private readonly followers = new Set<(line: string) => void>();
  private logFile!: WriteStream;
  private readonly known: KnownPeers;
  /** The group's address book (members' signed addresses) and the gossip that spreads it. */
  private book: AddressBook | null = null;
  private addressGossip: AddressGossip | null = null;
  /** Whether this device is reachable from outside, by members' dial-back (net/dialback.ts). */
  private reach: Reachability | null = null;
  private name = '';
  private stopping: Promise<void> | null = null;
  /** A watcher's change in a folder: to the engine (or held until it is open). Opted out: config.json `exclude`. */
  private onChange!: (folder: string) => (local: string[] | null) => void;
  private excluded = new Set<string>();
  /** Sessions that arrived, registered in their tool's own index (register-sessions.ts). */
  private readonly registrar = new SessionRegistrar({ env: () => this.env, root: (id) => this.folders.find((f) => f.id === id)?.path ?? null, log: (line) => this.log(line) });
  private readonly toolLogs = new ToolLogs(() => this.env, (line) => this.log(line));
  private readonly taker = new FolderTaker({ holdsNone: () => this.opts.relay === true, offerInput: () => offerInputOf(this.engine, this.folders, this.excluded, this.env), add: (spec) => this.addFolder(spec), log: (line) => this.log(line) });

  private constructor(paths: RoamPaths, folders: FolderSpec[], private readonly opts: DaemonOptions) {
    this.paths = paths;
    this.folders = folders;
    this.known = new KnownPeers(paths.state);
  }

  private get env(): NodeJS.ProcessEnv {
    return this.opts.env ?? process.env;
  }

  static async start(opts: DaemonOptions = {}): Promise<Daemon> {
    const env = opts.env ?? process.env;
    // The socket's directory is made and verified first: an unsafe one stops roamd before anything else.
    const paths = { ...roamPaths(env), socket: prepareControlSocket(roamPaths(env).config, env) };
    await mkdir(paths.state, { recursive: true, mode: 0o700 });
    const cfg = readConfigFile(paths.configFile);
    const groupKey = groupKeyFromEnv(env);
    const sharedDir = join(paths.state, 'shared');
    // A relay holds no folder at all, not even roam's own: it is never sent an index.
    const folders: FolderSpec[] = opts.relay ? [] : [...folderList(cfg, env), { id: SHARED_FOLDER, path: sharedDir, conflict: 'syncthing', logDeletes: 'propagate' }];
    const d = new Daemon(paths, folders, opts);
    d.sharedDir = sharedDir;
    d.leases = new Leases({
      env, sharedDir, stateDir: paths.state, folders: () => d.folders, engine: () => d.engine, deviceId: () => d.deviceId, name: () => d.name,
      projectNames: () => d.projectNames, log: (line) => d.log(line),
    });
    d.removal = new Removal({ engine: () => d.engine, folders: () => d.folders, fsStores: d.fsStores, projectNames: () => d.projectNames, leases: d.leases, log: (line) => d.log(line), env: d.env });
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
    await this.known.load();
    // Watch first, so nothing written between the start-up scan and the watcher is missed.
    const early = new Map<string, Set<string> | null>();
    let engine: Engine | undefined;
    this.excluded = excludedFolders(cfg, this.env);
    this.onChange = (folder: string) => (local: string[] | null) => {
      const names = local && folder === 'claude' && this.projectNames ? local.map((n) => this.projectNames!.toWire(n)) : local;
      if (folder === SHARED_FOLDER && engine) void this.projects.remapByRemote().catch((err: unknown) => this.log(`mapping projects by git remote: ${String(err)}`));
      this.registrar.note(folder, local);
      if (engine) void engine.scan(folder, names ?? undefined);
      else {
        const set = early.get(folder);
        if (names === null || set === null) early.set(folder, null);
        else early.set(folder, new Set([...(set ?? []), ...names]));
      }
    };
    for (const f of this.folders) await this.openFolder(f, cfg);
    if (this.folders.length === 1 && !this.opts.relay) this.log('no folders yet: none of the tools\' session folders exists here and config.json names none; roamd takes a tool\'s folder that a peer shares, or that appears here');

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
      ...partialTailOptions(this.env, this.folders, () => this.leases.own(Date.now()), this.leases.headIds),
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
      onForget: (peerId) => (this.known.forget(deviceIdOf(peerId)), this.book?.forget(peerId)),
      ...(this.opts.relay ? { relay: true } : {}),
    });
    this.trust = trust;
    const book = (this.book = new AddressBook({ stateDir: this.paths.state, privateKey: key, isMember: (p) => trust.allows(p), log: (line) => this.log(line) }));
    await book.load();
    this.network = await Network.create({
      privateKey: key,
      listen,
      peers: [...(this.opts.peers ?? []), ...(cfg.peers ?? [])],
      mdns,
      ...(groupKey
        ? { groupKey }
        : { protector: trust.protector!, allow: (peerId: string) => trust.allows(peerId), syncReady: (peerId: string) => trust.syncReady(peerId), signedRole: (peerId: string) => trust.roleOf(peerId) }),
      sink: engine,
      log: (line) => this.log(line),
      onObservedAddr: (addr) => (this.addressGossip?.noteObserved(addr), this.reach?.noteObserved(addr)),
      relay: this.opts.relay ? 'server' : 'client',
      // UPnP maps a port on the router (config.json "upnp": false turns it off); nothing to map on loopback.
      upnp: cfg.upnp !== false && listen.some((a) => !/^\/ip[46]\/(127\.|::1\/)/.test(a)),
      // A member reachable from outside relays for the other members (and nobody else).
      offerRelay: () => this.reach?.current.reachable === 'yes',
    });
    this.reach = new Reachability(this.network, (line) => this.log(line));
    await trust.attach(this.network);
    this.addressGossip = new AddressGossip(this.network, book, (line) => this.log(line), () => this.reach?.current.addresses ?? []);
    await this.reach.start();
    await this.addressGossip.start();
    await serveClock(this.network);
    this.control = await ControlServer.listen(this.paths.socket, this.handlers());
    if (!this.opts.relay) {
      this.leases.start();
      this.removal.startExpiry();
      this.taker.start();
      this.toolLogs.start();
    }
    this.log(`roamd ${VERSION} started as ${this.name} (${this.network.peerId}), ${this.opts.relay ? 'a relay-only device: no folders' : `${this.folders.length - 1} folder(s)`}`);
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
      home: this.env.HOME || homedir(), env: this.env, stateDir: this.paths.state, rules: this.rules,
      onChange: (folder) => this.onChange(folder),
      onRulesChanged: (folder) => void this.reloadRules().catch((err: unknown) => this.log(`reloading ${folder}/.roamignore: ${String(err)}`)),
      noteActivity: (folder, root, changes) => this.leases.noteActivity(folder, root, changes),
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
      const name = this.engine.replicator.peerName(p.deviceId) ?? known?.name ?? this.trust.memberName(p.peerId) ?? p.deviceId;
      if (p.connected && (!known || known.name !== name || known.lastSeen !== p.lastSeen)) this.known.remember(p.deviceId, { name, peerId: p.peerId, lastSeen: p.lastSeen });
      return {
        peerId: p.peerId, deviceId: p.deviceId, name, connected: p.connected, paused: p.paused,
        lastSeen: p.lastSeen ?? known?.lastSeen ?? null, addresses: this.addressesOf(p.peerId, p.addresses),
        via: p.via, relay: p.relay ? this.nameOf(p.relay) : null, role: p.role,
        need: sum((s) => s.need), peerNeeds: sum((s) => s.peerNeeds), offers, optedOut: p.connected ? offer.optedOut.get(p.deviceId) ?? [] : [],
        // Not while the peer offers a folder this device neither holds nor skips.
        inSync: p.connected && states.length > 0 && states.every((s) => s.inSync) && offers.length === 0,
      };
    });
    for (const [deviceId, k] of this.known.entries()) {
      if (!peers.some((p) => p.deviceId === deviceId)) {
        peers.push({ peerId: k.peerId, deviceId, name: k.name, connected: false, paused: false, lastSeen: k.lastSeen, addresses: this.addressesOf(k.peerId, []), need: { items: 0, bytes: 0 }, peerNeeds: { items: 0, bytes: 0 }, offers: [], optedOut: [], inSync: false, via: null, relay: null, role: this.trust.roleOf(k.peerId) === 'relay' ? 'relay' : 'member' });
      }
    }
    // roam's own folder (leases, projects' remotes) is an implementation detail, not the user's.
    const folders = this.folders.filter((f) => f.id !== SHARED_FOLDER).map((f) => {
      const items = this.engine.replicator.localItems(f.id).filter((m) => !m.deleted);
      return { id: f.id, path: f.path, items: items.length, bytes: items.reduce((a, m) => a + m.size, 0) };
    });
    const traffic = { bytesIn: this.engine.stats.bytesIn, bytesOut: this.engine.stats.bytesOut, peers: net.traffic.list() };
    const r = this.reach?.current;
    const held = net.addresses().map(relayOf).find((id) => id);
    const reachability = { reachable: r?.reachable ?? 'unknown', checkedBy: (r?.checkedBy ?? []).map((p) => this.nameOf(p)), addresses: r?.addresses ?? [], relay: held ? this.nameOf(held) : null } as const;
    return { version: VERSION, peerId: net.peerId, deviceId: net.deviceId, name: this.name, addresses: net.addresses(), peers, folders, offered: offer.offered, skipped: offer.skipped, traffic, reachability, ...this.trust.approvalStatus() };
  }

  /** A peer's name (as status shows it), by peer id. */
  private nameOf(peerId: string): string {
    const deviceId = deviceIdOf(peerId);
    return this.engine.replicator.peerName(deviceId) ?? this.known.get(deviceId)?.name ?? this.trust.memberName(peerId) ?? deviceId;
  }

  /** The addresses this device knows for a peer: the network's (dialed, found, reached) and the address book's. */
  private addressesOf(peerId: string, fromNet: readonly string[]): string[] {
    return [...new Set([...fromNet, ...(this.book?.addressesOf(peerId) ?? [])])];
  }

  private handlers(): Handlers {
    return controlHandlers({
      paths: this.paths, folders: () => this.folders, engine: () => this.engine, network: () => this.network, trust: () => this.trust,
      leases: this.leases, removal: this.removal, restart: this.opts.onRestart, status: () => this.status(),
      only: (folder) => this.rules.get(folder)?.only ?? null, reloadRules: () => this.reloadRules(),
      projects: this.projects,
      logLines: () => [...this.ring],
      follow: (f) => (this.followers.add(f), () => void this.followers.delete(f)),
      log: (line) => this.log(line),
    });
  }

  /**
   * Ignore rules, selective sync and opt-outs: re-read, rescan what is now included, tell the
   * peers; and take the folders config.json now names and the tools' folders that appeared.
   */
  private async reloadRules(): Promise<void> {
    const cfg = readConfigFile(this.paths.configFile);
    this.excluded = excludedFolders(cfg, this.env);
    await this.taker.take(folderList(cfg, this.env));
    for (const f of this.folders) if (this.excluded.has(f.id)) this.log(`${f.id} is excluded in config.json but open: it stops syncing once roamd restarts`);
    for (const f of this.folders) this.rules.set(f.id, ignoreRulesFor(f.path, onlyFor(cfg, f.id)));
    await Promise.all(this.folders.map((f) => this.engine.scan(f.id)));
    await this.engine.refreshFolders();
    this.log('reloaded ignore rules and selective sync');
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
      this.leases?.stop();
      this.toolLogs.stop();
      await this.taker.stop();
      this.removal?.stop();
      this.registrar.stop();
      if (this.network) this.status(); // remember peers' last-seen times
      await this.control?.close().catch(() => undefined);
      await this.trust?.stop().catch(() => undefined);
      this.reach?.stop();
      await this.addressGossip?.stop().catch(() => undefined);
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
