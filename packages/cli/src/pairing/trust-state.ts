/**
 * What the gossip (gossip.ts) and the invitations (invitations.ts) share of a `Trust`: the group
 * it holds, its view of the members, and the operations that change and apply them.
 */
import type { PrivateKey } from '@libp2p/interface';
import type { Network } from '../daemon/net/index.js';
import type { GroupFile } from './group.js';
import type { Approvals } from './approvals.js';
import type { Membership } from './members.js';

export interface Member {
  readonly peerId: string;
  readonly name: string;
  readonly self: boolean;
  readonly addresses: string[];
}

export interface TrustState {
  readonly selfId: string;
  /** This device's own name (safe for display). */
  readonly name: string;
  readonly privateKey: PrivateKey;
  readonly mdns: boolean;
  /** The daemon's listen multiaddrs. */
  readonly listen: readonly string[];
  /** The role this device asks for when it joins a group. */
  readonly role: 'member' | 'relay';
  /** The group this device is in, or null; set it, then `save()` and `apply()`. */
  group: GroupFile | null;
  /** The members and the removed, from the group's log (see `recompute`). */
  readonly view: Membership;
  readonly net: Network | null;
  stopped(): boolean;
  log(line: string): void;
  /** Whether the connection gater admits this peer. */
  allows(peerId: string): boolean;
  nameOf(peerId: string): string;
  /** This device's listen addresses. */
  myAddrs(): string[];
  members(): Member[];
  /** Who added whom, what is new or waits for approval (approvals.ts), from the group's log. */
  approvals(): Approvals;
  /** The view from the group's log, now. */
  recompute(): void;
  save(): void;
  /** Applies the state to the network: keys, allow-list, who to dial. */
  apply(): Promise<void>;
  /** Runs state changes one at a time. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /** Forgets the group: no keys, nobody allowed, nobody dialed. */
  drop(): Promise<void>;
}

export const errText = (err: unknown): string => (err instanceof Error ? err.message || err.name : String(err));
