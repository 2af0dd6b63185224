import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import { groupFileSchema } from '../src/pairing/group.js';
import { ENTRY_VERSION, canonical, entryId, entrySchema, membership, mergeLogs, signEntry, verifyEntry, type Entry } from '../src/pairing/members.js';

const GROUP = 'ab'.repeat(16);

async function device(): Promise<{ key: PrivateKey; id: string }> {
  const key = await generateKeyPair('Ed25519');
  return { key, id: peerIdFromPrivateKey(key).toString() };
}

/** Signs any object as it stands (what an older or a newer build writes). */
async function signRaw(key: PrivateKey, unsigned: Record<string, unknown>): Promise<Record<string, unknown>> {
  return { ...unsigned, sig: Buffer.from(await key.sign(canonical(unsigned))).toString('base64') };
}

/** As it travels and is stored: JSON, then the schema every reader applies. */
const roundTrip = (e: unknown): Entry => entrySchema.parse(JSON.parse(JSON.stringify(e)));

describe('membership entries', () => {
  it('v1 (the first format): still read and verified, with the id it always had', async () => {
    const a = await device();
    const v1 = await signRaw(a.key, { v: 1, group: GROUP, op: 'add', peer: a.id, name: 'alpha', by: a.id, at: 5 });
    const text = JSON.stringify(['roam-membership-v1', 1, GROUP, 'add', a.id, 'alpha', a.id, 5, []]);
    expect(Buffer.from(canonical(v1)).toString()).toBe(text);
    const e = roundTrip(v1);
    expect(e).toEqual(v1);
    expect(await verifyEntry(e)).toBe(true);
    expect(await verifyEntry({ ...e, name: 'mallory' } as Entry)).toBe(false);
    // A v1 entry with a field v1 does not have is malformed (v1 was closed).
    expect(entrySchema.safeParse({ ...v1, role: 'relay' }).success).toBe(false);
  });

  it('v2: written now, every field signed, role and attrs included', async () => {
    const a = await device();
    const e = await signEntry(a.key, { group: GROUP, op: 'add', peer: a.id, name: 'alpha', by: a.id, at: 7, role: 'relay', attrs: { note: { x: [1, 2] } } });
    expect(e.v).toBe(ENTRY_VERSION);
    expect(ENTRY_VERSION).toBe(2);
    const back = roundTrip(e);
    expect(back).toEqual(e);
    expect(await verifyEntry(back)).toBe(true);
    expect(entryId(back)).toBe(entryId(e));
    expect(Buffer.from(canonical(e)).toString()).toMatch(/^roam-membership-v2\n\{"at":7,"attrs":\{"note":\{"x":\[1,2\]\}\},"by":/);
    for (const tampered of [{ role: 'member' }, { attrs: { note: { x: [1, 3] } } }, { at: 8 }, { extra: true }]) {
      expect(await verifyEntry({ ...back, ...tampered } as Entry), JSON.stringify(tampered)).toBe(false);
    }
    // Key order does not matter to the signature (canonical JSON).
    const reordered = Object.fromEntries(Object.entries(back).reverse()) as Entry;
    expect(await verifyEntry(reordered)).toBe(true);
  });

  it('an entry of a newer version with fields this build does not know survives a round trip, signature valid, never re-signed', async () => {
    const a = await device();
    const b = await device();
    const genesis = await signEntry(a.key, { group: GROUP, op: 'add', peer: a.id, name: 'alpha', by: a.id, at: 1 });
    const future = await signRaw(a.key, { v: 3, group: GROUP, op: 'add', peer: b.id, name: 'beta', by: a.id, at: 2, approvals: [{ by: a.id, sig: 'xyz' }], attrs: { quorum: 2 } });
    const approve = await signRaw(a.key, { v: 3, group: GROUP, op: 'approve', peer: b.id, by: a.id, at: 3 });
    const parsed = [future, approve].map(roundTrip);
    expect(parsed).toEqual([future, approve]);
    for (const e of parsed) expect(await verifyEntry(e)).toBe(true);
    // Kept through a merge and in the group file, every field (key order aside: the signature
    // covers canonical JSON).
    const log = mergeLogs([genesis], parsed);
    expect(log).toHaveLength(3);
    const file = { v: 1, id: GROUP, founder: a.id, secret: { gen: 0, key: '11'.repeat(32), by: a.id, sig: 'c2ln' }, previous: [], log, directory: {} };
    const stored = groupFileSchema.parse(JSON.parse(JSON.stringify(file)));
    expect(stored.log).toEqual(log);
    for (const e of stored.log) expect(await verifyEntry(e)).toBe(true);
    // Read by its known fields: the add counts; the unknown op counts for nothing.
    const m = membership(GROUP, a.id, stored.log);
    expect([...m.members.keys()].sort()).toEqual([a.id, b.id].sort());
    expect(m.members.get(b.id)).toMatchObject({ name: 'beta', role: 'member' });
  });

  it("a relay's (or an unknown role's) entries count for nothing, whatever their order", async () => {
    const [a, r, x, y] = [await device(), await device(), await device(), await device()];
    const sign = (by: { key: PrivateKey; id: string }, e: Omit<Parameters<typeof signEntry>[1], 'group' | 'by'>) => signEntry(by.key, { group: GROUP, by: by.id, ...e });
    const log: Entry[] = [
      await sign(a, { op: 'add', peer: a.id, name: 'alpha', at: 1 }),
      await sign(a, { op: 'add', peer: r.id, name: 'relay', role: 'relay', at: 2 }),
      await sign(r, { op: 'add', peer: x.id, name: 'smuggled', at: 3 }),
      await sign(r, { op: 'remove', peer: a.id, at: 4 }),
      await sign(a, { op: 'add', peer: y.id, name: 'odd', role: 'overlord' as 'relay', at: 5 }),
    ];
    for (let i = 0; i < 5; i++) {
      const m = membership(GROUP, a.id, [...log].sort(() => Math.random() - 0.5));
      expect([...m.members.keys()].sort()).toEqual([a.id, r.id, y.id].sort());
      expect(m.members.get(r.id)?.role).toBe('relay');
      expect(m.members.get(y.id)?.role).toBe('overlord');
      expect(m.members.get(a.id)?.role).toBe('member');
      expect(m.removed.size).toBe(0);
    }
  });
});
