/** Relayed (circuit) addresses through the address book, the dialer's peer ids and admission. */
import { multiaddr } from '@multiformats/multiaddr';
import { describe, expect, it } from 'vitest';
import { acceptableAddr } from '../src/daemon/net/address-book.js';
import { addressKey } from '../src/daemon/net/admission.js';
import { parseTarget, withPeer } from '../src/daemon/net/peer-ids.js';
import { relayOf } from '../src/daemon/net/relay.js';

const RELAY = '12D3KooWCFr1oHAuDpCs7QcQjuKfL5HoaHs9YaMBn6Lsb878ubZA';
const PEER = '12D3KooWNK7Uft2HmtFzxn2r93EtFsgX9A26pRXsRArqSfQiLVKD';
const CIRCUIT = `/ip4/198.18.0.100/tcp/4001/p2p/${RELAY}/p2p-circuit`;

describe('relayed addresses', () => {
  it('a record may carry a relay circuit address, and nothing else with a peer id', () => {
    expect(acceptableAddr(CIRCUIT)).toBe(true);
    expect(acceptableAddr('/ip4/10.0.0.1/tcp/4001')).toBe(true);
    expect(acceptableAddr(`/ip4/10.0.0.1/tcp/4001/p2p/${RELAY}`)).toBe(false);
    expect(acceptableAddr(`${CIRCUIT}/p2p/${PEER}`)).toBe(false);
    expect(acceptableAddr(`/p2p/${RELAY}/p2p-circuit`)).toBe(false);
    expect(acceptableAddr(`/ip4/10.0.0.1/udp/4001/p2p/${RELAY}/p2p-circuit`)).toBe(false);
  });

  it('a circuit address is dialed as the peer behind the relay, not as the relay', () => {
    const full = withPeer(CIRCUIT, PEER);
    expect(full).toBe(`${CIRCUIT}/p2p/${PEER}`);
    expect(parseTarget(full).peerId).toBe(PEER);
    expect(withPeer(`/ip4/10.0.0.1/tcp/4001/p2p/${PEER}`, RELAY)).toBe(`/ip4/10.0.0.1/tcp/4001/p2p/${PEER}`);
    expect(relayOf(full)).toBe(RELAY);
    expect(relayOf(`/ip4/10.0.0.1/tcp/4001/p2p/${PEER}`)).toBeNull();
  });

  it('admission counts each relayed connection on its own, not under the relay\'s address', () => {
    expect(addressKey({ remoteAddr: multiaddr(`${CIRCUIT}/p2p/${PEER}`) })).toBe(`${CIRCUIT}/p2p/${PEER}`);
    expect(addressKey({ remoteAddr: multiaddr('/ip4/198.18.0.100/tcp/4001') })).toBe('198.18.0.100');
  });
});
