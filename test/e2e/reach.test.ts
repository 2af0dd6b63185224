/**
 * Reach across NAT through the group's address book, on real sockets in network namespaces
 * (test/support/topology.ts): P in the public namespace, H1 behind NAT 1, H2 behind NAT 2 (a
 * fully random NAT), each a real roamd (ROAM_GROUP_KEY) inside its own namespace. H1 and H2 are
 * given only P's address. A session written on H1 reaches H2 through P, and each address book
 * holds the others' signed records. Then Q appears in public knowing only P: H1 and H2 connect to
 * Q directly, found through the book. Then H1 moves to NAT 2's network and is found again with no
 * command typed; then H2 restarts with no `--peer` at all and reaches the group from the book it
 * saved. The `roam` CLI runs on the host: the control socket is a file.
 *
 * Needs root, iproute2 and nftables: skipped with a loud notice when namespaces cannot be made,
 * except under CI=true, where it fails.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeDaemon, type DaemonHandle } from '../support/daemons.js';
import { FIXTURE, PORT, SID, labTopology, peerOf, startIn, status, waitFor as waitForPeers } from '../support/lab.js';
import type { Host } from '../support/topology.js';

const lab = labTopology();
const waitFor = (what: string, ds: DaemonHandle[], fn: () => boolean, timeoutMs?: number): Promise<void> =>
  waitForPeers(what, ds, fn, ({ name, connected, addresses }) => ({ name, connected, addresses }), timeoutMs);

const connected = (on: DaemonHandle, to: DaemonHandle): boolean => peerOf(status(on), to)?.connected === true;
/** Whether `on`'s status lists an address of `of` on `host`'s current network address. */
const knows = (on: DaemonHandle, of: DaemonHandle, host: Host): boolean =>
  (peerOf(status(on), of)?.addresses ?? []).some((a) => a.startsWith(`/ip4/${host.address}/tcp/${PORT}/p2p/${of.peerId}`));

describe('reach through the address book', () => {
  it('NATed members find each other, a new public member, a moved member, and keep the book across a restart', { timeout: 120_000 }, async ({ skip }) => {
    const made = lab.make({ homes: 2, randomPorts: [false, true] });
    if (!made.ok) {
      if (process.env.CI === 'true') throw new Error(`the reach test needs network namespaces: ${made.reason}`);
      console.warn(`\nreach e2e test SKIPPED: cannot create network namespaces (needs root): ${made.reason}\n`);
      return skip(made.reason);
    }
    const t = made.topology;
    const [hp, hh1, hh2, hq] = [t.addHost('p', 'public'), t.addHost('h1', 1), t.addHost('h2', 2), t.addHost('q', 'public')];
    const [p, h1, h2, q] = [makeDaemon('p'), makeDaemon('h1'), makeDaemon('h2'), makeDaemon('q')];
    const dir = join(h1.projects, '-home-alice-code-app');
    mkdirSync(dir, { recursive: true });

    await startIn(hp, p);
    const pAddr = `/ip4/${hp.address}/tcp/${PORT}/p2p/${p.peerId}`;
    await Promise.all([startIn(hh1, h1, ['--peer', pAddr]), startIn(hh2, h2, ['--peer', pAddr])]);
    const all = [p, h1, h2];

    // A session written on H1 reaches H2 through P.
    const session = join(dir, `${SID}.jsonl`);
    copyFileSync(FIXTURE, session);
    const onH2 = join(h2.projects, '-home-alice-code-app', `${SID}.jsonl`);
    await waitFor('the session to reach h2 through p', all, () => existsSync(onH2) && readFileSync(onH2).equals(readFileSync(session)));

    // Each book holds the others' signed records, with their own LAN addresses (never typed anywhere).
    await waitFor('h1 and h2 to hold each other\'s and p\'s records', all, () =>
      knows(h1, h2, hh2) && knows(h2, h1, hh1) && knows(h1, p, hp) && knows(h2, p, hp) && knows(p, h1, hh1) && knows(p, h2, hh2));
    // The homes cannot reach each other directly: the NATs keep them apart (P, once found
    // reachable, may relay them to each other: members offer relay).
    expect(peerOf(status(h1), h2)?.via ?? null).not.toBe('direct');

    // Q appears in public knowing only P: H1 and H2 connect to it directly, found through the book.
    await startIn(hq, q, ['--peer', pAddr]);
    all.push(q);
    await waitFor('h1 and h2 to connect to q', all, () => connected(h1, q) && connected(h2, q) && knows(h1, q, hq) && knows(h2, q, hq));

    // Plain `roam status --verbose` lists them too.
    const verbose = h1.roam('status', '--verbose');
    expect(verbose.status, verbose.stderr).toBe(0);
    expect(verbose.stdout).toContain(`      at /ip4/${hq.address}/tcp/${PORT}/p2p/${q.peerId}`);

    // H1 moves to NAT 2's network: found again with no command typed (and now on H2's LAN). Its
    // old connections die with its old address (libp2p's pings notice); H1's last connection to
    // P and to Q closes, and new ones open from its new network.
    const idOf = (d: DaemonHandle) => peerOf(status(h2), d)?.deviceId ?? peerOf(status(p), d)!.deviceId;
    const [pId, qId] = [idOf(p), idOf(q)];
    const h1Log = h1.output.length;
    t.move(hh1, 2);
    const since = () => h1.output.slice(h1Log);
    await waitFor('the moved h1 to be found again', all, () =>
      since().includes(`disconnected from ${pId}`) && since().includes(`disconnected from ${qId}`) &&
      connected(h1, p) && connected(h1, q) && connected(h1, h2) && connected(p, h1) && connected(q, h1) && connected(h2, h1) &&
      knows(p, h1, hh1) && knows(q, h1, hh1) && knows(h2, h1, hh1), 60_000);

    // H2 restarts with no --peer at all: its saved book leads it back to the group.
    await h2.kill();
    expect(existsSync(join(h2.roamHome, 'state', 'address-book.json'))).toBe(true);
    await startIn(hh2, h2);
    const early = status(h2);
    expect(peerOf(early, p)?.addresses.some((a) => a.startsWith(`/ip4/${hp.address}/tcp/${PORT}/`))).toBe(true);
    await waitFor('the restarted h2 to reach p, q and h1 from its saved book', all, () => connected(h2, p) && connected(h2, q) && connected(h2, h1));
  });
});
