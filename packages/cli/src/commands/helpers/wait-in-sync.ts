/** Waiting until this device holds what its connected members hold (`roam sync --wait`, `roam resume`). */
import { ErrorCodes, RoamError } from '@roam/core/errors';
import { call } from '../../control/client.js';
import type { Status } from '../../control/protocol.js';
import { peerLine } from './format.js';

const POLL_MS = 100;

export interface WaitOptions {
  /** Seconds; absent: no limit. */
  readonly timeout?: number | undefined;
  /** Also wait for members that are offline. */
  readonly all?: boolean | undefined;
  /** Told what is still missing, each time that changes. */
  readonly progress?: (why: string) => void;
  /** Resolve with `connected: false` instead of waiting while connected to no device: at once when no device is known, else once this many ms passed. */
  readonly aloneAfterMs?: number;
}

export interface WaitResult {
  readonly connected: boolean;
  readonly status: Status;
  readonly peers: string[];
  readonly offline: Status['peers'];
}

/** Rescans, then waits until in sync with every connected member (see the command's contract). */
export async function waitInSync(socket: string, opts: WaitOptions): Promise<WaitResult> {
  // Look at the disk now, so a write made just before this command counts.
  await call(socket, 'scan');
  const start = Date.now();
  const deadline = opts.timeout !== undefined ? start + opts.timeout * 1000 : Infinity;
  let last = '';
  for (;;) {
    const s = await call(socket, 'status');
    // A relay-only device holds nothing: never waited for.
    const members = s.peers.filter((p) => p.role !== 'relay');
    const live = members.filter((p) => p.connected && !p.paused);
    const offline = members.filter((p) => !p.connected);
    const blocking = opts.all ? members.filter((p) => !(p.connected && p.inSync)) : live.filter((p) => !p.inSync);
    if (live.length > 0 && blocking.length === 0) return { connected: true, status: s, peers: live.map((p) => p.name), offline };
    // Alone: at once when this device knows no other, else after a moment for a connection to come up.
    if (live.length === 0 && opts.aloneAfterMs !== undefined && (s.peers.length === 0 || Date.now() - start >= opts.aloneAfterMs)) return { connected: false, status: s, peers: [], offline };
    const why = live.length === 0 ? `connected to no device${s.peers.length ? ` (known: ${s.peers.map((p) => p.name).join(', ')})` : ''}` : blocking.map(peerLine).join('; ');
    if (why !== last) opts.progress?.(why);
    last = why;
    if (Date.now() >= deadline) throw new RoamError(ErrorCodes.SYNC_TIMEOUT, `not in sync after ${opts.timeout} s: ${why}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
