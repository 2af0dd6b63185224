/**
 * Dialing: explicit peers (`--peer`, members' known addresses) and mDNS finds are redialed with
 * backoff (0.5 s doubling to 30 s) while not connected; `stop()` cancels every timer.
 */
import type { Libp2p, PeerId, PeerInfo } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import { BACKOFF_MAX_MS, STABLE_MS, backoff } from './backoff.js';
import { NOT_A_KEY_PROBLEM, errText, notInGroup } from './errors.js';
import { deviceIdOf, parseTarget, withPeer } from './peer-ids.js';
import type { PeerState } from './peer-stream.js';

/** How long a relayed dial waits for direct dials to the same peer to end before it looks again. */
const RELAY_FALLBACK_WAIT_MS = 500;

/** A place to keep dialing: an explicit `--peer` address, or a peer found by mDNS. */
interface Target {
  readonly label: string;
  readonly explicit: boolean;
  /** Set by `setPeerAddresses` from this source (the members' directory, the address book), replaced when it changes. */
  readonly managed?: string;
  addrs: Multiaddr[];
  peerId: string | null;
  attempt: number;
  timer: NodeJS.Timeout | undefined;
  dialing: boolean;
  connectedAt: number | null;
  lastError: string | null;
}

/** What the dialer needs of the network. */
export interface DialerHost {
  readonly node: Libp2p;
  readonly selfId: string;
  readonly dialTimeoutMs: number;
  /** A group key or protector is set: a refused handshake means "not in this group". */
  readonly grouped: boolean;
  stopped(): boolean;
  allowPeer(peerId: string): boolean;
  /** The peer's state, made on first use (null for this device). */
  state(peer: PeerId | string): PeerState | null;
  /** The peer's state if there is one. */
  known(peerId: string): PeerState | undefined;
  isConnected(ps: PeerState): boolean;
  /** A direct (not relayed) connection to the peer is open. */
  isDirect(ps: PeerState): boolean;
  log(line: string): void;
  guard(what: string, fn: () => unknown): void;
}

export class Dialer {
  private readonly targets: Target[] = [];

  constructor(private readonly host: DialerHost) {}

  /** Keeps dialing an explicit address (a `--peer`). */
  addTarget(addr: string, ma: Multiaddr, peerId: string | null): void {
    if (this.host.stopped() || this.targets.some((t) => t.explicit && t.label === addr)) return;
    if (peerId === this.host.selfId) {
      this.host.log(`ignoring peer ${addr}: that is this device`);
      return;
    }
    const target: Target = {
      label: addr, explicit: true, addrs: [ma], peerId, attempt: 0,
      timer: undefined, dialing: false, connectedAt: null, lastError: null,
    };
    this.targets.push(target);
    if (peerId) this.host.state(peerId)?.addresses.add(addr);
    this.schedule(target, 0);
  }

  /** Adds a multiaddr to keep dialing, as if it had been in `peers`; dials it at once. */
  addPeer(addr: string): void {
    const { ma, peerId } = parseTarget(addr);
    this.addTarget(addr, ma, peerId);
  }

  /**
   * The addresses to keep dialing a member at (known from the group), replacing those the same
   * source gave before; `--peer` addresses and other sources' stay. An empty list stops dialing
   * it at this source's addresses.
   */
  setPeerAddresses(peerId: string, addrs: readonly string[], source = 'members'): void {
    if (this.host.stopped() || peerId === this.host.selfId) return;
    const wanted = new Map<string, Multiaddr>();
    for (const a of addrs) {
      try {
        const full = withPeer(a, peerId);
        const { ma, peerId: id } = parseTarget(full);
        if (id === peerId) wanted.set(full, ma);
      } catch {
        // a malformed hint: skip it
      }
    }
    for (let i = this.targets.length - 1; i >= 0; i--) {
      const t = this.targets[i]!;
      if (t.managed === source && t.peerId === peerId && !wanted.has(t.label)) {
        clearTimeout(t.timer);
        this.targets.splice(i, 1);
        // An address the member no longer has is not shown as one it has.
        if (!this.targets.some((x) => x.label === t.label)) this.host.known(peerId)?.addresses.delete(t.label);
      }
    }
    for (const [label, ma] of wanted) {
      if (this.targets.some((t) => t.label === label)) continue;
      const target: Target = {
        label, explicit: true, managed: source, addrs: [ma], peerId, attempt: 0,
        timer: undefined, dialing: false, connectedAt: null, lastError: null,
      };
      this.targets.push(target);
      this.host.state(peerId)?.addresses.add(label);
      this.schedule(target, 0);
    }
  }

