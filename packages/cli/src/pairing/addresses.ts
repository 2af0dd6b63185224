/** Where an invitation's pairing node listens, and which of its addresses go into the code. */
import type { Libp2p } from '@libp2p/interface';

const MAX_CODE_ADDRESSES = 6;

/** `/ip4/1.2.3.4/tcp/5` → the same on port 0 (pairing listens beside the daemon). */
export function pairingListen(listen: readonly string[]): string[] {
  const out = new Set<string>();
  for (const l of listen) {
    if (/\/tcp\/\d+/.test(l)) out.add(l.replace(/\/tcp\/\d+.*$/, '/tcp/0'));
  }
  return out.size ? [...out] : ['/ip4/0.0.0.0/tcp/0'];
}

/** Addresses for a code: reachable ones first, loopback last, no link-local, a few at most. */
export function codeAddresses(node: Libp2p): string[] {
  const addrs = node.getMultiaddrs().map((ma) => ma.decapsulateCode(421).toString());
  const rank = (a: string): number => (/^\/ip[46]\/(127\.|::1\/)/.test(a) ? 2 : /^\/ip6\//.test(a) ? 1 : 0);
  return [...new Set(addrs)]
    // Circuits (a reservation on the group's relay) go into the code in their short form (relay-pairing.ts).
    .filter((a) => !/^\/ip6\/fe80/i.test(a) && !a.includes('/p2p-circuit'))
    .sort((a, b) => rank(a) - rank(b))
    .slice(0, MAX_CODE_ADDRESSES);
}
