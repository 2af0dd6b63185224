/**
 * UPnP, on real sockets in network namespaces only (never the host's network): home 1's router
 * runs Debian's miniupnpd (nftables backend) on its LAN; H, a real roamd behind it, maps its
 * listen port there through @libp2p/upnp-nat. The router drops every new connection from its LAN
 * to P, so P, a member in the public namespace, can only meet H by dialing H's mapped address
 * (learned from the address book through Q, never typed): P connects to H directly, and H is
 * found reachable from outside by dial-back at the mapped address.
 *
 * Needs root, iproute2, nftables and miniupnpd: skipped with a loud notice when they are missing,
 * except under CI=true, where it fails.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeDaemon, type DaemonHandle } from '../support/daemons.js';
import { PORT, labTopology, peerOf, startIn, status, waitFor as waitForPeers } from '../support/lab.js';

const lab = labTopology();
const waitFor = (what: string, ds: DaemonHandle[], fn: () => boolean, timeoutMs?: number): Promise<void> =>
  waitForPeers(what, ds, fn, ({ name, connected, via, addresses }) => ({ name, connected, via, addresses }), timeoutMs);

let miniupnpd: ChildProcess | null = null;
const dir = mkdtempSync(join(tmpdir(), 'roam-upnp-'));
afterAll(() => {
  miniupnpd?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('UPnP', () => {
  it('a member behind a miniupnpd router gets a mapped port, and a public member connects to it there', { timeout: 90_000 }, async ({ skip }) => {
    const missing = spawnSync('sh', ['-c', 'command -v miniupnpd'], { encoding: 'utf8' }).status !== 0;
    // A WAN address outside the reserved ranges (see createTopology's publicPrefix).
    const made = missing ? { ok: false as const, reason: 'miniupnpd is not installed' } : lab.make({ homes: 1, publicPrefix: '11.22.33' });
    if (!made.ok) {
      if (process.env.CI === 'true') throw new Error(`the UPnP test needs network namespaces and miniupnpd: ${made.reason}`);
      console.warn(`\nUPnP e2e test SKIPPED: ${made.reason}\n`);
      return skip(made.reason);
    }
    const t = made.topology;
    const home = t.homes[0]!;
    const [hh, hq, hp] = [t.addHost('h', 1), t.addHost('q', 'public'), t.addHost('p', 'public')];
    const load = (script: string): void => {
      const r = spawnSync('ip', ['netns', 'exec', home.router, 'nft', '-f', '-'], { input: script, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    };
    // The router forwards what a mapping let in, and drops every new connection from its LAN to P.
    load([
      'insert rule ip filter lanfwd ct status dnat accept',
      `insert rule ip filter lanfwd ip daddr ${hp.address} ct state new drop`,
      // miniupnpd's own chains (what its nft_init.sh makes, without its iptables checks).
      'table inet roamupnp {',
      '  chain forward { type filter hook forward priority 0; policy accept; jump miniupnpd; }',
      '  chain miniupnpd { }',
      '  chain prerouting { type nat hook prerouting priority -100; policy accept; jump prerouting_miniupnpd; }',
      '  chain postrouting { type nat hook postrouting priority 110; policy accept; jump postrouting_miniupnpd; }',
      '  chain prerouting_miniupnpd { }',
      '  chain postrouting_miniupnpd { }',
      '}',
    ].join('\n'));
    writeFileSync(join(dir, 'miniupnpd.conf'), [
      'ext_ifname=wan', 'listening_ip=lan0', 'port=5555', 'enable_natpmp=no', 'enable_upnp=yes', 'secure_mode=yes',
      `lease_file=${join(dir, 'leases')}`, 'uuid=3c2b7a9e-1f44-4c0e-9d33-2a1b5c6d7e8f',
      'upnp_table_name=roamupnp', 'upnp_nat_table_name=roamupnp',
      'allow 1024-65535 10.201.1.0/24 1024-65535', 'deny 0-65535 0.0.0.0/0 0-65535', '',
    ].join('\n'));
    let upnpLog = '';
    miniupnpd = spawn('ip', ['netns', 'exec', home.router, 'miniupnpd', '-d', '-f', join(dir, 'miniupnpd.conf'), '-P', join(dir, 'pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
    for (const s of [miniupnpd.stdout!, miniupnpd.stderr!]) s.on('data', (b: Buffer) => (upnpLog += b.toString()));

    const [h, q, p] = [makeDaemon('h'), makeDaemon('q'), makeDaemon('p')];
    await startIn(hq, q);
    const qAddr = `/ip4/${hq.address}/tcp/${PORT}/p2p/${q.peerId}`;
    await Promise.all([startIn(hh, h, ['--peer', qAddr]), startIn(hp, p, ['--peer', qAddr])]);
    const all = [h, q, p];
    const mapped = `/ip4/${home.wan}/tcp/${PORT}`;

    // H's port is mapped on the router: the mapped address is among its addresses, and Q or P reached it there.
    await waitFor('h to get a mapped port', all, () => status(h).addresses.includes(`${mapped}/p2p/${h.peerId}`), 30_000);
    const rules = t.exec(home.router, 'nft', ['list', 'chain', 'inet', 'roamupnp', 'prerouting_miniupnpd']);
    expect(rules.stdout, upnpLog).toContain(`dport ${PORT}`);
    await waitFor('h to be found reachable at the mapped address', all, () => {
      const r = status(h).reachability;
      return r.reachable === 'yes' && r.addresses.includes(mapped);
    }, 30_000);

    // P can only meet H by dialing the mapped address, found through the book.
    await waitFor('p to reach h directly', all, () => peerOf(status(p), h)?.via === 'direct' && peerOf(status(h), p)?.via === 'direct', 45_000);
    expect(peerOf(status(p), h)!.addresses).toContain(`${mapped}/p2p/${h.peerId}`);
  });
});
