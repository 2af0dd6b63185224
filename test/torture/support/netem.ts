/**
 * Network faults between daemons in namespaces this test creates: A and B, each in its own
 * namespace, joined only through a third, R, with a veth pair on each side and no IP forwarding
 * in R. The only path between A and B is the fault-injecting proxy running in R (fault-proxy.mjs),
 * because this kernel has no `tc netem` (checked by `netemAvailable`). A partition is a real one:
 * R's end of A's veth pair is set down, then up again. Addresses exist only inside the namespaces.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { until } from '../../../packages/core/test/support/poll.js';
import { alive, trackNamespace, trackProcess } from './cleanup.js';

const PROXY = fileURLToPath(new URL('./fault-proxy.mjs', import.meta.url));

function ip(...args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 });
  if (r.error) return { ok: false, out: r.error.message };
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}`.trim() };
}

function mustIp(...args: string[]): void {
  const r = ip(...args);
  if (!r.ok) throw new Error(`ip ${args.join(' ')} failed: ${r.out}`);
}

/** Whether `tc qdisc add … netem` works in a namespace here (it needs CONFIG_NET_SCH_NETEM). */
export function netemAvailable(): { ok: boolean; detail: string } {
  const ns = `roam-netem-probe-${process.pid}-${randomBytes(2).toString('hex')}`;
  const made = ip('netns', 'add', ns);
  if (!made.ok) return { ok: false, detail: `no namespaces: ${made.out}` };
  trackNamespace(ns);
  try {
    mustIp('-n', ns, 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1');
    const r = spawnSync('tc', ['-n', ns, 'qdisc', 'add', 'dev', 'p0', 'root', 'netem', 'loss', '5%', 'delay', '100ms', '50ms'], { encoding: 'utf8', timeout: 10_000 });
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}${r.error?.message ?? ''}`.trim();
    return { ok: r.status === 0, detail: r.status === 0 ? 'tc netem works' : `tc qdisc add … netem: ${out}` };
  } finally {
    ip('netns', 'del', ns);
  }
}

export interface Side {
  readonly ns: string;
  /** The daemon's address (its end of the pair). */
  readonly address: string;
  /** R's address on this side (where the proxy listens for this side). */
  readonly gateway: string;
  /** R's interface on this side (set down for a partition). */
  readonly routerDev: string;
}

export interface Triple {
  readonly a: Side;
  readonly b: Side;
  readonly router: string;
}

/** Namespaces A, R, B: A ⇄ R ⇄ B, no forwarding in R. */
export function createTriple(prefix = 'roam-tt'): { ok: true; triple: Triple } | { ok: false; reason: string } {
  const base = `${prefix}-${process.pid}-${randomBytes(2).toString('hex')}`;
  const x = 1 + Math.floor(Math.random() * 254);
  const a: Side = { ns: `${base}-a`, address: `10.214.${x}.1`, gateway: `10.214.${x}.2`, routerDev: 'to-a' };
  const b: Side = { ns: `${base}-b`, address: `10.215.${x}.1`, gateway: `10.215.${x}.2`, routerDev: 'to-b' };
  const router = `${base}-r`;
  const first = ip('netns', 'add', router);
  if (!first.ok) return { ok: false, reason: `ip netns add: ${first.out}` };
  trackNamespace(router);
  for (const s of [a, b]) {
    mustIp('netns', 'add', s.ns);
    trackNamespace(s.ns);
  }
  for (const s of [a, b]) {
    mustIp('-n', router, 'link', 'add', s.routerDev, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', s.ns);
    mustIp('-n', router, 'addr', 'add', `${s.gateway}/24`, 'dev', s.routerDev);
    mustIp('-n', s.ns, 'addr', 'add', `${s.address}/24`, 'dev', 'eth0');
    mustIp('-n', router, 'link', 'set', s.routerDev, 'up');
    mustIp('-n', s.ns, 'link', 'set', 'eth0', 'up');
    mustIp('-n', s.ns, 'link', 'set', 'lo', 'up');
  }
  mustIp('-n', router, 'link', 'set', 'lo', 'up');
  return { ok: true, triple: { a, b, router } };
}

/** Cuts (down) or restores (up) the link between A's side and R. */
export function setLink(t: Triple, side: Side, up: boolean): void {
  mustIp('-n', t.router, 'link', 'set', side.routerDev, up ? 'up' : 'down');
}

export interface FaultConfig {
  delayMs: number;
  jitterMs: number;
  loss: number;
}

export interface ProxyStats {
  connections: number;
  open: number;
  segments: number;
  bytes: number;
  lost: number;
  resets: number;
  refused: number;
  maxQueued: number;
}

export class FaultProxy {
  private out = '';
  private constructor(readonly proc: ChildProcess) {
    proc.stdout!.setEncoding('utf8').on('data', (s: string) => (this.out += s));
    proc.stderr!.setEncoding('utf8').on('data', (s: string) => (this.out += s));
  }

  /** Starts the proxy in `ns` with `routes` (host:port → host:port). */
  static async start(ns: string, routes: Array<{ listen: string; target: string }>, faults: FaultConfig, seed: number): Promise<FaultProxy> {
    const cfg = JSON.stringify({ routes, ...faults, seed });
    const proc = trackProcess(spawn('ip', ['netns', 'exec', ns, process.execPath, PROXY, cfg], { stdio: ['pipe', 'pipe', 'pipe'] }));
    const p = new FaultProxy(proc);
    await until(() => p.out.includes('ready') || !alive(proc), { timeoutMs: 15_000, what: 'the fault proxy to listen', detail: () => p.out });
    if (!alive(proc)) throw new Error(`fault proxy exited: ${p.out}`);
    return p;
  }

  private send(line: string): void {
    this.proc.stdin!.write(`${line}\n`);
  }

  set(faults: Partial<FaultConfig>): void {
    this.send(`set ${JSON.stringify(faults)}`);
  }

  hold(): void {
    this.send('hold');
  }

  release(): void {
    this.send('release');
  }

  reset(): void {
    this.send('reset');
  }

  async stats(): Promise<ProxyStats> {
    const before = this.out.length;
    this.send('stats');
    let found: ProxyStats | null = null;
    await until(
      () => {
        const m = /\{"connections".*\}/.exec(this.out.slice(before));
        if (m) found = JSON.parse(m[0]) as ProxyStats;
        return found !== null;
      },
      { timeoutMs: 10_000, what: 'the proxy stats' },
    );
    return found!;
  }
}
