/**
 * The control API between `roam` and `roamd`: newline-delimited JSON over the unix socket in
 * ROAM_HOME. Every request names the API version; a daemon answers requests of other versions with
 * ROAM_CONTROL_VERSION so an old CLI and a new daemon (or the reverse) fail clearly.
 */
import type { ApprovalStatus, NewDevice } from './pairing.js';

export const CONTROL_VERSION = 1;

export interface Request {
  readonly v: number;
  readonly id: number;
  readonly method: string;
  readonly params?: Record<string, unknown>;
}

export type Response =
  | { readonly v: number; readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly v: number; readonly id: number; readonly ok: false; readonly error: { readonly code: string; readonly message: string } }
  /** One of several messages of a streaming answer (`logs --follow`). */
  | { readonly v: number; readonly id: number; readonly event: unknown };

export interface PeerStatus {
  readonly peerId: string;
  readonly deviceId: string;
  readonly name: string;
  readonly connected: boolean;
  readonly paused: boolean;
  /** Milliseconds since the epoch; null if never seen. */
  readonly lastSeen: number | null;
  readonly addresses: string[];
  /** What this device still needs from the peer, and what the peer still needs from it. */
  readonly need: { readonly items: number; readonly bytes: number };
  readonly peerNeeds: { readonly items: number; readonly bytes: number };
  /** Folders the peer offers that this device neither holds nor skips: never in sync while there are. */
  readonly offers: string[];
  /** Folders this device holds that the peer opted out of (it syncs none of them). */
  readonly optedOut: string[];
  readonly inSync: boolean;
  /** How the connection goes: direct, or through a relay (null when not connected). */
  readonly via: 'direct' | 'relay' | null;
  /** The relaying device's name (or id) when `via` is 'relay'. */
  readonly relay: string | null;
  /** 'relay': a relay-only device (`roamd --relay`): it holds no folders and is never waited for. */
  readonly role: 'member' | 'relay';
}

/** A folder connected peers offer that this device does not hold. */
export interface FolderOffer {
  readonly id: string;
  /** The peers' names. */
  readonly by: string[];
  /** A tool's folder: roamd takes it at `path`, this device's path for the tool. Otherwise the user adds it (config.json `folders`) or declines it (`exclude`). */
  readonly tool: boolean;
  readonly path: string | null;
}

/** What this device does not take of what peers hold, and why. */
export interface FolderSkip {
  readonly folder: string;
  /** `opted out`: config.json `exclude`; `ignored`: ignore rules, .roamignore, selective sync; `deleted here`: the tool's own clean-up. */
  readonly reason: 'opted out' | 'ignored' | 'deleted here';
  /** Items skipped (null for an opted-out folder: its index is not exchanged). */
  readonly items: number | null;
  /** The peers that hold them. */
  readonly by: string[];
}

export interface Status {
  readonly version: string;
  readonly peerId: string;
  readonly deviceId: string;
  readonly name: string;
  readonly addresses: string[];
  readonly peers: PeerStatus[];
  readonly folders: Array<{ readonly id: string; readonly path: string; readonly items: number; readonly bytes: number }>;
  readonly offered: FolderOffer[];
  readonly skipped: FolderSkip[];
  /** Sync protocol bytes received and sent since roamd started; per peer, what this daemon opened to and sent it. */
  readonly traffic: { readonly bytesIn: number; readonly bytesOut: number; readonly peers: PeerTraffic[] };
  /** Devices another member added that nobody acknowledged yet (`roam devices --ack`). */
  readonly newDevices: NewDevice[];
  /** The group's trust.approve setting and who waits for approval. */
  readonly approval: ApprovalStatus;
  /** Whether this device is reachable from outside its network, as members found by dialing it back. */
  readonly reachability: Reachability;
}

export interface Reachability {
  /** 'unknown': no member on another network checked yet. */
  readonly reachable: 'yes' | 'no' | 'unknown';
  /** The members (names) that dialed this device back in the last check. */
  readonly checkedBy: string[];
  /** The addresses they reached. */
  readonly addresses: string[];
  /** The relay (name) that holds this device's reservation, or null. */
  readonly relay: string | null;
}

/** What roamd opened to and sent one peer since it started (every peer that got a stream, members or not). */
export interface PeerTraffic {
  readonly peerId: string;
  readonly deviceId: string;
  /** Connections that passed the gater (allow-list and group secret). */
  readonly connections: number;
  /** Streams that came up with the peer (opened by either side, after admission), by protocol. */
  readonly syncStreams: number;
  readonly membersStreams: number;
  readonly otherStreams: number;
  /** Sync frames sent, and their bytes. */
  readonly framesSent: number;
  readonly bytesSent: number;
  /** Index frames sent, the item entries in them, and their bytes. */
  readonly indexFrames: number;
  readonly itemsSent: number;
  readonly indexBytesSent: number;
  /** Frames of session data (log lines, file content) sent. */
  readonly dataFrames: number;
}

export interface ProjectInfo {
  readonly folder: string;
  /** The top-level entry of the folder (for Claude Code, the project key). */
  readonly name: string;
  readonly synced: boolean;
  /** Items held here, and items peers hold. */
  readonly here: number;
  readonly onPeers: number;
}
