/**
 * Short pairing codes on a local network: two real roamd processes, each in its own network
 * namespace created here (joined by a veth pair, see test/support/netns.ts), mDNS on. The joiner
 * types the words alone (no --peer, no address in the code) and finds the inviter by mDNS; a
 * third device waiting with another number on the same network is not offered the code.
 *
 * Needs root and iproute2: skipped with a loud notice when namespaces cannot be made, except under
 * CI=true, where it fails.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../harness/poll.js';
import { makeDaemon, stopAll, type DaemonHandle } from '../support/daemons.js';
import { createVethPair, listNamespaces, type Namespace, type VethPair } from '../support/netns.js';
import { invite } from '../support/pair.js';

let veth: VethPair | null = null;
const procs = new Set<ChildProcess>();
const alive = (p: ChildProcess): boolean => p.exitCode === null && p.signalCode === null;

function lastResort(): void {
  for (const p of procs) if (alive(p)) p.kill('SIGKILL');
  if (veth) for (const n of [veth.a.name, veth.b.name]) spawnSync('ip', ['netns', 'del', n], { timeout: 5_000 });
}

afterEach(async () => {
  for (const p of procs) {
    if (!alive(p)) continue;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
  procs.clear();
  await stopAll();
  if (veth) {
    const names = [veth.a.name, veth.b.name];
    const left = veth.remove();
    veth = null;
    process.off('exit', lastResort);
    if (left.length || listNamespaces().some((n) => names.includes(n))) throw new Error(`network namespaces left behind: ${left.join(', ')}`);
  }
});

async function startIn(ns: Namespace, d: DaemonHandle): Promise<void> {
  const starting = d.start([], { netns: ns.name, listen: `/ip4/${ns.address}/tcp/0`, mdns: true });
  procs.add(d.proc!);
  await starting;
}

describe('roam pair --short on a local network', () => {
  it('the joiner finds the inviter by mDNS from the words alone', { timeout: 60_000 }, async ({ skip }) => {
    const made = createVethPair('roam-short');
    if (!made.ok) {
      if (process.env.CI === 'true') throw new Error(`this test needs network namespaces (root and iproute2): ${made.reason}`);
      console.warn(`short-code mDNS e2e test SKIPPED: cannot create network namespaces: ${made.reason}`);
      return skip(made.reason);
    }
    veth = made.pair;
    process.on('exit', lastResort);
    const a = makeDaemon('alpha', { env: { ROAM_GROUP_KEY: '' } });
    const b = makeDaemon('beta', { env: { ROAM_GROUP_KEY: '' } });
    const c = makeDaemon('gamma', { env: { ROAM_GROUP_KEY: '' } });
    // alpha and gamma share a namespace: two invitations on one network, with different numbers.
    await Promise.all([startIn(veth.a, a), startIn(veth.b, b), startIn(veth.a, c)]);
    const track = (p: ChildProcess): void => void procs.add(p);
    const mine = await invite(a, ['--short', '--timeout', '60'], track);
    let other = await invite(c, ['--short', '--timeout', '60'], track);
    // The numbers are random (1-99): redraw gamma's until it differs from alpha's.
    while (other.code.split('-')[0] === mine.code.split('-')[0]) {
      other.proc.kill('SIGTERM');
      await other.exit;
      other = await invite(c, ['--short', '--timeout', '60'], track);
    }
    const r = b.roam('pair', mine.code, '--timeout', '30');
    expect(r.status, `${r.stderr}\n${b.output.slice(-3000)}`).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^paired with alpha \\(${a.peerId}\\)`));
    // Polled: the log comes through a pipe, which may lag behind the command's answer.
    await until(() => b.output.includes('found on the local network'), { timeoutMs: 10_000, what: "beta's log to say it found alpha on the local network", detail: () => b.output.slice(-3000) });
    const done = await mine.exit;
    expect(done.status, done.stderr).toBe(0);
    // gamma's invitation is untouched: a device with another number refuses without using its code.
    expect(alive(other.proc)).toBe(true);
    expect(c.output).not.toMatch(/used the short code's one attempt/);
  });
});
