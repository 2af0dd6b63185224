/**
 * Why a device may not join, told on both sides with the fix. A remove wins forever (TRUST.md §4),
 * so a device whose identity was removed (it left with an older roam, or was unpaired) can only
 * come back with a new identity: `roam leave` on it gives it one.
 */
import type { PairRefusal } from '../control/pairing.js';
import type { Entry } from './members.js';

export type { PairRefusal };
export { printable } from '../machine/printable.js';

/** `2026-12-07 23:58 UTC`: minutes are enough to recognise an event, and no time zone guessing. */
export function utcMinute(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** When and by whom a peer was removed (the first remove the log holds), or null. */
export function removalOf(log: readonly Entry[], peer: string): { at: number; by: string } | null {
  const removes = log.filter((e) => e.op === 'remove' && e.peer === peer).sort((a, b) => a.at - b.at);
  return removes[0] ? { at: removes[0].at, by: removes[0].by } : null;
}

/** A peer's name as the log last gave it (its add), or the end of its peer id. */
export function nameIn(log: readonly Entry[], peer: string): string {
  return log.filter((e) => e.op === 'add' && e.peer === peer && e.name).at(-1)?.name ?? peer.slice(-8);
}

function how(peer: string, removal: { by: string } | null, nameOf: (peerId: string) => string): string {
  if (!removal) return '';
  return removal.by === peer ? ' (it left)' : ` by ${nameOf(removal.by)}`;
}

/** What the inviter sends the refused joiner (on the wire, at most 500 characters). */
export function refusalForJoiner(inviterName: string, joiner: string, removal: { at: number; by: string } | null, nameOf: (peerId: string) => string): string {
  const when = removal ? ` on ${utcMinute(removal.at)}` : '';
  return `${inviterName} refused this device: its identity (${joiner}) was removed from the group${when}${how(joiner, removal, nameOf)}`.slice(0, 500);
}

/** What the inviter's `roam pair` prints about it. */
export function refusalForInviter(joiner: { peerId: string; name: string }, removal: { at: number; by: string } | null, nameOf: (peerId: string) => string): string {
  const when = removal ? ` on ${utcMinute(removal.at)}` : '';
  return (
    `${joiner.name} (${joiner.peerId}) tried to join but was removed from the group${when}${how(joiner.peerId, removal, nameOf)}: a removed identity never joins again. ` +
    `To let it in, run \`roam leave\` on ${joiner.name} (it takes a new identity), then \`roam pair <the code>\` on it again`
  );
}

/** What the inviter's `roam pair` prints about a device that came without the code. */
export function wrongCodeForInviter(address: string): string {
  return `a device at ${address} tried to join with another code (a typo'd copy, or an older \`roam pair\`'s): its user should run \`roam pair <the code>\` with the code printed here`;
}

/** The joiner's fix, added to what the inviter said (the joiner's own words: they match its version). */
export const JOINER_FIX =
  'a removed identity never joins again: run `roam leave` on this device (it takes a new identity and roamd restarts with it), then `roam pair <code>` again (the same code works until it expires)';
