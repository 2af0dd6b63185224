/**
 * Direct when possible, on real sockets in network namespaces (test/support/topology.ts): R, a
 * relay-only device in the public namespace; H1 behind NAT 1 and H2 behind NAT 2 (a fully random
 * NAT), each a real roamd (ROAM_GROUP_KEY) in its own namespace, given only R's address. H1 and H2
 * reach each other through R. Then P, a member, appears in the public namespace knowing only R,
 * with its port closed at first (a firewall in P's namespace refuses connections to it): H1 and
 * H2 reach P through R. Then the port opens (as when a user forwards it): H1 and H2 connect to P
 * directly (P's address found through the address book, never typed), the relayed connections
 * are closed, the session reaches P, and status says `via: "direct"`.
 *
 * Reachability by dial-back: P is found reachable from outside (R dialed it back), H1 not, with
 * its reservation on R (status --json and doctor). Members offer relay: R stops, and H1 and H2
 * meet again through P, the one reachable member; a device with another key gets nothing from
 * P. Then P stops too: doctor on H1 says nothing
 * reaches it and gives the commands (a relay, a forwarded port, UPnP).
 *
 * Needs root, iproute2 and nftables: skipped with a loud notice when namespaces cannot be made,
 * except under CI=true, where it fails.
 */
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { until } from '../harness/poll.js';
import { makeDaemon, type DaemonHandle } from '../support/daemons.js';
import { FIXTURE, PORT, SID, labTopology, peerOf, startIn, status, waitFor as waitForPeers } from '../support/lab.js';

const lab = labTopology();
const waitFor = (what: string, ds: DaemonHandle[], fn: () => boolean, timeoutMs?: number): Promise<void> =>
  waitForPeers(what, ds, fn, ({ name, connected, via, relay, role }) => ({ name, connected, via, relay, role }), timeoutMs);
const via = (on: DaemonHandle, to: DaemonHandle): string | null | undefined => peerOf(status(on), to)?.via;

