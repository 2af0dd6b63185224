/**
 * What roamd's control methods answer, beside `status` (protocol.ts) and pairing's (pairing.ts):
 * defined here once, for the daemon that builds them and the verbs that read them.
 */
import type { Lease } from '../machine/leases.js';
import type { ProjectEntry } from '../machine/project-names.js';

/** A lease as `leases` answers it: the lease (machine/leases.ts) and the device that holds it. */
export type LeaseView = Lease & {
  readonly device: string;
  /** The device's name. */
  readonly name: string;
  /** Held by this device. */
  readonly self: boolean;
  /** When the holder last said it holds it (ms since the epoch). */
  readonly heartbeat: number;
};

export interface LeasesResult {
  readonly now: number;
  /** A lease whose heartbeat is older than this is over. */
  readonly ttlMs: number;
  readonly leases: LeaseView[];
}

/** A Claude Code project placed on this device (`roam map`): its key directory and every wire name that maps to it. */
export type MappedProject = ProjectEntry & { readonly wires: string[] };

/** A project's wire name pointed at a directory here, and how many files moved with it. */
export interface ProjectMove {
  readonly wire: string;
  readonly from: string | null;
  readonly to: string;
  readonly moved: number;
}

export interface MapResult {
  readonly projects: MappedProject[];
  /** Given a wire name and a path: the move made. */
  readonly changed?: ProjectMove;
}

export interface RemoveResult {
  readonly session: string;
  readonly folder: string;
  readonly dryRun: boolean;
  /**
   * name: the item's wire name; path: where it is (or was) on this device; folder: the state
   * folder (Claude Code's `claude-file-history`, …) of an item of the session's state, absent for
   * the session's own folder.
   */
  readonly items: ReadonlyArray<{ name: string; path: string; here: boolean; removed: boolean; folder?: string }>;
}

/** An entry of a folder's trash (`trash`, `restore`; read from disk too when roamd is not running: machine/trash.ts). */
export interface TrashView {
  /** Short id for `roam restore <id>`. */
  readonly id: string;
  readonly folder: string;
  /** `<stamp>/<local name>` in the folder's trash. */
  readonly entry: string;
  /** The item's name as devices share it (Claude Code: the wire project name). */
  readonly name: string;
  /** Where it goes back to on this device. */
  readonly path: string;
  /** The session the file belongs to, when its name tells. */
  readonly session: string | null;
  readonly deletedAt: number;
  readonly size: number;
}

export interface TrashResult {
  readonly entries: TrashView[];
  /** How long the trash keeps what roam removed or replaced. */
  readonly keepDays: number;
}

export interface RestoreResult {
  readonly restored: TrashView[];
  /** Files of the session that exist already: left in the trash. */
  readonly skipped: TrashView[];
}

/** Another device's clock against this one's (daemon/clock.ts measures it). */
export interface ClockReading {
  readonly peerId: string;
  /** The peer's clock minus this one's (ms): positive when the peer is ahead. */
  readonly skewMs: number;
  /** The round trip of the probe the estimate comes from; the estimate is good to rtt/2. */
  readonly rttMs: number;
}

/** A connected device whose clock could not be measured. */
export interface ClockFailure {
  readonly peerId: string;
  readonly error: string;
}

/** Which device last wrote each session this device holds (`origins`: the sessions page's device filter). */
export interface OriginsResult {
  /** Device id → its name: this device's, its peers' and the group's members' as known here. */
  readonly devices: Readonly<Record<string, string>>;
  /**
   * Session id → the id of the device that wrote the newest of its files here (the item's
   * modifiedBy, Syncthing's ModifiedBy). Sessions whose files' names carry no session id (Gemini's
   * are named by time) are absent.
   */
  readonly sessions: Readonly<Record<string, string>>;
}
