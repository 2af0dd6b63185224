/** What the network knows of each peer: its state, its connections, whether syncing with it is paused. */
import type { Connection, Libp2p, PeerId } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { directFirst, isRelayed } from './direct.js';
import { deviceIdOf } from './peer-ids.js';
import type { PeerState } from './peer-stream.js';
import { relayOf, type RelayRoles } from './relay.js';

export interface NetPeer {
  peerId: string;
  deviceId: string;
  /** A libp2p connection to the peer is open. */
  connected: boolean;
  /** A sync stream with the peer is up. */
  syncing: boolean;
  /** Syncing with it is paused (`pause(peerId)` or `pause()`). */
  paused: boolean;
  /** Addresses we dial it at (explicit, found by mDNS, or that reached it). */
  addresses: string[];
  /** When the peer was last connected (ms since the epoch; now while connected), or null. */
  lastSeen: number | null;
  /** How the open connection goes: 'relay' when every open one is a circuit through a relay. */
  via: 'direct' | 'relay' | null;
  /** The relay's peer id when relayed. */
  relay: string | null;
  /** 'relay': the peer announced itself as a relay-only device (relay.ts). */
  role: 'member' | 'relay';
}

export class PeerTable {
  private readonly states = new Map<string, PeerState>();
  private readonly pausedPeers = new Set<string>();
  private pausedAll = false;

  constructor(
    private readonly node: Libp2p,
    private readonly peerId: string,
    private readonly deviceId: string,
    /** `server`: this device is a relay-only device; `roles`: which peers are. */
    private readonly relay: { server: boolean; roles: RelayRoles },
  ) {}

  /** The peer's state, made on first use (null for this device). */
  state(peer: PeerId | string): PeerState | null {
    const key = peer.toString();
    if (key === this.peerId) return null;
    let ps = this.states.get(key);
    if (!ps) {
      ps = {
        id: typeof peer === 'string' ? peerIdFromString(peer) : peer,
        peerId: key,
        deviceId: deviceIdOf(key),
        addresses: new Set(),
        lastSeen: null,
        syncStream: null,
        opening: null,
        reopenAttempt: 0,
        reopenTimer: undefined,
      };
      this.states.set(key, ps);
    }
    return ps;
  }

  /** The peer's state if there is one. */
  known(peerId: string): PeerState | undefined {
    return this.states.get(peerId);
  }

  all(): IterableIterator<PeerState> {
    return this.states.values();
  }

  /** Forgets the peer, and its own pause. */
  delete(peerId: string): void {
    this.states.delete(peerId);
    this.pausedPeers.delete(peerId);
  }

  /** Open connections to the peer, direct ones first. */
  openConnections(ps: PeerState): Connection[] {
    return directFirst(this.node.getConnections(ps.id).filter((c) => c.status === 'open'));
  }

  isDirect(ps: PeerState): boolean {
    return this.openConnections(ps).some((c) => !isRelayed(c));
  }

  isConnected(ps: PeerState): boolean {
    return this.openConnections(ps).length > 0;
  }

  isPaused(ps: PeerState): boolean {
    return this.pausedAll || this.pausedPeers.has(ps.peerId) || this.pausedPeers.has(ps.deviceId);
  }

  /** Whether this side opens the sync stream with `ps`: the smaller device id does. */
  weOpen(ps: PeerState): boolean {
    // A relay-only device opens no sync stream, and no member opens one to it.
    if (this.relay.server || this.relay.roles.isRelay(ps.peerId)) return false;
    if (this.deviceId !== ps.deviceId) return this.deviceId < ps.deviceId;
    return this.peerId < ps.peerId;
  }

  /** Pauses one peer (by peer id or device id), or all. */
  pause(peerId?: string): void {
    if (peerId === undefined) this.pausedAll = true;
    else this.pausedPeers.add(peerId);
  }

  /** Lifts every pause, or only that peer's own (named by its peer id or device id). */
  unpause(peerId?: string): void {
    if (peerId === undefined) {
      this.pausedAll = false;
      this.pausedPeers.clear();
    } else {
      this.pausedPeers.delete(peerId);
      for (const ps of this.states.values()) {
        if (ps.deviceId === peerId) this.pausedPeers.delete(ps.peerId);
        if (ps.peerId === peerId) this.pausedPeers.delete(ps.deviceId);
      }
    }
  }

  snapshot(): NetPeer[] {
    const now = Date.now();
    return [...this.states.values()].map((ps) => {
      const open = this.openConnections(ps);
      const connected = open.length > 0;
      const direct = open.find((c) => !isRelayed(c));
      const relayed = direct ? undefined : open[0];
      return {
        peerId: ps.peerId,
        deviceId: ps.deviceId,
        connected,
        syncing: ps.syncStream !== null,
        paused: this.isPaused(ps),
        addresses: [...ps.addresses],
        lastSeen: connected ? now : ps.lastSeen,
        via: direct ? 'direct' : relayed ? 'relay' : null,
        relay: relayed ? relayOf(relayed.remoteAddr.toString()) || null : null,
        role: this.relay.roles.isRelay(ps.peerId) ? 'relay' : 'member',
      };
    });
  }
}
