/**
 * The topology helper proves its NAT: a host behind router 1 reaches a server in the public
 * namespace, which sees router 1's WAN address (a random source port behind the fully random
 * NAT) and cannot connect back; two home networks cannot reach each other; a moved host is on
 * its new network; `remove()` leaves no namespace behind.
 *
 * Needs root, iproute2 and nftables: skipped with a loud notice when namespaces cannot be made,
 * except under CI=true, where it fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { until } from '../../packages/core/test/support/poll.js';
import { listNamespaces } from '../support/netns.js';
import { createTopology, type Host, type Topology } from '../support/topology.js';

let topo: Topology | null = null;
const procs = new Set<ChildProcess>();

afterAll(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  if (topo) {
    const left = topo.remove();
    const prefix = topo.prefix;
    topo = null;
    expect(left).toEqual([]);
    expect(listNamespaces().filter((n) => n.startsWith(prefix))).toEqual([]);
  }
});

/** A TCP server in `host` on port 7000 that answers each connection with the peer's address:port. */
async function echoAddressServer(t: Topology, host: Host): Promise<void> {
  const src = `require('node:net').createServer((s) => s.end(s.remoteAddress + ':' + s.remotePort)).listen(7000, '0.0.0.0', () => console.log('up'))`;
  const p = spawn('ip', ['netns', 'exec', host.ns, process.execPath, '-e', src], { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.add(p);
  let out = '';
  p.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  p.stderr!.setEncoding('utf8').on('data', (s: string) => (out += s));
  await until(() => out.includes('up') || p.exitCode !== null, { timeoutMs: 10_000, what: `a server in ${host.name}`, detail: () => out });
  if (p.exitCode !== null) throw new Error(`server in ${host.name} exited: ${out}`);
}

/** Connects from `from` to addr:7000; resolves to what the server answered with, and the local port, or the error code. */
function connect(t: Topology, from: Host, addr: string): { ok: true; seen: string; localPort: number } | { ok: false; error: string } {
  const src = `const s = require('node:net').connect({ host: '${addr}', port: 7000, timeout: 2000 });
let d = ''; s.on('data', (b) => (d += b)); s.on('end', () => { console.log(JSON.stringify({ ok: true, seen: d, localPort: s.localPort })); });
s.on('timeout', () => { console.log(JSON.stringify({ ok: false, error: 'timeout' })); s.destroy(); });
s.on('error', (e) => console.log(JSON.stringify({ ok: false, error: e.code || e.message })));`;
  const r = t.exec(from.ns, process.execPath, ['-e', src], 10_000);
  return JSON.parse(r.stdout.trim().split('\n').pop() || `{"ok":false,"error":${JSON.stringify(r.stderr)}}`) as ReturnType<typeof connect>;
}

describe('topology helper', () => {
  it('masquerades each home network, keeps homes apart, and moves a host', { timeout: 60_000 }, async ({ skip }) => {
    const made = createTopology({ homes: 2, randomPorts: [false, true] });
    if (!made.ok) {
      if (process.env.CI === 'true') throw new Error(`the topology test needs network namespaces: ${made.reason}`);
      console.warn(`\ntopology test SKIPPED: cannot create network namespaces (needs root): ${made.reason}\n`);
      return skip(made.reason);
    }
    const t = (topo = made.topology);
    const server = t.addHost('srv', 'public');
    const h1 = t.addHost('h1', 1);
    const h2 = t.addHost('h2', 2);
    expect(server.address).toMatch(/^198\.18\.0\.\d+$/);
    expect(h1.address).toMatch(/^10\.201\.1\.\d+$/);
    expect(h2.address).toMatch(/^10\.201\.2\.\d+$/);
    await Promise.all([echoAddressServer(t, server), echoAddressServer(t, h1), echoAddressServer(t, h2)]);

    // Out through NAT 1: the server sees router 1's WAN address, not the host's.
    const out1 = connect(t, h1, server.address);
    expect(out1).toMatchObject({ ok: true });
    if (!out1.ok) throw new Error('unreachable');
    expect(out1.seen.split(':')[0]).toBe(t.homes[0]!.wan);
    // Out through the fully random NAT 2: router 2's address, and a port other than the host's.
    const out2 = connect(t, h2, server.address);
    if (!out2.ok) throw new Error(`h2 could not reach the server: ${out2.error}`);
    expect(out2.seen.split(':')[0]).toBe(t.homes[1]!.wan);
    expect(Number(out2.seen.split(':')[1])).not.toBe(out2.localPort);

    // Nothing comes in: the server cannot reach the host behind the router, nor the router's port.
    expect(connect(t, server, h1.address).ok).toBe(false);
    expect(connect(t, server, t.homes[0]!.wan).ok).toBe(false);
    // Two homes cannot reach each other.
    expect(connect(t, h1, h2.address).ok).toBe(false);
    expect(connect(t, h2, h1.address).ok).toBe(false);

    // h1 moves to home 2: a new address there, it reaches h2 on that LAN and the server through NAT 2.
    t.move(h1, 2);
    expect(h1.address).toMatch(/^10\.201\.2\.\d+$/);
    const lan = connect(t, h1, h2.address);
    expect(lan, JSON.stringify(lan)).toMatchObject({ ok: true, seen: expect.stringMatching(new RegExp(`^${h1.address.replaceAll('.', '\\.')}:`)) });
    const moved = connect(t, h1, server.address);
    if (!moved.ok) throw new Error(`the moved host could not reach the server: ${moved.error}`);
    expect(moved.seen.split(':')[0]).toBe(t.homes[1]!.wan);
  });
});
