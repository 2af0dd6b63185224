/**
 * The one libp2p node builder: TCP, Noise, yamux, a private network (a pnet pre-shared key or a
 * connection protector), a connection gater, and mDNS when asked. roamd's network and the
 * short-lived pairing nodes (pairing/exchange.ts) are both built here; each passes its own key,
 * gater and mDNS service tag.
 */
import '../../polyfill.js';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import type { ConnectionProtector, Libp2p, PeerId, PeerInfo, PrivateKey } from '@libp2p/interface';
import { identify } from '@libp2p/identify';
import { mdns as mdnsDiscovery } from '@libp2p/mdns';
import { tcp } from '@libp2p/tcp';
import { uPnPNAT } from '@libp2p/upnp-nat';
import type { Multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import { pnet } from '../../pairing/pnet.js';
import { DEFAULT_ADMISSION, InboundAdmission, type AdmissionLimits } from './admission.js';
import { CIRCUIT_LISTEN, relayParts, type RelayMode } from './relay.js';

/**
 * libp2p's own bound on pending inbound connections: above ours, so that ours (per address, and
 * evicting rather than refusing when full) decides; libp2p's is the hard stop behind it.
 */
const PENDING_HARD_CAP_MARGIN = 16;
/** The whole inbound upgrade (group handshake, pnet, Noise, yamux) of a connection. */
const INBOUND_UPGRADE_TIMEOUT_MS = 8_000;

export interface NodeOptions {
  /** Ed25519 key (from @libp2p/crypto): gives the node its stable peer id. */
  privateKey: PrivateKey;
  listen: string[];
  /** 32 bytes: an @libp2p/pnet private network (takes precedence over `protector`). */
  groupKey?: Uint8Array;
  /** The connection protector when there is no `groupKey`. Neither: an open network. */
  protector?: ConnectionProtector;
  /** The gater: true refuses the peer (dials and both directions of the encrypted handshake). */
  deny: (peer: PeerId) => boolean;
  /** The inbound check, when it differs from `deny` (e.g. to log refusals). */
  denyInbound?: (peer: PeerId) => boolean;
  /** mDNS discovery under this service tag; `onPeer` hears mDNS itself. */
  mdns?: { serviceTag: string; interval?: number; onPeer: (info: PeerInfo) => void };
  dialTimeoutMs: number;
  maxConnections?: number;
  /** yamux's per-stream receive window and read buffer bound (yamux's defaults otherwise). */
  streamWindow?: { maxStreamWindowSize: number; maxReadBufferLength: number };
  /** The connection monitor's least ping timeout (libp2p's default otherwise). */
  pingTimeoutMinMs?: number;
  /** Pending (not yet authenticated) inbound connections: per remote address and in all. */
  admission?: AdmissionLimits;
  /** Runs libp2p's identify and hears the address each peer saw this node connect from. */
  onObservedAddr?: (addr: Multiaddr | undefined) => void;
  /** Circuit relay v2 (relay.ts): the relay server (a relay-only device) or a member's transport. */
  relay?: RelayMode;
  /** A pairing relay ('server'): this peer alone may reserve, and circuits go to it only. */
  relayFor?: string;
  /** A member ('client') also serves circuit relay v2 to members, while this returns true. */
  offerRelay?: () => boolean;
  /** UPnP port mapping (@libp2p/upnp-nat): the mapped address joins the listen addresses. */
  upnp?: boolean;
}

/** A node, not started. */
export async function buildNode(opts: NodeOptions): Promise<Libp2p> {
  const mdns = opts.mdns;
  const limits = opts.admission ?? DEFAULT_ADMISSION;
  const admission = new InboundAdmission(limits);
  const onObserved = opts.onObservedAddr;
  let built: Libp2p | undefined;
  const relay = opts.relay ? relayParts(opts.relay, opts.deny, () => built, { only: opts.relayFor, offer: opts.offerRelay }) : null;
  const node = await createLibp2p({
    start: false,
    privateKey: opts.privateKey,
    addresses: { listen: opts.relay === 'client' ? [...opts.listen, CIRCUIT_LISTEN] : opts.listen },
    transports: [tcp(), ...(relay?.transports ?? [])],
    connectionEncrypters: [noise()],
    streamMuxers: [opts.streamWindow ? yamux({ streamOptions: { ...opts.streamWindow } }) : yamux()],
    ...(opts.groupKey
      ? { connectionProtector: pnet(opts.groupKey) }
      : opts.protector
        ? { connectionProtector: () => opts.protector! }
        : {}),
    peerDiscovery: mdns
      ? [
          (components: Parameters<ReturnType<typeof mdnsDiscovery>>[0]) => {
            // Listen to mDNS itself: the node's 'peer:discovery' also fires for every peer
            // that merely connects, and not again when a known peer shows up at a new address.
            const service = mdnsDiscovery({ serviceTag: mdns.serviceTag, ...(mdns.interval !== undefined ? { interval: mdns.interval } : {}) })(components);
            service.addEventListener('peer', (evt) => mdns.onPeer(evt.detail));
            return service;
          },
        ]
      : [],
    connectionGater: {
      denyInboundConnection: (maConn) => admission.deny(maConn),
      denyInboundUpgradedConnection: (peer, maConn) => {
        admission.release(maConn);
        return (opts.denyInbound ?? opts.deny)(peer);
      },
      denyDialPeer: opts.deny,
      denyInboundEncryptedConnection: opts.denyInbound ?? opts.deny,
      denyOutboundEncryptedConnection: opts.deny,
      ...(relay?.gater ?? {}),
    },
    connectionManager: {
      dialTimeout: opts.dialTimeoutMs,
      maxIncomingPendingConnections: limits.total + PENDING_HARD_CAP_MARGIN,
      inboundUpgradeTimeout: INBOUND_UPGRADE_TIMEOUT_MS,
      ...(opts.maxConnections !== undefined ? { maxConnections: opts.maxConnections } : {}),
    },
    ...(opts.pingTimeoutMinMs !== undefined ? { connectionMonitor: { pingTimeout: { minTimeout: opts.pingTimeoutMinMs } } } : {}),
    services: ({
      ...(onObserved || relay ? { identify: identify() } : {}),
      ...(relay?.services ?? {}),
      // Mapped addresses count as confirmed here (no AutoNAT service): roam's own dial-back (dialback.ts) checks them.
      ...(opts.upnp ? { upnpNAT: uPnPNAT({ autoConfirmAddress: true, portMappingDescription: 'roam' }) } : {}),
    }) as Record<string, never>,
  });
  built = node;
  if (onObserved) node.addEventListener('peer:identify', (evt) => onObserved(evt.detail.observedAddr));
  return node;
}
