/**
 * A measurement, not a feature: does TCP hole punching (DCUtR, @libp2p/dcutr) join two js-libp2p
 * nodes on Node 20 behind two NATs? In the lab (test/support/topology.ts): a relay R in public, A
 * behind NAT 1 and B behind NAT 2, both port-preserving (the best case; neither fully random),
 * each a plain js-libp2p node (test/support/dcutr-node.mjs) with identify, circuit relay and
 * DCUtR, its observed address confirmed so that DCUtR has public addresses to try. A dials B
 * through R; DCUtR then tries to open a direct connection.
 *
 * The finding (docs/NETWORK.md): it does not. Node opens each outgoing TCP socket from a fresh
 * port (no SO_REUSEPORT, so not from the listen port nor the port the relay observed), so each
 * side's SYN reaches the other NAT from a mapping that NAT has never seen and is refused. This
 * test fails if that ever changes, so that the finding gets revisited. Public addresses outside
 * the reserved ranges: DCUtR ignores private ones (198.18.0.0/15 among them).
 *
 * Needs root, iproute2 and nftables: skipped with a loud notice when namespaces cannot be made,
 * except under CI=true, where it fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { until } from '../harness/poll.js';
import { labTopology } from '../support/lab.js';
import type { Host } from '../support/topology.js';

const SCRIPT = fileURLToPath(new URL('../support/dcutr-node.mjs', import.meta.url));
const lab = labTopology();
const procs: ChildProcess[] = [];
afterAll(() => {
  for (const p of procs) p.kill('SIGKILL');
});

function run(host: Host, args: string[]): { out: () => string; line: (prefix: string) => string | null } {
  let out = '';
  const p = spawn('ip', ['netns', 'exec', host.ns, process.execPath, SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEBUG: 'libp2p:dcutr*' } });
  procs.push(p);
  p.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  p.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  return {
    out: () => out,
    line: (prefix) => out.split('\n').find((l) => l.startsWith(`${prefix} `))?.slice(prefix.length + 1) ?? null,
  };
}

describe('DCUtR (TCP hole punching) with js-libp2p on Node 20', () => {
  it('does not join two NATed nodes directly: the connection stays relayed', { timeout: 90_000 }, async ({ skip }) => {
    const made = lab.make({ homes: 2, publicPrefix: '11.22.33' });
    if (!made.ok) {
      if (process.env.CI === 'true') throw new Error(`the DCUtR measurement needs network namespaces: ${made.reason}`);
      console.warn(`\nDCUtR measurement SKIPPED: cannot create network namespaces (needs root): ${made.reason}\n`);
      return skip(made.reason);
    }
    const t = made.topology;
    const [hr, ha, hb] = [t.addHost('r', 'public'), t.addHost('a', 1), t.addHost('b', 2)];
    const r = run(hr, ['relay']);
    await until(() => r.line('ID') !== null, { timeoutMs: 20_000, everyMs: 100, what: 'the relay to start', detail: () => r.out() });
    const rAddr = `/ip4/${hr.address}/tcp/4001/p2p/${r.line('ID')}`;
    const b = run(hb, ['peer', rAddr]);
    await until(() => b.line('CIRCUIT') !== null, { timeoutMs: 30_000, everyMs: 100, what: 'b to hold a reservation', detail: () => b.out() });
    const a = run(ha, ['peer', rAddr, b.line('CIRCUIT')!]);
    await until(() => a.line('RESULT') !== null, { timeoutMs: 60_000, everyMs: 200, what: 'the measurement to end', detail: () => ({ a: a.out().slice(-4000), b: b.out().slice(-4000) }) });
    const detail = `a:\n${a.out().slice(-3000)}\nb:\n${b.out().slice(-3000)}`;
    // The measurement ran: A reached B through R, and B (the inbound side) started DCUtR with A.
    expect(a.out().split('\n'), detail).toContain('RELAYED');
    expect(b.out(), detail).toContain('B sending connect');
    // Its outcome: no direct connection (each try: ECONNREFUSED, the other NAT answering a SYN
    // from a mapping it never made with a reset).
    expect(a.line('RESULT'), detail).toBe('relayed-only');
  });
});
