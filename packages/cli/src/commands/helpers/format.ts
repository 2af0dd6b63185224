/** Small formatting helpers shared by the commands' human output. */
import type { PeerStatus } from '../../control/protocol.js';

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function ago(ms: number | null, now = Date.now()): string {
  if (ms === null) return 'never seen';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  const rel = s < 60 ? `${s} s ago` : s < 3600 ? `${Math.round(s / 60)} min ago` : s < 86400 ? `${Math.round(s / 3600)} h ago` : `${Math.round(s / 86400)} d ago`;
  return `last seen ${new Date(ms).toISOString().replace('T', ' ').slice(0, 16)} UTC (${rel})`;
}

/** A peer's line in `roam status`, `roam pause` and `roam sync`'s progress. */
export function peerLine(p: PeerStatus): string {
  if (!p.connected) return `${p.name}  offline, ${ago(p.lastSeen)}${p.paused ? ', paused' : ''}`;
  if (p.paused) return `${p.name}  connected, paused`;
  // A relay-only device holds nothing: it is never in or out of sync.
  if (p.role === 'relay') return `${p.name}  connected, a relay (holds no folders)`;
  if (p.via === 'relay') return peerLineSynced(p).replace('  connected, ', `  connected through relay ${p.relay ?? '?'}, `);
  return peerLineSynced(p);
}

function peerLineSynced(p: PeerStatus): string {
  const out = p.optedOut?.length ? ` (opted out of ${p.optedOut.join(', ')})` : '';
  if (p.inSync) return `${p.name}  connected, in sync${out}`;
  const parts: string[] = [];
  if (p.offers?.length) parts.push(`offers ${p.offers.join(', ')}, not held here`);
  if (p.need.items) parts.push(`receiving ${p.need.items} item(s), ${bytes(p.need.bytes)}`);
  if (p.peerNeeds.items) parts.push(`sending ${p.peerNeeds.items} item(s), ${bytes(p.peerNeeds.bytes)}`);
  return `${p.name}  connected, ${parts.join('; ') || 'exchanging indexes'}${out}`;
}
