/** What a Network is made with (network.ts). */
import type { ConnectionProtector, PrivateKey } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import type { SyncSink } from './peer-stream.js';
import type { RelayMode } from './relay.js';

export interface NetworkOptions {
  /** Ed25519 key (from @libp2p/crypto): gives the node its stable peer id. */
  privateKey: PrivateKey;
  /** Multiaddrs to listen on (the caller decides the default, e.g. /ip4/0.0.0.0/tcp/0). */
  listen: string[];
  /** Multiaddrs to keep dialing, with or without /p2p/<id>. */
  peers: string[];
  mdns: boolean;
  /** 32 bytes: only devices with the same key can connect (libp2p private network). */
  groupKey?: Uint8Array;
  /** The connection protector when there is no `groupKey` (a paired daemon's group protector). */
  protector?: ConnectionProtector;
  sink: SyncSink;
  log: (line: string) => void;
  /** Connection allow-list by peer id (pairing). Default: allow every peer. */
  allow?: (peerId: string) => boolean;
  /** Give up one dial after this long (default 10 s). */
  dialTimeoutMs?: number;
  /**
   * Sync streams with a peer wait until this resolves true (a paired daemon: until the peer's
   * membership was exchanged on this connection); false: not now (retried with backoff).
   */
  syncReady?: (peerId: string) => Promise<boolean>;
  /** Runs identify; hears the address each peer saw this device connect from. */
  onObservedAddr?: (addr: Multiaddr | undefined) => void;
  /** 'server': a relay-only device (no sync protocol at all); 'client': a member using relays. */
  relay?: RelayMode;
  /** A paired group: a member's signed role ('member', 'relay'; undefined: not a member). */
  signedRole?: (peerId: string) => string | undefined;
  /** A member ('client') also runs the relay server, for members only, while this says yes (it is reachable). */
  offerRelay?: () => boolean;
  /** Map the listen port on the router by UPnP (@libp2p/upnp-nat). */
  upnp?: boolean;
}
