/**
 * The control API as one typed map: for each method roamd answers, its params, its result, the
 * `ROAM_*` codes it fails with (beside the transport's, `TransportError`) and, for a streaming
 * method, its events. The client (`call`) and the server (`Handlers`) are both typed against it,
 * so a verb reads the result roamd builds, and roamd has a handler for every method.
 */
import type { ErrorCode } from '@roam/core/errors';
import type { AckResult, ApprovalResult, DeviceInfo, LeaveResult, PairCodeEvent, PairRefusedEvent, PairResult, UnpairResult } from './pairing.js';
import type { ProjectInfo, Status } from './protocol.js';
import type { ClockFailure, ClockReading, LeasesResult, MapResult, OriginsResult, RemoveResult, RestoreResult, TrashResult } from './results.js';

/** A method without parameters. */
type None = Record<string, never>;

interface Method<P, R, E extends ErrorCode = never, V = never> {
  readonly params: P;
  readonly result: R;
  readonly errors: E;
  readonly event: V;
}

export interface ControlMethods {
  /** This device, its folders and peers (`roam status`). */
  status: Method<None, Status>;
  /** Each folder's top-level entries, here and on peers (`roam projects`). */
  projects: Method<None, ProjectInfo[]>;
  /** Ignore rules, selective sync and opt-outs re-read (`roam reload`). */
  reload: Method<None, Status, 'ROAM_CONFIG'>;
  /** Every folder rescanned (`roam sync`). */
  scan: Method<None, null>;
  /** Stop or restart syncing with one device (by name, peer id or device id) or all. */
  pause: Method<{ device?: string }, Status, 'ROAM_USAGE'>;
  unpause: Method<{ device?: string }, Status, 'ROAM_USAGE'>;
  /** Invite (streams the code, then refusals) or join with a code (`roam pair`); `short`: a short code (`--short`); `peers`: where a short code's inviter listens (`--peer`). */
  pair: Method<
    { code?: string; timeout?: number; short?: boolean; peers?: string[] },
    PairResult,
    'ROAM_PAIR_CODE_CHECKSUM' | 'ROAM_PAIR_CODE_INVALID' | 'ROAM_PAIR_EXPIRED' | 'ROAM_PAIR_UNREACHABLE' | 'ROAM_PAIR_PROOF' | 'ROAM_PAIR_REFUSED' | 'ROAM_ALREADY_PAIRED',
    PairCodeEvent | PairRefusedEvent
  >;
  unpair: Method<{ device: string }, UnpairResult, 'ROAM_USAGE' | 'ROAM_NOT_IN_GROUP' | 'ROAM_UNKNOWN_DEVICE'>;
  leave: Method<None, LeaveResult, 'ROAM_NOT_IN_GROUP'>;
  devices: Method<None, DeviceInfo[]>;
  /** Acknowledge (with trust.approve on: approve) a device another member added (`roam devices --ack`). */
  ack: Method<{ device: string }, AckResult, 'ROAM_USAGE' | 'ROAM_NOT_IN_GROUP' | 'ROAM_UNKNOWN_DEVICE' | 'ROAM_APPROVAL_REFUSED'>;
  /** The group's signed trust.approve setting (`roam devices --require-approval on|off`). */
  approval: Method<{ on: boolean }, ApprovalResult, 'ROAM_USAGE' | 'ROAM_NOT_IN_GROUP' | 'ROAM_UNKNOWN_DEVICE' | 'ROAM_APPROVAL_REFUSED'>;
  /** Each connected device's clock against this one's (`roam doctor`). */
  clock: Method<None, Array<ClockReading | ClockFailure>>;
  /** The sessions being written, here and on the devices whose heartbeat is fresh; one session's with `session`. */
  leases: Method<{ session?: string }, LeasesResult>;
  /** Claude Code's projects as placed here; with `wire` and `path`, one moved (`roam map`). */
  map: Method<{ wire?: string; path?: string }, MapResult, 'ROAM_USAGE'>;
  /** A session removed on every device (`roam rm`); `file` is its transcript here, when this device holds it. */
  rm: Method<
    { session: string; file?: string; tool?: string; force?: boolean; dryRun?: boolean },
    RemoveResult,
    'ROAM_USAGE' | 'ROAM_SESSION_NOT_FOUND' | 'ROAM_SESSION_BUSY' | 'ROAM_STORE_CONFLICT'
  >;
  /** Which device last wrote each session held here (`roam ui`'s device filter). */
  origins: Method<None, OriginsResult>;
  /** What this device's trash holds (`roam restore --list`). */
  trash: Method<None, TrashResult>;
  /** A trash entry, or a session's files, put back (`roam restore`). */
  restore: Method<{ ref: string }, RestoreResult, 'ROAM_USAGE' | 'ROAM_SESSION_NOT_FOUND' | 'ROAM_STORE_CONFLICT'>;
  /** The daemon's recent log lines; with `follow`, streamed until the client hangs up. */
  logs: Method<{ follow?: boolean }, string[] | null, never, string>;
}

export type ControlMethod = keyof ControlMethods;
export type ParamsOf<M extends ControlMethod> = ControlMethods[M]['params'];
export type ResultOf<M extends ControlMethod> = ControlMethods[M]['result'];
export type EventOf<M extends ControlMethod> = ControlMethods[M]['event'];
/** What any method can fail with: no daemon, another API version, a malformed or unknown request, a bug. */
export type TransportError = 'ROAM_NOT_RUNNING' | 'ROAM_CONTROL_UNSAFE' | 'ROAM_INTERNAL' | 'ROAM_CONTROL_MALFORMED' | 'ROAM_CONTROL_VERSION' | 'ROAM_CONTROL_UNKNOWN';
export type ErrorOf<M extends ControlMethod> = ControlMethods[M]['errors'] | TransportError;

/**
 * Params as roamd receives them: the names the method declares, each of unknown type until the
 * handler checks it (they come off a socket).
 */
export type Untrusted<P> = { readonly [K in keyof P]?: unknown };

/** roamd's answer to one method; `stream` sends one event of a streaming answer, `closed` settles when the client hangs up. */
export type Handler<M extends ControlMethod> = (params: Untrusted<ParamsOf<M>>, stream: (event: EventOf<M>) => boolean, closed: Promise<void>) => Promise<ResultOf<M>>;

/** A handler for every method: the compiler checks none is missing. */
export type Handlers = { readonly [M in ControlMethod]: Handler<M> };
