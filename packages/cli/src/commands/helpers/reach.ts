/** This device's reachability in words (`roam status`) and as a `roam doctor` check, with what to do when nothing reaches it. */
import type { Reachability, Status } from '../../control/protocol.js';

export function reachLine(r: Reachability): string {
  const by = r.checkedBy.length ? ` (dialed back by ${r.checkedBy.join(', ')})` : '';
  const relay = r.relay ? `; reservation on relay ${r.relay}` : '; no relay reservation';
  return r.reachable === 'yes'
    ? `reachable from outside at ${r.addresses.join(', ')}${by}${relay}`
    : r.reachable === 'no'
      ? `not reachable from outside${by}${relay}`
      : `reachability unknown: no member on another network has dialed this device back yet${relay}`;
}

/** The port this device listens on (its first TCP listen address), for the port-forwarding advice. */
function listenPort(s: Status): { lan: string | null; port: number | null } {
  for (const a of s.addresses) {
    const m = /^\/ip4\/([^/]+)\/tcp\/(\d+)\//.exec(a);
    if (m && !m[1]!.startsWith('127.')) return { lan: m[1]!, port: Number(m[2]) };
  }
  return { lan: null, port: null };
}

/** What a user can do when no member reaches this device and it holds no relay reservation: the exact commands. */
export function reachFixes(s: Status): string {
  const { lan, port } = listenPort(s);
  const fixed = port !== null && port !== 0 ? port : 4001;
  return [
    `(1) run a relay on a server with a public address: \`roamd --relay --listen /ip4/0.0.0.0/tcp/4001\`, then here \`roamd --peer /ip4/<server address>/tcp/4001/p2p/<the peer id it prints>\` (or put that address in config.json "peers")`,
    `(2) forward TCP port ${fixed} on your router to ${lan ?? '<this device\'s LAN address>'}:${fixed}${port === fixed ? '' : ` and make roamd listen there: config.json "listen": ["/ip4/0.0.0.0/tcp/${fixed}"], then restart roamd (\`systemctl --user restart roamd.service\`)`}`,
    '(3) enable UPnP on your router: roamd maps its port itself when the router offers UPnP (unless config.json has "upnp": false)',
  ].join('; ');
}

export interface ReachCheck {
  readonly check: string;
  readonly level: 'ok' | 'warn';
  readonly detail: string;
  readonly fix?: string;
}

/** `roam doctor`'s reach check: reachable or not, the relay that holds the reservation, and what to do when neither. */
export function reachCheck(s: Status): ReachCheck {
  const r = s.reachability;
  const line = reachLine(r);
  if (r.reachable === 'yes') return { check: 'reach', level: 'ok', detail: `${line}: members on other networks connect directly` };
  if (r.relay) return { check: 'reach', level: 'ok', detail: `${line}: members on other networks reach this device through ${r.relay}` };
  const directly = s.peers.filter((p) => p.connected && p.via === 'direct' && p.role === 'member').map((p) => p.name);
  // Every device of the group is connected (a LAN-only group): nothing to fix now.
  if (s.peers.length && s.peers.every((p) => p.connected)) return { check: 'reach', level: 'ok', detail: `${line}; every device is connected now` };
  return {
    check: 'reach', level: 'warn',
    detail: `${line}${directly.length ? `; connected directly to ${directly.join(', ')} only` : ''}: members on other networks cannot reach this device`,
    fix: reachFixes(s),
  };
}
