/**
 * The group relay's one-time pairing listener (pairing/relay-pairing.ts), on 127.0.0.1: only the
 * inviter reserves, a device that holds the code reaches the inviter's pairing node through it and
 * nothing else, a device without the code gets no connection at all; the code's relay address
 * stays short and decodes.
 */
import '../src/polyfill.js';
import { randomBytes } from 'node:crypto';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { Libp2p } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { RELAY_V2_HOP_CODEC } from '@libp2p/circuit-relay-v2';
import { lpStream } from '@libp2p/utils';
import { multiaddr } from '@multiformats/multiaddr';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeCode, encodeCode } from '../src/machine/pair-code.js';
import { pairKeys, pairingNode } from '../src/pairing/exchange.js';
import { oneTimeRelayNode, relayPeerId } from '../src/pairing/relay-pairing.js';
import { until } from '../../../test/harness/poll.js';

const nodes: Libp2p[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => Promise.resolve(n.stop()).catch(() => undefined)));
});
const started = async (n: Libp2p): Promise<Libp2p> => {
  nodes.push(n);
  await n.start();
  return n;
};
const log = (): void => undefined;
const LOCAL = ['/ip4/127.0.0.1/tcp/0'];

/** A hop RESERVE (HopMessage{type: RESERVE}) on `conn`; the status the relay answers (100 OK, 202 PERMISSION_DENIED). */
async function reserve(node: Libp2p, relayAddr: string): Promise<number> {
  const conn = await node.dial(multiaddr(relayAddr));
  const stream = await conn.newStream(RELAY_V2_HOP_CODEC, { runOnLimitedConnection: true });
  const lp = lpStream(stream);
  await lp.write(Uint8Array.of(0x08, 0x00));
  const reply = (await lp.read()).subarray();
  // The protobuf's field 5 (status), a varint; length-delimited fields skipped.
  let at = 0;
  const varint = (): number => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const b = reply[at++]!;
      v |= (b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
  };
  while (at < reply.length) {
    const key = varint();
    const wire = key & 7;
    if (wire === 0 && key >> 3 === 5) return varint();
    if (wire === 0) varint();
    else if (wire === 2) {
      const n = varint();
      at += n;
    } else at += wire === 1 ? 8 : 4;
  }
  return -1;
}

describe('the one-time pairing listener on a relay', () => {
  it('lets the inviter alone reserve, and a code holder reach the inviter only', { timeout: 30_000 }, async () => {
    const secret = randomBytes(16);
    const keys = pairKeys(secret);
    const [inviterKey, strangerKey, otherKey] = await Promise.all([generateKeyPair('Ed25519'), generateKeyPair('Ed25519'), generateKeyPair('Ed25519')]);
    const inviterId = peerIdFromPrivateKey(inviterKey).toString();
    const relay = await started(await oneTimeRelayNode(keys.relay, inviterId, LOCAL, log));
    const rid = await relayPeerId(keys.relay);
    expect(relay.peerId.toString()).toBe(rid);
    const relayAddr = `${relay.getMultiaddrs()[0]!.decapsulateCode(421).toString()}/p2p/${rid}`;

    // The inviter's pairing node reserves (and the circuit address shows among its addresses).
    const inviter = await started(await pairingNode({ privateKey: inviterKey, listen: LOCAL, psk: keys.psk, allow: (p) => p !== inviterId, mdns: false, log, relay: { key: keys.relay, mode: 'client' } }));
    await inviter.dial(multiaddr(relayAddr));
    await until(() => inviter.getMultiaddrs().some((m) => m.toString().includes('/p2p-circuit')), { timeoutMs: 15_000, what: 'the inviter to reserve on the one-time listener' });

    // A device holding the code (not the inviter) may not reserve.
    const stranger = await started(await pairingNode({ privateKey: strangerKey, listen: [], psk: keys.psk, allow: () => true, mdns: false, log, relay: { key: keys.relay, mode: 'dial' } }));
    expect(await reserve(stranger, relayAddr)).toBe(202); // PERMISSION_DENIED
    // It reaches the inviter's pairing node through the listener...
    const conn = await stranger.dial(multiaddr(`${relayAddr}/p2p-circuit/p2p/${inviterId}`));
    expect(conn.remotePeer.toString()).toBe(inviterId);
    expect(conn.remoteAddr.toString()).toContain('/p2p-circuit');
    // ...and nobody else through it.
    const other = await started(await pairingNode({ privateKey: otherKey, listen: LOCAL, psk: keys.psk, allow: () => true, mdns: false, log, relay: { key: keys.relay, mode: 'client' } }));
    await other.dial(multiaddr(relayAddr));
    await expect(stranger.dial(multiaddr(`${relayAddr}/p2p-circuit/p2p/${other.peerId.toString()}`))).rejects.toThrow();

    // A device without the code gets no connection to the listener at all.
    const outsider = await started(await pairingNode({ privateKey: await generateKeyPair('Ed25519'), listen: [], psk: randomBytes(32), allow: () => true, mdns: false, log, relay: { key: randomBytes(32), mode: 'dial' } }));
    await expect(outsider.dial(multiaddr(relayAddr))).rejects.toThrow();
    expect(relay.getConnections().some((c) => c.remotePeer.equals(outsider.peerId))).toBe(false);
  });

  it('puts the relay in the code in a short form that decodes', () => {
    const base = { secret: new Uint8Array(16), inviterKey: new Uint8Array(32), addresses: ['/ip4/10.201.1.10/tcp/45103', '/ip4/127.0.0.1/tcp/45103'] };
    const circuit = '/ip4/198.18.0.100/tcp/41234/p2p-circuit';
    const code = encodeCode({ ...base, addresses: [...base.addresses, circuit] });
    expect(decodeCode(code).addresses).toEqual([...base.addresses, circuit]);
    expect(code.length - encodeCode(base).length).toBeLessThanOrEqual(18);
  });
});
