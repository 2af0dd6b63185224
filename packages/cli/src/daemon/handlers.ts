/**
 * roamd's control methods (control/methods.ts): one handler each, the compiler checks none is
 * missing. They read and steer the daemon through `HandlerContext`; pairing's are in
 * pairing/handlers.ts, `rm`/`trash`/`restore` in removal.ts, `leases` in leases.ts.
 */
import { ErrorCodes, RoamError, type Engine } from '@roam/core';
import type { Handlers, Untrusted } from '../control/methods.js';
import type { DeviceInfo } from '../control/pairing.js';
import type { ProjectInfo, Status } from '../control/protocol.js';
import { readConfigFile, writeConfigFile, type FolderSpec } from '../machine/config.js';
import { SHARED_FOLDER } from '../machine/leases.js';
import type { RoamPaths } from '../machine/paths.js';
import { pairingHandlers } from '../pairing/handlers.js';
import type { Trust } from '../pairing/trust.js';
import { measureClock } from './clock.js';
import type { Leases } from './leases.js';
import { deviceIdOf, type Network } from './net/index.js';
import { origins } from './origins.js';
import type { ProjectMap } from './project-map.js';
import type { Removal } from './removal.js';

/** What the handlers see of the daemon. */
export interface HandlerContext {
  readonly paths: RoamPaths;
  readonly folders: () => readonly FolderSpec[];
  readonly engine: () => Engine;
  readonly network: () => Network;
  readonly trust: () => Trust;
  readonly leases: Leases;
  readonly removal: Removal;
  /** Stops roamd and starts it again (after `roam leave`); absent: the user restarts it. */
  readonly restart: (() => void) | undefined;
  readonly status: () => Status;
  /** The top-level entries selective sync keeps of a folder (null: all). */
  readonly only: (folder: string) => ReadonlySet<string> | null;
  readonly reloadRules: () => Promise<void>;
  /** Claude Code's projects placed here (`map`). */
  readonly projects: ProjectMap;
  /** The log lines kept in memory, and a follower of new ones (returns its removal). */
  readonly logLines: () => string[];
  readonly follow: (line: (l: string) => void) => () => void;
  readonly log: (line: string) => void;
}

export function controlHandlers(d: HandlerContext): Handlers {
  const devices = (): DeviceInfo[] => {
    const s = d.status();
    const standing = d.trust().approvals().standing;
    const names = new Map(d.trust().members().map((m) => [m.peerId, m.name]));
    const trustOf = (peerId: string) => {
      const st = standing.get(peerId);
      return { addedBy: st ? { peerId: st.addedBy, name: names.get(st.addedBy) ?? st.addedBy } : null, new: st?.isNew ?? false, pending: st?.pending ?? false };
    };
    const self: DeviceInfo = { name: s.name, peerId: s.peerId, deviceId: s.deviceId, lastSeen: Date.now(), addresses: s.addresses, self: true, connected: true, ...trustOf(s.peerId) };
    if (d.trust().mode === 'env') {
      return [self, ...s.peers.map((p) => ({ name: p.name, peerId: p.peerId, deviceId: p.deviceId, lastSeen: p.lastSeen, addresses: p.addresses, self: false, connected: p.connected, addedBy: null, new: false, pending: false }))];
    }
    const members = d.trust().members();
    if (!members.length) return [self];
    return members
      .map((m): DeviceInfo => {
        if (m.self) return self;
        const p = s.peers.find((x) => x.peerId === m.peerId);
        return {
          name: m.name, peerId: m.peerId, deviceId: deviceIdOf(m.peerId), lastSeen: p?.lastSeen ?? null,
          addresses: [...new Set([...(p?.addresses ?? []), ...m.addresses])], self: false, connected: p?.connected ?? false, ...trustOf(m.peerId),
        };
      })
      .sort((a, b) => Number(b.self) - Number(a.self) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  };
  const peerArg = (params: Untrusted<{ device?: string }>): string | undefined => {
    const device = params.device;
    if (device === undefined || device === null) return undefined;
    const match = d.status().peers.find((p) => p.name === device || p.peerId === device || p.deviceId === device);
    if (!match) throw new RoamError(ErrorCodes.USAGE, `no known device ${JSON.stringify(device)}; see \`roam status\``);
    return match.peerId;
  };
  return {
    status: async () => d.status(),
    origins: async () => origins({ folders: d.folders(), engine: d.engine(), status: d.status(), members: d.trust().members() }),
    projects: async () => {
      const out: ProjectInfo[] = [];
      for (const f of d.folders()) {
        if (f.id === SHARED_FOLDER) continue;
        const count = new Map<string, { here: number; onPeers: number }>();
        const bump = (name: string, k: 'here' | 'onPeers') => {
          const top = name.split('/')[0]!;
          const c = count.get(top) ?? { here: 0, onPeers: 0 };
          c[k]++;
          count.set(top, c);
        };
        for (const m of d.engine().replicator.localItems(f.id)) if (!m.deleted) bump(m.name, 'here');
        for (const name of d.engine().replicator.peerItems(f.id)) bump(name, 'onPeers');
        const only = d.only(f.id);
        for (const [name, c] of [...count].sort(([a], [b]) => (a < b ? -1 : 1))) out.push({ folder: f.id, name, synced: !only || only.has(name), ...c });
      }
      return out;
    },
    reload: async () => {
      await d.reloadRules();
      return d.status();
    },
    scan: async () => {
      await Promise.all(d.folders().map((f) => d.engine().scan(f.id)));
      return null;
    },
    pause: async (params) => {
      await d.network().pause(peerArg(params));
      return d.status();
    },
    unpause: async (params) => {
      await d.network().unpause(peerArg(params));
      return d.status();
    },
    ...pairingHandlers({
      trust: d.trust, devices, deviceIdOf, identityFile: d.paths.identity, restart: d.restart, log: d.log,
    }),
    devices: async () => devices(),
    // Each connected device's clock against this one's, by round trips (daemon/clock.ts).
    clock: async () => Promise.all(d.network().connectedPeers().map((p) => measureClock(d.network(), p).catch((err: unknown) => ({ peerId: p, error: String(err) })))),
    leases: async (params) => d.leases.view(typeof params.session === 'string' ? params.session : null),
    map: async (params) => {
      if (typeof params.wire === 'string' && typeof params.path === 'string') {
        const cfg = readConfigFile(d.paths.configFile);
        writeConfigFile(d.paths.configFile, { ...cfg, map: { ...(cfg.map ?? {}), [params.wire]: params.path } });
        return { changed: await d.projects.remap(params.wire, params.path, 'roam map'), projects: d.projects.entries() };
      }
      return { projects: d.projects.entries() };
    },
    ...d.removal.handlers(),
    logs: async (params, stream, closed) => {
      const lines = d.logLines();
      if (!params.follow) return lines;
      for (const l of lines) stream(l);
      const stop = d.follow((line) => void stream(line));
      await closed;
      stop();
      return null;
    },
  };
}
