/**
 * Reachability by dial-back (`/roam/dialback/1.0.0`): libp2p's AutoNAT needs several peers to
 * decide, and a group has two or three. Here a device asks the members it is directly connected
 * to (a member on another network, or a relay-only device) to open a TCP connection back to the
 * addresses it could be reached at, and tells from their answers whether it is reachable from
 * outside.
 *
 * - The candidates: its listen addresses with a public IP, what UPnP mapped (libp2p adds those to
 *   the listen addresses), and each IP a member observed it connect from (identify) with each
 *   listen port (a forwarded port, or a NAT that keeps ports). Private, loopback and link-local
 *   addresses are never asked about: a member on the same LAN proves nothing about outside.
 * - The asked side dials only addresses on the IP it sees the asking connection come from (a
 *   direct connection; none through a relay), at most `MAX_ADDRS` a request, one request at a
 *   time per peer and `MAX_CONCURRENT` in all: a member cannot make another dial a third party.
 *   A dial-back is a plain TCP connect (closed at once): the NAT either lets it through or not.
 * - The verdict: 'yes' when some member reached some candidate (those addresses are then signed
 *   into this device's address record), 'no' when members answered and none did, 'unknown' when
 *   no member on another network answered (or there is no candidate to ask about).
 */
import { isIP } from 'node:net';
import { connect } from 'node:net';
import type { Stream } from '@libp2p/interface';
import { lpStream } from '@libp2p/utils';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { z } from 'zod';
import { errText } from './errors.js';
import type { Network } from './network.js';
import { deviceIdOf } from './peer-ids.js';

export const DIALBACK_PROTOCOL = '/roam/dialback/1.0.0';
const MAX_ADDRS = 8;
const MAX_CONCURRENT = 4;
const DIAL_TIMEOUT_MS = 4_000;
const STREAM_TIMEOUT_MS = 15_000;
const MAX_MESSAGE_BYTES = 4096;
/** Members asked per check. */
const ASK_AT_MOST = 3;
/** How often the candidates are looked at; a check runs when they or the peers changed, or this long passed. */
const TICK_MS = 3_000;
/** Rechecked this often while reachable; sooner while not (a port may just have been forwarded). */
const RECHECK_MS = 10 * 60_000;
const RECHECK_UNREACHABLE_MS = 60_000;
const MAX_OBSERVED = 4;

const requestSchema = z.strictObject({ v: z.literal(1), addrs: z.array(z.string().max(256)).max(MAX_ADDRS) });
const responseSchema = z.strictObject({ v: z.literal(1), reachable: z.array(z.string().max(256)).max(MAX_ADDRS), refused: z.string().max(200).optional() });

export interface ReachState {
  /** Whether this device is reachable from outside its network. */
  readonly reachable: 'yes' | 'no' | 'unknown';
  /** The peer ids of the members that dialed back (the last check). */
  readonly checkedBy: string[];
  /** The addresses members reached. */
  readonly addresses: string[];
  /** When the last check ended (ms since the epoch), or null. */
  readonly checkedAt: number | null;
}

/** Whether an IP is one a device on another network could not reach (private, loopback, link-local, unspecified). */
export function privateIp(ip: string): boolean {
  if (isIP(ip) === 4) {
    const [a, b] = ip.split('.').map(Number) as [number, number];
    return a === 10 || a === 127 || a === 0 || (a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b < 128);
  }
  const l = ip.toLowerCase();
  return l === '::' || l === '::1' || l.startsWith('fe80:') || l.startsWith('fc') || l.startsWith('fd');
}

/** `{ ip, port }` of a plain /ip4|ip6/…/tcp/… address (nothing after), or null. */
export function tcpTarget(addr: string): { ip: string; port: number } | null {
  try {
    const cs = multiaddr(addr).getComponents();
    if (cs.length !== 2 || (cs[0]!.name !== 'ip4' && cs[0]!.name !== 'ip6') || cs[1]!.name !== 'tcp') return null;
    const port = Number(cs[1]!.value);
    return cs[0]!.value && port > 0 && port < 65536 ? { ip: cs[0]!.value, port } : null;
  } catch {
    return null;
  }
}

/** The IP a connection's remote address comes from (null through a relay). */
function remoteIp(remoteAddr: string): string | null {
  if (remoteAddr.includes('/p2p-circuit')) return null;
  const m = /^\/ip[46]\/([^/]+)\//.exec(remoteAddr);
  return m ? m[1]! : null;
}

function tcpConnects(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: ip, port, timeout: DIAL_TIMEOUT_MS });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

