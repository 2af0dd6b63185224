// One js-libp2p node of the DCUtR measurement (test/e2e/dcutr.test.ts), run inside a namespace:
//   node dcutr-node.mjs relay
//   node dcutr-node.mjs peer <relay multiaddr> [<target circuit multiaddr>]
// Prints `ID <peer id>`, `CIRCUIT <address>` once it holds a reservation, and with a target,
// `RELAYED` once connected through the relay, then `RESULT direct` or `RESULT relayed-only`.
// A peer confirms the address the relay observed it at, so DCUtR has public addresses to use
// (its best case: without AutoNAT they would never be confirmed).
// Promise.withResolvers for Node 20 (as roamd does).
import '../../packages/cli/dist/polyfill.js';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { dcutr } from '@libp2p/dcutr';
import { identify } from '@libp2p/identify';
import { tcp } from '@libp2p/tcp';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';

const [role, relayAddr, target] = process.argv.slice(2);
const say = (line) => process.stdout.write(`${line}\n`);
let components;
const node = await createLibp2p({
  addresses: { listen: role === 'relay' ? ['/ip4/0.0.0.0/tcp/4001'] : ['/ip4/0.0.0.0/tcp/4001', '/p2p-circuit'] },
  transports: [tcp(), ...(role === 'relay' ? [] : [circuitRelayTransport()])],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: {
    identify: identify(),
    ...(role === 'relay' ? { relay: circuitRelayServer() } : { dcutr: dcutr(), grab: (c) => ((components = c), {}) }),
  },
});
say(`ID ${node.peerId}`);
if (role === 'relay') {
  process.on('SIGTERM', () => void node.stop().then(() => process.exit(0)));
} else {
  node.addEventListener('peer:identify', (evt) => {
    const obs = evt.detail.observedAddr;
    if (obs && !obs.toString().includes('p2p-circuit')) {
      components.addressManager.confirmObservedAddr(obs, { type: 'observed' });
      say(`OBSERVED ${obs}`);
    }
  });
  await node.dial(multiaddr(relayAddr));
  for (let i = 0; i < 100; i++) {
    const c = node.getMultiaddrs().map(String).find((a) => a.includes('/p2p-circuit'));
    if (c) {
      say(`CIRCUIT ${c}`);
      say(`ADDRS ${node.getMultiaddrs().map(String).join(' ')}`);
      break;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  if (target) {
    const ma = multiaddr(target);
    const peer = ma.getComponents().findLast((c) => c.name === 'p2p').value;
    await node.dial(ma);
    say('RELAYED');
    let direct = false;
    for (let i = 0; i < 50 && !direct; i++) {
      await new Promise((r) => setTimeout(r, 200));
      direct = node.getConnections().some((c) => c.remotePeer.toString() === peer && !c.remoteAddr.toString().includes('p2p-circuit'));
    }
    say(`RESULT ${direct ? 'direct' : 'relayed-only'}`);
  }
  process.on('SIGTERM', () => void node.stop().then(() => process.exit(0)));
}
