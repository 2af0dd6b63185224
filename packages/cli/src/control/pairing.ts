/** What the pairing control methods answer (`roam pair`, `roam devices`, `roam unpair`, `roam leave`). */

/** A join attempt the inviter refused, as its `roam pair` is told (a control event). */
export interface PairRefusal {
  /** Null: refused before it said who it is (a wrong code). */
  readonly peerId: string | null;
  /** The name the device gave in its hello, or its address. */
  readonly name: string;
  /** removed: its identity was removed from the group; wrong-code: it did not hold this code. */
  readonly reason: 'removed' | 'wrong-code';
  /** For the inviter's user: the cause and the fix. */
  readonly message: string;
}

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
  /** The member whose signed add let it in (itself for the group's founder); null without a group. */
  readonly addedBy: { readonly peerId: string; readonly name: string } | null;
  /** Added by another member (after this device joined) and acknowledged by nobody yet: `roam devices --ack`. */
  readonly new: boolean;
  /** `trust.approve` is on and no second member approved it: it gets no data (`roam devices --approve`). */
  readonly pending: boolean;
}

/** A device shown as new or waiting (in `roam status --json`). */
export interface NewDevice {
  readonly name: string;
  readonly peerId: string;
  readonly addedBy: { readonly peerId: string; readonly name: string };
}

/** What `roam status --json` says of the group's approvals. */
export interface ApprovalStatus {
  /** The group's signed `trust.approve` setting. */
  readonly required: boolean;
  /** Devices that get no data until a second member approves them. */
  readonly pending: NewDevice[];
  /** This device itself waits for approval. */
  readonly self: boolean;
}

/** `roam devices --ack|--approve <device>`. */
export interface AckResult {
  readonly acknowledged: { readonly peerId: string; readonly name: string };
  /** Still waits for approval (approval needs a member other than the one that added it). */
  readonly pending: boolean;
  readonly devices: DeviceInfo[];
}

/** `roam devices --require-approval on|off`. */
export interface ApprovalResult {
  readonly approve: boolean;
  readonly devices: DeviceInfo[];
}

/** The event `pair` streams first when it invites: the code, for the command to print. */
export interface PairCodeEvent {
  readonly code: string;
  readonly expiresAt: number;
  /** Short codes: the pairing listener's addresses (a joiner off the local network gives one with `--peer`). */
  readonly addresses?: readonly string[];
}

/** An event `pair` streams while it invites: a device tried to join and was refused (why, and the fix). */
export interface PairRefusedEvent {
  readonly refused: PairRefusal;
}

export interface PairResult {
  /** The device that joined (inviting), or the inviter (joining). */
  readonly joined: { readonly peerId: string; readonly name: string };
  /** Joining: the device whose code it was. */
  readonly inviter?: { readonly peerId: string; readonly name: string };
  /** The group this device is in now. */
  readonly group: { readonly id: string } | null;
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
  /** The group it left (null: it was in none). */
  readonly group: { readonly id: string } | null;
  /** The identity it had: removed from the group for good. */
  readonly previousPeerId: string;
  /** Its new identity. */
  readonly peerId: string;
  /** roamd restarts with the new identity by itself (false: restart it to use it). */
  readonly restarted: boolean;
}
