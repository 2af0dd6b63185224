/**
 * Circuit relay v2 (@libp2p/circuit-relay-v2) for a group: a relay-only device (`roamd --relay`)
 * runs the relay server for the group's members only; a member runs the relay transport, keeps a
 * reservation on a relay it is connected to (the `/p2p-circuit` listen address makes libp2p look
 * for one among its connected peers that speak the hop protocol) and can dial members through it.
 *
 * - Only members: the node's connection gater admits members only (pnet / the group protector and
 *   the allow-list), and the relay's own hooks refuse reservations and circuits of any peer the
 *   allow-list does not admit, on either end.
 * - No data or time limit on a circuit (libp2p's defaults, 128 KiB and 2 minutes, would cut a
 *   sync): one reservation per peer (libp2p keeps one per peer id), at most `MAX_RESERVATIONS`
 *   in all, and at most `MAX_CIRCUITS_PER_PEER` open circuits from one peer.
 * - The relay forwards the two members' Noise session: it sees ciphertext only.
 * - A relay is recognised by its signed role in a paired group's membership (`signedRole`); in a
 *   ROAM_GROUP_KEY group (no membership) by what it announces through identify: the hop protocol
 *   and not the sync protocol (`RelayRoles`).
 */
import { RELAY_V2_HOP_CODEC, circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import type { Libp2p, PeerId } from '@libp2p/interface';
import { PROTOCOL_ID } from '@roam/core';

/** 'server': a relay; 'client': a member keeping a reservation; 'dial': only dials through relays. */
export type RelayMode = 'server' | 'client' | 'dial';

/** Reservations a relay holds in all (one per member device). */
export const MAX_RESERVATIONS = 64;
/** Open circuits from one member through the relay. */
export const MAX_CIRCUITS_PER_PEER = 8;
/** A reservation lasts this long; the member's relay transport refreshes it before. */
const RESERVATION_TTL_MS = 60 * 60_000;

/** The listen address that makes a member keep a reservation on a relay it is connected to. */
export const CIRCUIT_LISTEN = '/p2p-circuit';

/** Whether a multiaddr goes through a relay; and which (the peer id before `/p2p-circuit`). */
export function relayOf(addr: string): string | null {
  const i = addr.indexOf('/p2p-circuit');
  if (i < 0) return null;
  const m = /\/p2p\/([^/]+)$/.exec(addr.slice(0, i));
  return m ? m[1]! : '';
}

/**
 * The libp2p parts for a relay mode: transports, services, and the relay hooks of the gater.
 * `only` (a pairing relay, pairing/relay-pairing.ts): that one peer alone may reserve, and every
 * circuit goes to it. `offer`: a member offers relay (to members only, on the same bounds) while
 * it says this member is reachable.
 */
export function relayParts(mode: RelayMode, deny: (peer: PeerId) => boolean, node: () => Libp2p | undefined, extra: { only?: string | undefined; offer?: (() => boolean) | undefined } = {}) {
  const { only, offer } = extra;
  const serves = mode === 'server' || offer !== undefined;
  const closed = (): boolean => mode !== 'server' && offer?.() !== true;
  const circuitsFrom = (peer: PeerId): number =>
    (node()?.getConnections(peer) ?? []).flatMap((c) => c.streams).filter((s) => s.protocol === RELAY_V2_HOP_CODEC && s.direction === 'inbound').length;
  return {
    transports: mode === 'server' ? [] : [circuitRelayTransport({ reservationCompletionTimeout: 10_000 })],
    services: serves
      ? {
          relay: circuitRelayServer({
            reservations: { maxReservations: only ? 1 : MAX_RESERVATIONS, applyDefaultLimit: false, reservationTtl: RESERVATION_TTL_MS },
            // Per connection: its circuits (a hop stream lives as long as its circuit) and a reservation.
            maxInboundHopStreams: MAX_CIRCUITS_PER_PEER + 1,
          }),
        }
      : {},
    gater: only ? {
      denyInboundRelayReservation: (peer: PeerId) => peer.toString() !== only,
      denyOutboundRelayedConnection: (src: PeerId, dst: PeerId) => dst.toString() !== only || circuitsFrom(src) > MAX_CIRCUITS_PER_PEER,
      denyInboundRelayedConnection: () => true,
    } : {
      denyInboundRelayReservation: (peer: PeerId) => closed() || deny(peer),
      // The hop stream being served counts among the circuits: more than the bound refuses.
      denyOutboundRelayedConnection: (src: PeerId, dst: PeerId) => closed() || deny(src) || deny(dst) || circuitsFrom(src) > MAX_CIRCUITS_PER_PEER,
      denyInboundRelayedConnection: (relay: PeerId, remote: PeerId) => deny(relay) || deny(remote),
    },
  };
}

/**
 * Which peers are relays: by `signedRole` (a paired group's membership: the role an add gave the
 * device) when given, else those that announced themselves as relays (identify: the hop protocol,
 * no sync protocol).
 */
export class RelayRoles {
  private readonly relays = new Set<string>();

  constructor(node: Libp2p, private readonly signedRole?: (peerId: string) => string | undefined) {
    node.addEventListener('peer:identify', (evt) => {
      const { peerId, protocols } = evt.detail;
      const key = peerId.toString();
      if (protocols.includes(RELAY_V2_HOP_CODEC) && !protocols.includes(PROTOCOL_ID)) this.relays.add(key);
      else this.relays.delete(key);
    });
  }

  isRelay(peerId: string): boolean {
    if (this.signedRole) return this.signedRole(peerId) === 'relay';
    return this.relays.has(peerId);
  }
}
