/**
 * roam's private-network protector (libsodium's XSalsa20) keeps @libp2p/pnet's wire: the same
 * keystream at any split, and real libp2p nodes over TCP on 127.0.0.1 connect across the two
 * implementations and carry a stream's bytes intact in both directions.
 */
import '../src/polyfill.js';
import { randomBytes } from 'node:crypto';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import type { ConnectionProtector, Libp2p, Stream } from '@libp2p/interface';
import { preSharedKey } from '@libp2p/pnet';
import { tcp } from '@libp2p/tcp';
import { createLibp2p } from 'libp2p';
import { afterEach, describe, expect, it } from 'vitest';
import { pnet, pnetCipher, xsalsa20Stream } from '../src/pairing/pnet.js';
import { swarmKey } from '../src/pairing/protector.js';

const PROTOCOL = '/roam-test/echo/1.0.0';
const nodes: Libp2p[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
});

async function node(protector: () => ConnectionProtector): Promise<Libp2p> {
  const n = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionProtector: protector,
  });
  await n.handle(PROTOCOL, async (stream: Stream) => {
    for await (const chunk of stream) if (!stream.send(chunk.subarray())) await new Promise((r) => stream.addEventListener('drain', r, { once: true }));
    await stream.close();
  });
  nodes.push(n);
  return n;
}

/** Sends `payload` to `to`'s echo handler and returns what came back. */
async function echo(from: Libp2p, to: Libp2p, payload: Buffer): Promise<Buffer> {
  const stream = await from.dialProtocol(to.getMultiaddrs()[0]!, PROTOCOL, { signal: AbortSignal.timeout(15_000) });
  const back: Buffer[] = [];
  const reading = (async () => {
    for await (const chunk of stream) back.push(Buffer.from(chunk.subarray()));
  })();
  for (let o = 0; o < payload.length; o += 50_000) {
    if (!stream.send(payload.subarray(o, o + 50_000))) await new Promise((r) => stream.addEventListener('drain', r, { once: true }));
  }
  await stream.close();
  await reading;
  return Buffer.concat(back);
}

describe('pnet (roam\'s private network)', () => {
  it('runs libsodium here (sodium-native has a binary for this platform)', () => {
    expect(pnetCipher).toBe('sodium');
  });

  it('gives the WebAssembly cipher\'s keystream at any split of the input', () => {
    const key = randomBytes(32);
    const nonce = randomBytes(24);
    const data = randomBytes(600_000);
    const native = xsalsa20Stream(nonce, key, 'sodium');
    const wasm = xsalsa20Stream(nonce, key, 'wasm');
    const sizes = [0, 1, 63, 64, 65, 127, 1000, 65_536, 70_001, 3, 200_000];
    let o = 0;
    for (let i = 0; o < data.length; i++) {
      const n = Math.min(sizes[i % sizes.length]!, data.length - o) || 1;
      const part = data.subarray(o, o + n);
      // Every other update writes into a caller's buffer (how a connection ciphers a record's parts).
      const mine = i % 2 ? native.update(part, Buffer.alloc(n)) : native.update(part);
      const theirs = i % 3 ? wasm.update(part, new Uint8Array(n)) : wasm.update(part);
      expect(Buffer.from(mine).equals(Buffer.from(theirs))).toBe(true);
      o += n;
    }
  });

  it('connects to @libp2p/pnet peers with the same key, both ways, and carries 3 MB intact', async () => {
    const key = randomBytes(32);
    const ours = await node(pnet(key));
    const theirs = await node(preSharedKey({ psk: swarmKey(key) }));
    const payload = randomBytes(3_000_000);
    expect((await echo(ours, theirs, payload)).equals(payload)).toBe(true);
    expect((await echo(theirs, ours, payload)).equals(payload)).toBe(true);
  });

  it('does not connect peers holding another key', async () => {
    const a = await node(pnet(randomBytes(32)));
    const b = await node(preSharedKey({ psk: swarmKey(randomBytes(32)) }));
    await expect(a.dial(b.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(8_000) })).rejects.toThrow();
  });
});