describe('direct when possible', () => {
  it('NATed members reached through a relay connect directly to a member that appears in public, which then relays for them', { timeout: 150_000 }, async ({ skip }) => {
    const made = lab.make({ homes: 2, randomPorts: [false, true] });
    if (!made.ok) {
      if (process.env.CI === 'true') throw new Error(`the reach-direct test needs network namespaces: ${made.reason}`);
      console.warn(`\nreach-direct e2e test SKIPPED: cannot create network namespaces (needs root): ${made.reason}\n`);
      return skip(made.reason);
    }
    const t = made.topology;
    const [hr, hh1, hh2, hp, hx] = [t.addHost('r', 'public'), t.addHost('h1', 1), t.addHost('h2', 2), t.addHost('p', 'public'), t.addHost('x', 'public')];
    const [r, h1, h2, p] = [makeDaemon('r'), makeDaemon('h1'), makeDaemon('h2'), makeDaemon('p')];
    const x = makeDaemon('x', { env: { ROAM_GROUP_KEY: '6b'.repeat(32) } });
    const dir = join(h1.projects, '-home-alice-code-app');
    mkdirSync(dir, { recursive: true });

    await startIn(hr, r, ['--relay']);
    const rAddr = `/ip4/${hr.address}/tcp/${PORT}/p2p/${r.peerId}`;
    await Promise.all([startIn(hh1, h1, ['--peer', rAddr]), startIn(hh2, h2, ['--peer', rAddr])]);
    const all = [r, h1, h2, p];

    // H1 and H2 meet through R: a session written on H1 reaches H2 on a circuit.
    const session = join(dir, `${SID}.jsonl`);
    copyFileSync(FIXTURE, session);
    const onH2 = join(h2.projects, '-home-alice-code-app', `${SID}.jsonl`);
    await waitFor('the session to reach h2 through the relay', all.slice(0, 3), () => existsSync(onH2) && readFileSync(onH2).equals(readFileSync(session)), 45_000);
    await waitFor('h1 and h2 to see each other via the relay', all.slice(0, 3), () => via(h1, h2) === 'relay' && via(h2, h1) === 'relay');

    // P appears in public knowing only R, its port closed: H1 and H2 reach it through R only.
    const fw = (args: string): void => {
      const r = t.exec(hp.ns, 'nft', args.split(' '));
      expect(r.status, r.stderr).toBe(0);
    };
    fw('add table inet roamfw');
    fw('add chain inet roamfw input { type filter hook input priority 0 ; }');
    fw(`add rule inet roamfw input tcp dport ${PORT} ct state new reject with tcp reset`);
    await startIn(hp, p, ['--peer', rAddr]);
    await waitFor('h1 and h2 to reach p through the relay', all, () => via(h1, p) === 'relay' && via(h2, p) === 'relay', 45_000);

    // The port opens: the NATed members dial P's address from the book and leave the circuit.
    fw('delete table inet roamfw');
    const pAddr = `/ip4/${hp.address}/tcp/${PORT}/p2p/${p.peerId}`;
    await waitFor('h1 and h2 to reach p directly', all, () =>
      via(h1, p) === 'direct' && via(h2, p) === 'direct' && via(p, h1) === 'direct' && via(p, h2) === 'direct', 45_000);
    // Found through the book: H1 and H2 were only ever given R's address.
    for (const m of [h1, h2]) expect(peerOf(status(m), p)!.addresses).toContain(pAddr);
    const onP = join(p.projects, '-home-alice-code-app', `${SID}.jsonl`);
    await waitFor('the session to reach p', all, () => existsSync(onP) && readFileSync(onP).equals(readFileSync(session)), 30_000);
    // The direct connection stays the only one: no circuit to P is left open on either side.
    await waitFor('no relayed connection to p left', all, () => [h1, h2].every((m) => peerOf(status(m), p)?.relay === null));
  
    // Dial-back: P is reachable from outside (checked by a member on another network), H1 is not and holds its reservation on R.
    const rName = status(r).deviceId;
    await waitFor('p to be found reachable and h1 not', all, () => {
      const [sp, s1] = [status(p).reachability, status(h1).reachability];
      return sp.reachable === 'yes' && sp.checkedBy.length > 0 && s1.reachable === 'no' && s1.relay === rName;
    }, 30_000);
    expect(status(p).reachability.addresses).toEqual([`/ip4/${hp.address}/tcp/${PORT}`]);
    const doctor = (d: DaemonHandle) => (JSON.parse(d.roam('doctor', '--json').stdout) as { checks: Array<{ check: string; level: string; detail: string; fix?: string }> }).checks.find((c) => c.check === 'reach');
    expect(doctor(h1)).toMatchObject({ level: 'ok', detail: expect.stringContaining(`reservation on relay ${rName}`) });
    expect(doctor(p)).toMatchObject({ level: 'ok', detail: expect.stringContaining(`reachable from outside at /ip4/${hp.address}/tcp/${PORT}`) });

    // Members offer relay: R stops, and H1 and H2 meet again through P (reachable, so it relays for members).
    await r.kill('SIGTERM');
    await waitFor('h1 and h2 to meet again through p', [h1, h2, p], () => {
      const [a, b] = [peerOf(status(h1), h2), peerOf(status(h2), h1)];
      return a?.via === 'relay' && a.relay === 'p' && b?.via === 'relay' && b.relay === 'p' && status(h1).reachability.relay === 'p';
    }, 60_000);
    appendFileSync(session, readFileSync(FIXTURE));
    await waitFor('more of the session to reach h2 through p', [h1, h2, p], () => readFileSync(onH2).equals(readFileSync(session)), 30_000);

    // Only to members: a device with another group key gets no connection to P, so no reservation.
    await startIn(hx, x, ['--peer', pAddr]);
    await until(() => x.output.includes('not in this group'), { timeoutMs: 20_000, everyMs: 200, what: 'x to be refused by p', detail: () => x.output.slice(-2000) });
    expect(status(x).addresses.filter((a) => a.includes('p2p-circuit'))).toEqual([]);
    expect(peerOf(status(p), x)).toBeUndefined();

    // P stops too: nothing reaches H1, and doctor says what to do, with the commands.
    await p.kill('SIGTERM');
    await until(() => doctor(h1)?.level === 'warn', { timeoutMs: 60_000, everyMs: 500, what: 'doctor on h1 to warn that nothing reaches it', detail: () => doctor(h1) });
    const fix = doctor(h1)!.fix!;
    for (const cmd of ['roamd --relay --listen /ip4/0.0.0.0/tcp/4001', `forward TCP port ${PORT} on your router to ${hh1.address}:${PORT}`, 'UPnP']) expect(fix).toContain(cmd);
  });
});
