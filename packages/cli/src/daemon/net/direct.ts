/**
 * Direct when possible: a connection through a relay is a fallback. When a direct connection to a
 * member opens (either side dialed one of the other's addresses from the address book, which each
 * side hands the other over any connection, the relayed one included), the member's relayed
 * connections are closed: its sync stream ends with them and is reopened at once on the direct
 * connection (`PeerTable.openConnections` puts direct ones first). The circuit address stays in
 * the book: the dialer falls back to it when the direct connection is lost and cannot be redialed.
 */
import type { Connection, Libp2p } from '@libp2p/interface';
import { errText } from './errors.js';
import { deviceIdOf } from './peer-ids.js';

/** Whether a connection goes through a relay (a `/p2p-circuit` address). */
export const isRelayed = (conn: Connection): boolean => !conn.direct || conn.remoteAddr.toString().includes('/p2p-circuit');

/** Direct connections first (the sync stream and other streams go on the first open one). */
export function directFirst(conns: Connection[]): Connection[] {
  return [...conns].sort((a, b) => Number(isRelayed(a)) - Number(isRelayed(b)));
}

/** A direct connection opened: closes the peer's relayed connections (their streams reopen on it). */
export function dropRelayedOnDirect(node: Libp2p, conn: Connection, log: (line: string) => void): void {
  if (isRelayed(conn) || conn.status !== 'open') return;
  const relayed = node.getConnections(conn.remotePeer).filter((c) => c !== conn && c.status === 'open' && isRelayed(c));
  if (!relayed.length) return;
  log(`reached ${deviceIdOf(conn.remotePeer.toString())} directly at ${conn.remoteAddr.toString()}: closing the relayed connection`);
  for (const c of relayed) {
    c.close().catch((err: unknown) => {
      log(`closing a relayed connection failed: ${errText(err)}`);
      c.abort(err instanceof Error ? err : new Error(String(err)));
    });
  }
}
