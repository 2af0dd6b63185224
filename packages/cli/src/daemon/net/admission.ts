/**
 * Limits before authentication: how many inbound connections may be pending (accepted by TCP, not
 * yet through the group handshake, Noise and yamux) per remote address and in all.
 *
 * libp2p alone bounds pending inbound connections in total only (10 by default), so a dozen idle
 * sockets from one outsider held every slot and members were refused until the handshake timed
 * out. Here, as a connection gater's `denyInboundConnection`:
 *
 * - one remote address (an IPv4 address, or an IPv6 /64, what one host can easily hold) has at
 *   most `perAddress` pending connections; more are refused at once;
 * - when `total` are pending, a newcomer evicts the oldest pending connection of the address that
 *   holds the most, rather than being refused: an outsider with a few addresses cannot keep a
 *   member from the slots, whatever it holds open.
 *
 * A connection stops being pending when libp2p finishes its upgrade (`denyInboundUpgradedConnection`)
 * or when it closes, whichever comes first. The group handshake's short deadline for its first
 * bytes (pairing/protector.ts) and libp2p's `inboundUpgradeTimeout` bound how long any stays.
 */
import type { MultiaddrConnection } from '@libp2p/interface';

export interface AdmissionLimits {
  perAddress: number;
  total: number;
}

export const DEFAULT_ADMISSION: AdmissionLimits = { perAddress: 4, total: 64 };

/** What the limits are compared on: an IPv4 address, an IPv6 /64, or the whole address. */
export function addressKey(maConn: Pick<MultiaddrConnection, 'remoteAddr'>): string {
  // A relayed connection: all come from the relay's address; keyed by relay and remote peer instead.
  if (maConn.remoteAddr.toString().includes('/p2p-circuit')) return maConn.remoteAddr.toString();
  for (const c of maConn.remoteAddr.getComponents()) {
    if (c.name === 'ip4' && c.value) return c.value;
    if (c.name === 'ip6' && c.value) return `${expandIp6(c.value).slice(0, 4).join(':')}::/64`;
  }
  return maConn.remoteAddr.toString();
}

function expandIp6(addr: string): string[] {
  const [head, tail] = addr.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0');
  return [...left, ...fill, ...right].map((h) => h.toLowerCase().replace(/^0+(?=.)/, ''));
}

interface Pending {
  conn: MultiaddrConnection;
  key: string;
  since: number;
}

export class InboundAdmission {
  private readonly pending = new Map<MultiaddrConnection, Pending>();
  private readonly perKey = new Map<string, Set<Pending>>();
  /** Refusals and evictions since start (for logs and tests). */
  refused = 0;
  evicted = 0;

  constructor(private readonly limits: AdmissionLimits = DEFAULT_ADMISSION) {}

  get size(): number {
    return this.pending.size;
  }

  /** The gater's `denyInboundConnection`: true refuses the connection. */
  deny(conn: MultiaddrConnection): boolean {
    const key = addressKey(conn);
    const mine = this.perKey.get(key);
    if (mine && mine.size >= this.limits.perAddress) {
      this.refused++;
      return true;
    }
    if (this.pending.size >= this.limits.total) this.evictOne();
    const p: Pending = { conn, key, since: Date.now() };
    this.pending.set(conn, p);
    this.perKey.set(key, (mine ?? new Set()).add(p));
    conn.addEventListener('close', () => this.release(conn), { once: true });
    return false;
  }

  /** The upgrade finished (the gater's `denyInboundUpgradedConnection`): no longer pending. */
  release(conn: MultiaddrConnection): void {
    const p = this.pending.get(conn);
    if (!p) return;
    this.pending.delete(conn);
    const set = this.perKey.get(p.key);
    set?.delete(p);
    if (set && set.size === 0) this.perKey.delete(p.key);
  }

  /** Drops the oldest pending connection of the address that holds the most. */
  private evictOne(): void {
    let worst: Set<Pending> | null = null;
    for (const set of this.perKey.values()) if (!worst || set.size > worst.size) worst = set;
    if (!worst) return;
    let oldest: Pending | null = null;
    for (const p of worst) if (!oldest || p.since < oldest.since) oldest = p;
    if (!oldest) return;
    this.release(oldest.conn);
    this.evicted++;
    oldest.conn.abort(new Error('too many pending connections: evicted'));
  }
}
