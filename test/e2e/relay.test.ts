/**
 * A relay-only device (`roamd --relay`) joins two members that no NAT lets meet, on real sockets
 * in network namespaces (test/support/topology.ts): R in the public namespace, H1 behind NAT 1, H2
 * behind NAT 2 (a fully random NAT), each a real roamd (ROAM_GROUP_KEY) in its own namespace, given
 * only R's address. A session written on H1 reaches H2 through a circuit on R; H1's status says
 * H2 is reached `via: "relay"` and R is a relay; `sync --wait` does not wait for R; R holds no
 * folder and no byte of the session; a device with another group key gets no reservation on R.
 *
 * Needs root, iproute2 and nftables: skipped with a loud notice when namespaces cannot be made,
 * except under CI=true, where it fails.
 */
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { until } from '../harness/poll.js';
import { makeDaemon, type DaemonHandle } from '../support/daemons.js';
import { FIXTURE, PORT, SID, filesContaining, labTopology, peerOf, startIn, status, waitFor as waitForPeers } from '../support/lab.js';

const lab = labTopology();
const waitFor = (what: string, ds: DaemonHandle[], fn: () => boolean, timeoutMs?: number): Promise<void> =>
  waitForPeers(what, ds, fn, ({ name, connected, via, relay, role, addresses }) => ({ name, connected, via, relay, role, addresses }), timeoutMs);

describe('a relay-only device', () => {
  it('relays two NATed members to each other, holds nothing, and refuses a non-member', { timeout: 90_000 }, async ({ skip }) => {
    const made = lab.make({ homes: 2, randomPorts: [false, true] });
    if (!made.ok) {
      if (process.env.CI === 'true') throw new Error(`the relay test needs network namespaces: ${made.reason}`);
      console.warn(`\nrelay e2e test SKIPPED: cannot create network namespaces (needs root): ${made.reason}\n`);
      return skip(made.reason);
    }
    const t = made.topology;
    const [hr, hh1, hh2, hx] = [t.addHost('r', 'public'), t.addHost('h1', 1), t.addHost('h2', 2), t.addHost('x', 'public')];
    const [r, h1, h2] = [makeDaemon('r'), makeDaemon('h1'), makeDaemon('h2')];
    const x = makeDaemon('x', { env: { ROAM_GROUP_KEY: '6b'.repeat(32) } });
    const dir = join(h1.projects, '-home-alice-code-app');
    mkdirSync(dir, { recursive: true });

    await startIn(hr, r, ['--relay']);
    const rAddr = `/ip4/${hr.address}/tcp/${PORT}/p2p/${r.peerId}`;
    await Promise.all([startIn(hh1, h1, ['--peer', rAddr]), startIn(hh2, h2, ['--peer', rAddr])]);
    const all = [r, h1, h2];

    // A session written on H1 reaches H2 through a circuit on R.
    const session = join(dir, `${SID}.jsonl`);
    copyFileSync(FIXTURE, session);
    const onH2 = join(h2.projects, '-home-alice-code-app', `${SID}.jsonl`);
    await waitFor('the session to reach h2 through the relay', all, () => existsSync(onH2) && readFileSync(onH2).equals(readFileSync(session)), 45_000);

    // 512 KiB more through the same circuit: libp2p's default circuit limit (128 KiB) would cut it.
    const MARKER = 'relay-carried-payload';
    const line = (i: number) => `${JSON.stringify({ type: 'user', sessionId: SID, uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, message: { role: 'user', content: `${MARKER} ${i} ${'x'.repeat(400)}` } })}\n`;
    appendFileSync(session, Array.from({ length: 1200 }, (_, i) => line(i)).join(''));
    expect(statSync(session).size).toBeGreaterThan(512 * 1024);
    await waitFor('the appended 512 KiB to reach h2 through the relay', all, () => readFileSync(onH2).equals(readFileSync(session)), 45_000);

    // H1 says how: H2 through relay R (named by its device id: a relay never syncs, so never says its name); R is a relay.
    const rId = status(r).deviceId;
    await waitFor('h1 to report h2 via the relay', all, () => {
      const s = status(h1);
      const p2 = peerOf(s, h2);
      return p2?.via === 'relay' && p2.relay === rId && peerOf(s, r)?.role === 'relay' && p2.role === 'member';
    });
    const viaR = peerOf(status(h1), r)!;
    expect(viaR).toMatchObject({ connected: true, via: 'direct', role: 'relay' });

    // `sync --wait --all` waits for H2, not for the relay that holds nothing.
    const wait = h1.roam('sync', '--wait', '--all', '--timeout', '20', '--json');
    expect(wait.status, wait.stderr).toBe(0);
    expect((JSON.parse(wait.stdout) as { peers: string[] }).peers).toEqual([h2.name]);

    // Neither member ever synced with R (R serves no sync protocol and opens no sync stream).
    for (const m of [h1, h2]) expect(m.output).not.toContain(`syncing with ${rId}`);
    expect(r.output).not.toContain('syncing with');

    // R holds no folder and no byte of the session.
    const rs = status(r);
    expect(rs.folders).toEqual([]);
    const text = readFileSync(session);
    const needles = [Buffer.from(MARKER), Buffer.from(SID), Buffer.from('init is analyzing your codebase'), text.subarray(text.length - 200, text.length - 100)];
    expect(filesContaining(r.home, needles)).toEqual([]);
    expect(filesContaining(r.roamHome, needles)).toEqual([]);

    // A device with another group key gets nothing from R: no connection, no reservation.
    await startIn(hx, x, ['--peer', rAddr]);
    await until(() => x.output.includes('not in this group'), { timeoutMs: 20_000, everyMs: 200, what: 'x to be refused by r', detail: () => x.output.slice(-2000) });
    const xs = status(x);
    expect(xs.addresses.filter((a) => a.includes('p2p-circuit'))).toEqual([]);
    expect(peerOf(xs, r)?.connected ?? false).toBe(false);
    expect(peerOf(status(r), x)).toBeUndefined();
  });
});
