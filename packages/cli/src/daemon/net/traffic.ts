/**
 * Per-peer counters of what this daemon admitted, opened and sent: connections, streams by protocol (sync,
 * members), frames and bytes sent on the sync stream, index entries and index bytes among them.
 * They show what an outsider got from this daemon (`roam status --json`, traffic.peers): a peer
 * the gater refuses gets no stream, so nothing at all.
 */
import { PROTOCOL_ID, type Message } from '@roam/core';
import type { PeerTraffic } from '../../control/protocol.js';
import { deviceIdOf } from './peer-ids.js';
import { LEGACY_MEMBERS_PROTOCOL, MEMBERS_PROTOCOL } from '../../pairing/protocols.js';

type Counts = { -readonly [K in keyof PeerTraffic]: PeerTraffic[K] };

export class TrafficCounters {
  private readonly peers = new Map<string, Counts>();

  private of(peerId: string): Counts {
    let c = this.peers.get(peerId);
    if (!c) {
      c = { peerId, deviceId: deviceIdOf(peerId), connections: 0, syncStreams: 0, membersStreams: 0, otherStreams: 0, framesSent: 0, bytesSent: 0, indexFrames: 0, itemsSent: 0, indexBytesSent: 0, dataFrames: 0 };
      this.peers.set(peerId, c);
    }
    return c;
  }

  /** A connection with the peer passed the gater. */
  connection(peerId: string): void {
    this.of(peerId).connections++;
  }

  /** A stream of `protocol` with the peer came up (opened by either side, after admission). */
  stream(peerId: string, protocol: string): void {
    const c = this.of(peerId);
    if (protocol === PROTOCOL_ID) c.syncStreams++;
    else if (protocol === MEMBERS_PROTOCOL || protocol === LEGACY_MEMBERS_PROTOCOL) c.membersStreams++;
    else c.otherStreams++;
  }

  /** A sync frame went to the peer; `msg` is what it encodes (the engine's, not decoded again). */
  sent(peerId: string, frame: Uint8Array, msg?: Message): void {
    const c = this.of(peerId);
    c.framesSent++;
    c.bytesSent += frame.length;
    if (msg?.t === 'index') {
      c.indexFrames++;
      c.itemsSent += msg.items.length;
      c.indexBytesSent += frame.length;
    } else if (msg?.t === 'logData' || msg?.t === 'fileData') c.dataFrames++;
  }

  list(): PeerTraffic[] {
    return [...this.peers.values()].map((c) => ({ ...c }));
  }
}