  /** Dials every place to dial now, from the first backoff step (after the keys changed). */
  redialNow(): void {
    for (const t of this.targets) {
      const known = t.peerId ? this.host.known(t.peerId) : undefined;
      if (t.dialing || (known && (t.label.includes('/p2p-circuit') ? this.host.isConnected(known) : this.host.isDirect(known)))) continue;
      t.attempt = 0;
      t.lastError = null;
      this.schedule(t, 0);
    }
  }

  /** Stops dialing a peer (a removed member). */
  forget(peerId: string): void {
    for (let i = this.targets.length - 1; i >= 0; i--) {
      const t = this.targets[i]!;
      if (t.peerId === peerId) {
        clearTimeout(t.timer);
        this.targets.splice(i, 1);
      }
    }
  }

  /** The peer connected: its dials succeeded (from now on, for the backoff's reset). */
  connected(peerId: string): void {
    for (const t of this.targets) {
      if (t.peerId === peerId) t.connectedAt ??= Date.now();
    }
    const ps = this.host.known(peerId);
    if (ps && !this.host.isDirect(ps)) this.scheduleDirect(peerId);
  }

  /** The peer's last connection closed: dial it again, after a backoff unless it lasted. */
  disconnected(peerId: string): void {
    for (const t of this.targets) {
      if (t.peerId !== peerId || t.dialing) continue;
      if (t.connectedAt !== null && Date.now() - t.connectedAt >= STABLE_MS) t.attempt = 0;
      t.connectedAt = null;
      this.schedule(t, backoff(t.attempt++));
    }
  }

  /** Cancels every timer. */
  stop(): void {
    for (const t of this.targets) clearTimeout(t.timer);
  }

  /** A peer found by mDNS: dial it (again) unless connected. */
  onDiscovery(info: PeerInfo): void {
    const peerId = info.id.toString();
    if (this.host.stopped() || peerId === this.host.selfId || !this.host.allowPeer(peerId)) return;
    const addrs = info.multiaddrs.filter((ma) => ma.getComponents().some((c) => c.name === 'tcp'));
    if (!addrs.length) return;
    const ps = this.host.state(info.id);
    for (const ma of addrs) ps?.addresses.add(withPeer(ma.toString(), peerId));
    let t = this.targets.find((x) => !x.explicit && x.peerId === peerId);
    if (!t) {
      t = {
        label: `${peerId} (mDNS)`, explicit: false, addrs, peerId, attempt: 0,
        timer: undefined, dialing: false, connectedAt: null, lastError: null,
      };
      this.targets.push(t);
      this.host.log(`found ${deviceIdOf(peerId)} (${peerId}) on the local network`);
    } else {
      t.addrs = addrs;
    }
    if (!t.dialing && t.timer === undefined && !(ps && this.host.isConnected(ps))) this.schedule(t, 0);
  }

  /** Schedules the peer's direct targets that wait for nothing (they stop once a direct connection is up). */
  private scheduleDirect(peerId: string): void {
    for (const x of this.targets) {
      if (x.peerId === peerId && !x.dialing && x.timer === undefined && !x.label.includes('/p2p-circuit')) this.schedule(x, backoff(x.attempt++));
    }
  }

