/**
 * The approvals over the signed membership log (pairing/approvals.ts): which devices are new and
 * which wait for approval under `trust.approve`, decided the same whatever order the entries came in.
 */
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import { APPROVE_SETTING, approvals } from '../src/pairing/approvals.js';
import { membership, signEntry, type Entry, type UnsignedEntry } from '../src/pairing/members.js';

const GROUP = 'cd'.repeat(16);
const keys = new Map<string, PrivateKey>();
async function dev(): Promise<string> {
  const k = await generateKeyPair('Ed25519');
  const id = peerIdFromPrivateKey(k).toString();
  keys.set(id, k);
  return id;
}
let at = 1_000;
const sign = (by: string, e: Omit<UnsignedEntry, 'group' | 'by' | 'at'>): Promise<Entry> => signEntry(keys.get(by)!, { group: GROUP, by, at: at++, ...e });
const view = (founder: string, log: Entry[], self: string) => approvals(GROUP, log, membership(GROUP, founder, log), self);
const shuffled = <T>(xs: T[]): T[] => xs.map((x) => [Math.random(), x] as const).sort((p, q) => p[0] - q[0]).map(([, x]) => x);

describe('approvals', () => {
  it('marks a device another member added as new to the others until a member other than its adder acknowledges it', async () => {
    const [a, b, c] = [await dev(), await dev(), await dev()];
    const log = [await sign(a, { op: 'add', peer: a, name: 'a' }), await sign(a, { op: 'add', peer: b, name: 'b' }), await sign(b, { op: 'add', peer: c, name: 'c' })];
    expect(view(a, log, a).standing.get(c)).toMatchObject({ addedBy: b, isNew: true, pending: false });
    expect(view(a, log, b).standing.get(c)!.isNew).toBe(false); // b added it
    expect(view(a, log, c).standing.get(b)!.isNew).toBe(false); // b was there before c joined
    const selfAck = await sign(b, { op: 'ack', peer: c });
    expect(view(a, [...log, selfAck], a).standing.get(c)!.isNew).toBe(true); // its adder's ack counts for nothing
    const ack = await sign(a, { op: 'ack', peer: c });
    for (let i = 0; i < 5; i++) expect(view(a, shuffled([...log, selfAck, ack]), a).standing.get(c)).toMatchObject({ isNew: false, ackedBy: [a] });
  });

  it('with trust.approve on, holds back a device until a second member approves it; not the members when it was set, nor in a group of one, never for a relay\'s approval', async () => {
    const [a, b, c, r] = [await dev(), await dev(), await dev(), await dev()];
    const genesis = await sign(a, { op: 'add', peer: a, name: 'a' });
    const on = await sign(a, { op: 'set', peer: a, attrs: { key: APPROVE_SETTING, value: true, members: [a] } });
    // A group of one: a adds b, nobody else could approve it; a states the setting again with b exempt.
    const addB = await sign(a, { op: 'add', peer: b, name: 'b' });
    expect(view(a, [genesis, on, addB], a).standing.get(b)!.pending).toBe(false);
    const again = await sign(a, { op: 'set', peer: a, attrs: { key: APPROVE_SETTING, value: true, members: [a, b] } });
    // b adds c: a can approve, so c waits; a relay (added by a) approving counts for nothing.
    const addC = await sign(b, { op: 'add', peer: c, name: 'c' });
    const addR = await sign(a, { op: 'add', peer: r, name: 'r', role: 'relay' });
    const relayAck = await sign(r, { op: 'ack', peer: c });
    const log = [genesis, on, addB, again, addC, addR, relayAck];
    expect(view(a, shuffled(log), a).approve).toMatchObject({ on: true, by: a });
    expect(view(a, shuffled(log), a).standing.get(c)!.pending).toBe(true);
    expect(view(a, log, a).standing.get(b)!.pending).toBe(false); // exempt
    expect(view(a, log, a).standing.get(r)!.pending).toBe(false); // relays hold no data
    const approve = await sign(a, { op: 'ack', peer: c });
    expect(view(a, shuffled([...log, approve]), c).standing.get(c)!.pending).toBe(false);
    // Turned off later (by the signers' clocks): nobody waits.
    const off = await sign(b, { op: 'set', peer: b, attrs: { key: APPROVE_SETTING, value: false, members: [a, b] } });
    expect(view(a, shuffled([...log, off]), a).standing.get(c)!.pending).toBe(false);
    // Set by a relay: counts for nothing.
    const relayOn = await sign(r, { op: 'set', peer: r, attrs: { key: APPROVE_SETTING, value: true, members: [] } });
    expect(view(a, [genesis, addB, addC, addR, relayOn], a).approve.on).toBe(false);
  });
});
