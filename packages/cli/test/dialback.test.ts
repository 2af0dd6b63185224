/**
 * Reachability by dial-back (daemon/net/dialback.ts): which addresses count as private, which are
 * dial-back targets, and, on two real Networks over loopback, that a member refuses to dial back
 * a device on its own network, closes the stream on a malformed request and keeps serving.
 */
import '../src/polyfill.js';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { lpStream } from '@libp2p/utils';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../../test/harness/poll.js';
import { DIALBACK_PROTOCOL, Reachability, privateIp, tcpTarget } from '../src/daemon/net/dialback.js';
import { Network, type SyncSink } from '../src/daemon/net/index.js';

const sink: SyncSink = { attach: async () => undefined, detach: async () => undefined, onFrame: async () => undefined };
const KEY = new Uint8Array(32).fill(7);
const nets: Network[] = [];
const reaches: Reachability[] = [];
afterEach(async () => {
  for (const r of reaches.splice(0)) r.stop();
  await Promise.allSettled(nets.splice(0).map((n) => n.stop()));
});

async function node(peers: string[] = []): Promise<{ net: Network; reach: Reachability; logs: string[] }> {
  const logs: string[] = [];
  const net = await Network.create({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], peers, mdns: false, groupKey: KEY, sink, log: (l) => logs.push(l) });
  nets.push(net);
  const reach = new Reachability(net, (l) => logs.push(l));
  reaches.push(reach);
  await reach.start();
  return { net, reach, logs };
}

describe('dial-back', () => {
  it('knows private addresses and plain TCP targets', () => {
    for (const ip of ['10.1.2.3', '192.168.1.1', '172.16.0.1', '172.31.255.255', '127.0.0.1', '169.254.1.1', '100.64.0.1', '::1', 'fe80::1', 'fd00::1']) expect(privateIp(ip), ip).toBe(true);
    for (const ip of ['8.8.8.8', '172.32.0.1', '198.18.0.11', '2001:db8::1']) expect(privateIp(ip), ip).toBe(false);
    expect(tcpTarget('/ip4/1.2.3.4/tcp/4001')).toEqual({ ip: '1.2.3.4', port: 4001 });
    expect(tcpTarget('/ip6/2001:db8::1/tcp/80')).toEqual({ ip: '2001:db8::1', port: 80 });
    // Not plain TCP to an IP: never dialed back.
    for (const a of ['/ip4/1.2.3.4/tcp/4001/p2p/12D3KooWGUypRj5ej4pciUBTTZrZXizRkFVRQf7Z6SWErgTJrQk1', '/dns4/example.com/tcp/1', '/ip4/1.2.3.4/udp/1', '/ip4/1.2.3.4/tcp/0', 'garbage']) expect(tcpTarget(a), a).toBeNull();
  });

  it('a member on the same network refuses to dial back, and a malformed request closes only its stream', async () => {
    const a = await node();
    const b = await node([a.net.addresses()[0]!]);
    await until(() => b.net.connectedPeers().includes(a.net.peerId), { timeoutMs: 10_000, what: 'b to connect to a' });
    // B asks A about a loopback address it would reach: A sees B's connection come from its own network and refuses.
    const ask = async (body: unknown): Promise<unknown> => {
      const stream = await b.net.openProtocolStream(a.net.peerId, DIALBACK_PROTOCOL);
      const lp = lpStream(stream);
      await lp.write(new TextEncoder().encode(JSON.stringify(body)));
      try {
        return JSON.parse(new TextDecoder().decode((await lp.read({ signal: AbortSignal.timeout(5_000) })).subarray()));
      } catch (err) {
        return { error: String(err) };
      }
    };
    expect(await ask({ v: 1, addrs: [a.net.addresses()[0]!.replace(/\/p2p\/.*$/, '')] })).toEqual({ v: 1, reachable: [], refused: 'not on another network' });
    expect(await ask({ v: 1, addrs: Array.from({ length: 50 }, (_, i) => `/ip4/1.2.3.4/tcp/${i + 1}`) })).toHaveProperty('error');
    await until(() => a.logs.some((l) => l.includes('dial-back request') && l.includes('refused')), { timeoutMs: 5_000, what: 'a to log the refusal' });
    // A still serves, and nobody here is on another network: B's verdict stays unknown.
    expect(await ask({ v: 1, addrs: [] })).toEqual({ v: 1, reachable: [], refused: 'not on another network' });
    expect(b.reach.current.reachable).toBe('unknown');
    expect(b.reach.candidates()).toEqual([]);
  });
});