  private schedule(t: Target, delayMs: number): void {
    if (this.host.stopped()) return;
    clearTimeout(t.timer);
    t.timer = setTimeout(() => {
      t.timer = undefined;
      this.host.guard(`dialing ${t.label}`, () => this.dial(t));
    }, delayMs);
    t.timer.unref?.();
  }

  private async dial(t: Target): Promise<void> {
    if (this.host.stopped() || t.dialing) return;
    const known = t.peerId ? this.host.state(t.peerId) : null;
    // Connected through a relay only: direct addresses are still dialed (direct.ts), on their backoff.
    const circuit = t.label.includes('/p2p-circuit');
    if (known && (circuit ? this.host.isConnected(known) : this.host.isDirect(known))) return; // rescheduled when it disconnects
    if (t.peerId && !this.host.allowPeer(t.peerId)) {
      const why = `not dialing ${t.label}: the peer is not on the allow-list`;
      if (why !== t.lastError) this.host.log(why);
      t.lastError = why;
      this.schedule(t, backoff(t.attempt++));
      return;
    }
    // A relay's circuit address is a fallback: dialed only while no direct dial to the peer is
    // under way or untried (libp2p would join it to that dial, behind the direct address).
    if (t.peerId && t.label.includes('/p2p-circuit/') && this.targets.some((x) => x.peerId === t.peerId && !x.label.includes('/p2p-circuit/') && (x.dialing || (x.attempt === 0 && x.lastError === null)))) {
      this.schedule(t, RELAY_FALLBACK_WAIT_MS);
      return;
    }
    t.dialing = true;
    try {
      const target = t.explicit ? t.addrs[0]! : t.addrs;
      // libp2p aborts pending dials itself when the node stops.
      const conn = await this.host.node.dial(target, { signal: AbortSignal.timeout(this.host.dialTimeoutMs) });
      const peerId = conn.remotePeer.toString();
      if (t.peerId !== peerId) {
        t.peerId = peerId;
        if (t.explicit) this.host.state(peerId)?.addresses.add(withPeer(t.label, peerId));
      }
      t.connectedAt ??= Date.now();
      if (t.lastError !== null) this.host.log(`reached ${t.label} again`);
      t.lastError = null;
      // The connection may have closed already (the disconnect came before we knew the id).
      const ps = this.host.state(peerId);
      if (ps && !this.host.isConnected(ps) && !this.host.stopped()) this.schedule(t, backoff(t.attempt++));
      // Reached through a relay while direct addresses fail: keep trying them, on their backoff.
      else if (ps && !this.host.isDirect(ps) && !this.host.stopped()) this.scheduleDirect(peerId);
    } catch (err) {
      if (this.host.stopped()) return;
      const why = this.describeDialError(t, err);
      const delay = backoff(t.attempt++);
      if (why !== t.lastError) this.host.log(`${why}; retrying every ${Math.round(BACKOFF_MAX_MS / 1000)} s at most (next in ${delay / 1000} s)`);
      t.lastError = why;
      this.schedule(t, delay);
    } finally {
      t.dialing = false;
    }
  }

  private describeDialError(t: Target, err: unknown): string {
    const text = errText(err);
    const errors = (err as { errors?: unknown[] } | null)?.errors;
    const all = Array.isArray(errors) && errors.length ? errors.map(errText).join('; ') : text;
    const verdict = notInGroup(err);
    if (verdict) {
      if (/not in a group yet/.test(verdict.message)) return `not dialing ${t.label}: ${verdict.message}`;
      return `cannot connect to ${t.label}: ${verdict.message}`;
    }
    if (this.host.grouped && !NOT_A_KEY_PROBLEM.test(all)) {
      return `peer ${t.label} refused the connection: not in this group (wrong group key?)`;
    }
    const hint = /Message length too long/i.test(all) ? ' (the peer may be in a group: set the same group key)' : '';
    return `could not reach ${t.label}: ${all}${hint}`;
  }
}
