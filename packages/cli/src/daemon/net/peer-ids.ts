/** Names of peers: device ids, and the multiaddrs the network dials them at. */
import { createHash } from 'node:crypto';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';

/** 16 lowercase hex characters: the first 8 bytes of sha256 of the peer id string. */
export function deviceIdOf(peerId: string): string {
  return createHash('sha256').update(peerId, 'utf8').digest('hex').slice(0, 16);
}

/** The address with `/p2p/<peerId>` at the end (as users copy it to `--peer`; a relay's circuit address gets it too). */
export function withPeer(addr: string, peerId: string): string {
  return /\/p2p\/[^/]+$/.test(addr) ? addr : `${addr}/p2p/${peerId}`;
}

/** A `--peer` address: throws when the multiaddr or its /p2p/ id is malformed. */
export function parseTarget(addr: string): { ma: Multiaddr; peerId: string | null } {
  const ma = multiaddr(addr);
  // The last one: a circuit address names the relay first, then the peer.
  const p2p = ma.getComponents().findLast((c) => c.name === 'p2p')?.value;
  return { ma, peerId: p2p === undefined ? null : peerIdFromString(p2p).toString() };
}
