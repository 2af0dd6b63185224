/** What the pairing control methods answer (`roam pair`, `roam devices`, `roam unpair`, `roam leave`). */

/** A device of the group, as `roam devices --json` prints it. */
export interface DeviceInfo {
  readonly name: string;
  readonly peerId: string;
  readonly deviceId: string;
  /** Milliseconds since the epoch (now for this device and connected ones); null if never seen. */
  readonly lastSeen: number | null;
  readonly addresses: string[];
  /** This device. */
  readonly self: boolean;
  readonly connected: boolean;
}

/** The event `pair` streams first when it invites: the code, for the command to print. */
export interface PairCodeEvent {
  readonly code: string;
  readonly expiresAt: number;
}

export interface PairResult {
  /** The device that joined (inviting), or the inviter (joining). */
  readonly joined: { readonly peerId: string; readonly name: string };
  readonly devices: DeviceInfo[];
}

export interface UnpairResult {
  readonly removed: { readonly peerId: string; readonly name: string };
  /** The group secret's generation after the rotation. */
  readonly generation: number;
  readonly devices: DeviceInfo[];
}

export interface LeaveResult {
  readonly left: boolean;
  /** How many other members the group had. */
  readonly members: number;
}