export class Reachability {
  private readonly observed: string[] = [];
  private readonly serving = new Set<string>();
  private state: ReachState = { reachable: 'unknown', checkedBy: [], addresses: [], checkedAt: null };
  private lastKey = '';
  private checking = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly net: Network,
    private readonly log: (line: string) => void,
  ) {}

  get current(): ReachState {
    return this.state;
  }

  /** Calls `fn` when the verdict or the reached addresses change. */
  onChange(fn: () => void): void {
    this.listeners.add(fn);
  }

  /** An address a member saw this device connect from (identify). */
  noteObserved(ma: Multiaddr | undefined): void {
    const m = ma ? /^\/ip[46]\/([^/]+)\/tcp\//.exec(ma.toString()) : null;
    if (!m || privateIp(m[1]!)) return;
    const ip = m[1]!;
    const i = this.observed.indexOf(ip);
    if (i >= 0) this.observed.splice(i, 1);
    this.observed.unshift(ip);
    this.observed.splice(MAX_OBSERVED);
  }

  async start(): Promise<void> {
    await this.net.handle(DIALBACK_PROTOCOL, (stream, peer, remoteAddr) => this.serve(stream, peer, remoteAddr));
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref?.();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /** The addresses to ask about (see the module comment). */
  candidates(): string[] {
    const suffix = `/p2p/${this.net.peerId}`;
    const listen = this.net.addresses().map((a) => (a.endsWith(suffix) ? a.slice(0, -suffix.length) : a)).map((a) => ({ a, t: tcpTarget(a) }));
    const out = new Set<string>();
    for (const { a, t } of listen) if (t && !privateIp(t.ip)) out.add(a);
    const ports = new Set(listen.flatMap(({ t }) => (t ? [t.port] : [])));
    for (const ip of this.observed) for (const port of ports) out.add(`/${isIP(ip) === 6 ? 'ip6' : 'ip4'}/${ip}/tcp/${port}`);
    return [...out].slice(0, MAX_ADDRS);
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.checking) return;
    const asked = this.net.peers().filter((p) => p.connected && p.via === 'direct').map((p) => p.peerId).sort().slice(0, ASK_AT_MOST);
    const cands = this.candidates();
    const key = JSON.stringify([cands, asked]);
    const every = this.state.reachable === 'yes' ? RECHECK_MS : RECHECK_UNREACHABLE_MS;
    if (key === this.lastKey && this.state.checkedAt !== null && Date.now() - this.state.checkedAt < every) return;
    this.lastKey = key;
    this.checking = true;
    try {
      await this.check(cands, asked);
    } finally {
      this.checking = false;
    }
  }

  private async check(cands: string[], peers: string[]): Promise<void> {
    const checkedBy: string[] = [];
    const reached = new Set<string>();
    if (cands.length) {
      await Promise.all(peers.map(async (peer) => {
        try {
          const got = await this.ask(peer, cands);
          if (got === null) return;
          checkedBy.push(peer);
          for (const a of got) if (cands.includes(a)) reached.add(a);
        } catch (err) {
          if (!this.stopped) this.log(`asking ${deviceIdOf(peer)} to dial this device back failed: ${errText(err)}`);
        }
      }));
    }
    if (this.stopped) return;
    const reachable = reached.size ? 'yes' : checkedBy.length ? 'no' : 'unknown';
    const before = this.state;
    this.state = { reachable, checkedBy: checkedBy.sort(), addresses: [...reached].sort(), checkedAt: Date.now() };
    if (before.reachable !== reachable || before.addresses.join() !== this.state.addresses.join()) {
      const by = checkedBy.map(deviceIdOf).join(', ');
      this.log(reachable === 'yes'
        ? `reachable from outside at ${this.state.addresses.join(', ')} (dialed back by ${by})`
        : reachable === 'no' ? `not reachable from outside (dialed back by ${by}): members reach this device through a relay` : 'reachability unknown: no member on another network to dial this device back');
      for (const fn of this.listeners) fn();
    }
  }

  /** The addresses `peer` reached, or null when it refused to check. */
  private async ask(peer: string, addrs: string[]): Promise<string[] | null> {
    const stream = await this.net.openProtocolStream(peer, DIALBACK_PROTOCOL, AbortSignal.timeout(STREAM_TIMEOUT_MS));
    try {
      const lp = lpStream(stream, { maxDataLength: MAX_MESSAGE_BYTES });
      await lp.write(new TextEncoder().encode(JSON.stringify({ v: 1, addrs })), { signal: AbortSignal.timeout(STREAM_TIMEOUT_MS) });
      const bytes = await lp.read({ signal: AbortSignal.timeout(STREAM_TIMEOUT_MS) });
      await stream.close().catch(() => undefined);
      const parsed = responseSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes.subarray())));
      if (!parsed.success) throw new Error('malformed dial-back answer');
      return parsed.data.refused !== undefined ? null : parsed.data.reachable;
    } catch (err) {
      stream.abort(err as Error);
      throw err;
    }
  }

  /** Dials back the asking member's addresses on the IP its connection comes from. */
  private async serve(stream: Stream, peer: string, remoteAddr: string): Promise<void> {
    const lp = lpStream(stream, { maxDataLength: MAX_MESSAGE_BYTES });
    const answer = (body: { reachable: string[]; refused?: string }) => lp.write(new TextEncoder().encode(JSON.stringify({ v: 1, ...body })), { signal: AbortSignal.timeout(STREAM_TIMEOUT_MS) });
    try {
      const bytes = await lp.read({ signal: AbortSignal.timeout(STREAM_TIMEOUT_MS) });
      const parsed = requestSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes.subarray())));
      if (!parsed.success) throw new Error('malformed dial-back request');
      const ip = remoteIp(remoteAddr);
      if (ip === null || privateIp(ip)) await answer({ reachable: [], refused: 'not on another network' });
      else if (this.serving.has(peer) || this.serving.size >= MAX_CONCURRENT) await answer({ reachable: [], refused: 'busy' });
      else {
        this.serving.add(peer);
        try {
          const targets = parsed.data.addrs.map((a) => ({ a, t: tcpTarget(a) })).filter(({ t }) => t !== null && t.ip === ip);
          const ok = await Promise.all(targets.map(async ({ a, t }) => ((await tcpConnects(t!.ip, t!.port)) ? a : null)));
          await answer({ reachable: ok.filter((a): a is string => a !== null) });
        } finally {
          this.serving.delete(peer);
        }
      }
      await stream.close().catch(() => undefined);
    } catch (err) {
      this.log(`a dial-back request from ${deviceIdOf(peer)} was refused: ${errText(err)}`);
      stream.abort(err as Error);
    }
  }
}
