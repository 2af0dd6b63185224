/**
 * The short-lived libp2p nodes both sides run while pairing (exchange.ts), built by the one node
 * builder (daemon/net/node.ts) with the device's own identity, on a private network keyed from the
 * code's one-time secret. Across networks (relay-pairing.ts) a pairing node also holds the pairing
 * relay key, offered after the pairing key: the joiner dials the inviter through the group's relay
 * and the inviter keeps a reservation there; the relay's one-time listener accepts that key alone.
 */
import type { Libp2p, PeerId, PeerInfo, PrivateKey } from '@libp2p/interface';
import { buildNode } from '../daemon/net/index.js';
import { GroupProtector } from './protector.js';

export const PAIR_MDNS_TAG = '_roam-pair._udp.local';
const DIAL_TIMEOUT_MS = 8_000;

export interface PairingNodeOptions {
  privateKey: PrivateKey;
  listen: string[];
  psk: Uint8Array;
  /** Which peer ids may connect (the joiner admits only the inviter, and the pairing relay). */
  allow: (peerId: string) => boolean;
  mdns: boolean;
  log: (line: string) => void;
  onMdnsPeer?: (info: PeerInfo) => void;
  /** A device at this address tried the pairing network without the code (a wrong code). */
  onWrongCode?: (remote: string) => void;
  /** Pairing through a relay: its key, and 'client' (the inviter: reserves) or 'dial' (the joiner). */
  relay?: { key: Uint8Array; mode: 'client' | 'dial' };
}

export async function pairingNode(opts: PairingNodeOptions): Promise<Libp2p> {
  const protector = new GroupProtector({ log: opts.log, secretName: 'pairing code', ...(opts.onWrongCode ? { onRefused: opts.onWrongCode } : {}) });
  const k = { key: opts.psk, label: 'the pairing code' };
  protector.setKeys(k, opts.relay ? [k, { key: opts.relay.key, label: 'the pairing relay key' }] : [k]);
  const deny = (peer: PeerId): boolean => !opts.allow(peer.toString());
  return buildNode({
    privateKey: opts.privateKey,
    listen: opts.listen,
    protector,
    deny,
    ...(opts.mdns ? { mdns: { serviceTag: PAIR_MDNS_TAG, interval: 1000, onPeer: (info: PeerInfo) => opts.onMdnsPeer?.(info) } } : {}),
    dialTimeoutMs: DIAL_TIMEOUT_MS,
    maxConnections: 16,
    ...(opts.relay ? { relay: opts.relay.mode } : {}),
  });
}
