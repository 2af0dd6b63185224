/**
 * Pairing's parts: the code (checksum, typos), the signed membership log (a remove wins, a removed
 * device cannot add anyone), and the pairing exchange over real libp2p nodes on 127.0.0.1,
 * including impostors found "by mDNS" (their addresses handed to the joiner as mDNS would: mDNS
 * itself would multicast out of the host's interface) and a relay that knows the code.
 */
import '../src/polyfill.js';
import { randomBytes } from 'node:crypto';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { Libp2p, PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { tcp } from '@libp2p/tcp';
import { lpStream } from '@libp2p/utils';
import { isRoamError } from '@roam/core';
import { createLibp2p } from 'libp2p';
import { afterEach, describe, expect, it } from 'vitest';
import { CODE_PREFIX, decodeCode, encodeCode, type PairingCode } from '../src/machine/pair-code.js';
import { GRACE_MS, claimOf, makeSecret, retireGrace, settleSecret, verifySecret, type GroupFile } from '../src/pairing/group.js';
import { entryId, membership, signEntry, verifyEntry, type Entry, type UnsignedEntry } from '../src/pairing/members.js';
import { PAIR_PROTOCOL, PAIR_VERSION, joinByCode, pairKeys, pairProof, pairingNode, serveInviter, type InviterHost, type Welcome } from '../src/pairing/exchange.js';

const codeOf = (err: unknown): string | undefined => (isRoamError(err) ? err.code : undefined);

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

// ------------------------------------------------------------------ codes

describe('pairing codes', () => {
  const sample = (): PairingCode => ({
    secret: randomBytes(16),
    inviterKey: randomBytes(32),
    addresses: ['/ip4/192.168.1.20/tcp/40123', '/ip6/fd00::1/tcp/40123', '/ip4/127.0.0.1/tcp/40123'],
  });

  it('round-trips a secret of 128 bits, the inviter key and the addresses, on one lowercase line', () => {
    const c = sample();
    const text = encodeCode(c);
    expect(text).toMatch(/^roam1-[0-9a-z]+$/);
    const back = decodeCode(text);
    expect(Buffer.from(back.secret)).toEqual(Buffer.from(c.secret));
    expect(back.secret.length * 8).toBeGreaterThanOrEqual(128);
    expect(Buffer.from(back.inviterKey)).toEqual(Buffer.from(c.inviterKey));
    expect(back.addresses).toEqual(c.addresses);
    // Pasted with spaces around it, in capitals, with O for 0 and I/L for 1: still the same code.
    expect(Buffer.from(decodeCode(`  ${text.toUpperCase()}\n`).secret)).toEqual(Buffer.from(c.secret));
    const aliased = CODE_PREFIX + text.slice(CODE_PREFIX.length).replaceAll('0', 'o').replaceAll('1', 'l');
    expect(Buffer.from(decodeCode(aliased).secret)).toEqual(Buffer.from(c.secret));
  });

  it('calls every one-character change, a dropped character and a swap a typo (checksum), never a wrong code', () => {
    const text = encodeCode(sample());
    const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';
    for (let i = CODE_PREFIX.length; i < text.length; i++) {
      const canonical = text[i]!;
      for (const ch of [alphabet[(alphabet.indexOf(canonical) + 1) % 32]!, alphabet[(alphabet.indexOf(canonical) + 17) % 32]!]) {
        const changed = text.slice(0, i) + ch + text.slice(i + 1);
        expect(codeOf(thrown(() => decodeCode(changed))), `position ${i}: ${canonical}→${ch}`).toBe('ROAM_PAIR_CODE_CHECKSUM');
      }
      const dropped = text.slice(0, i) + text.slice(i + 1);
      expect(codeOf(thrown(() => decodeCode(dropped)))).toBe('ROAM_PAIR_CODE_CHECKSUM');
    }
    const swapped = text.slice(0, 10) + text[11] + text[10] + text.slice(12);
    if (swapped !== text) expect(codeOf(thrown(() => decodeCode(swapped)))).toBe('ROAM_PAIR_CODE_CHECKSUM');
    const err = thrown(() => decodeCode(`${text.slice(0, 12)}u${text.slice(13)}`));
    expect(codeOf(err)).toBe('ROAM_PAIR_CODE_CHECKSUM');
    expect((err as Error).message).toMatch(/"u" at position 13 is not a code character/);
  });

  it('tells what is not a code at all, or one from another version', () => {
    expect(codeOf(thrown(() => decodeCode('hello')))).toBe('ROAM_PAIR_CODE_INVALID');
    expect(codeOf(thrown(() => decodeCode('roam2-abcdef')))).toBe('ROAM_PAIR_CODE_INVALID');
    expect((thrown(() => decodeCode('roam2-abcdef')) as Error).message).toMatch(/another version of roam/);
  });
});

// ------------------------------------------------------------------ membership

describe('membership log', () => {
  const GROUP = 'ab'.repeat(16);
  const keys = new Map<string, PrivateKey>();
  async function dev(): Promise<string> {
    const k = await generateKeyPair('Ed25519');
    const id = peerIdFromPrivateKey(k).toString();
    keys.set(id, k);
    return id;
  }
  let at = 1_000;
  const sign = (by: string, e: Omit<UnsignedEntry, 'group' | 'by' | 'at'>): Promise<Entry> =>
    signEntry(keys.get(by)!, { group: GROUP, by, at: at++, ...e });
  const members = (founder: string, log: Entry[]) => [...membership(GROUP, founder, log).members.keys()].sort();
  const shuffled = <T>(xs: T[]): T[] => xs.map((x) => [Math.random(), x] as const).sort((p, q) => p[0] - q[0]).map(([, x]) => x);

  it('grows from the genesis by members\' adds; others\' adds and self-adds count for nothing; order does not matter', async () => {
    const [a, b, c, x] = [await dev(), await dev(), await dev(), await dev()];
    const log = [
      await sign(a, { op: 'add', peer: a, name: 'alpha' }),
      await sign(a, { op: 'add', peer: b, name: 'beta' }),
      await sign(b, { op: 'add', peer: c, name: 'gamma' }),
      await sign(x, { op: 'add', peer: x, name: 'intruder' }), // a self-add
      await sign(x, { op: 'add', peer: await dev(), name: 'friend' }), // by a non-member
    ];
    for (let i = 0; i < 10; i++) expect(members(a, shuffled(log))).toEqual([a, b, c].sort());
    expect(membership(GROUP, a, log).members.get(c)?.name).toBe('gamma');
    // Without the genesis, nobody; in another group, nothing.
    expect(members(a, log.slice(1))).toEqual([]);
    expect([...membership('cd'.repeat(16), a, log).members.keys()]).toEqual([]);
  });

  it('lets a remove win forever, keeps the adds the remover had seen, and voids the removed device\'s later adds', async () => {
    const [a, b, c, d, e] = [await dev(), await dev(), await dev(), await dev(), await dev()];
    const genesis = await sign(a, { op: 'add', peer: a, name: 'alpha' });
    const addB = await sign(a, { op: 'add', peer: b, name: 'beta' });
    const addC = await sign(b, { op: 'add', peer: c, name: 'gamma' }); // b added c while trusted
    const removeB = await sign(a, { op: 'remove', peer: b, keep: [entryId(addC)] });
    const addD = await sign(b, { op: 'add', peer: d, name: 'after' }); // b, removed, adds d
    const readdB = await sign(c, { op: 'add', peer: b, name: 'beta again' });
    const addE = await sign(d, { op: 'add', peer: e, name: 'via d' });
    const log = [genesis, addB, addC, removeB, addD, readdB, addE];
    for (let i = 0; i < 10; i++) expect(members(a, shuffled(log))).toEqual([a, c].sort());
    expect(membership(GROUP, a, log).removed.has(b)).toBe(true);
    // Had the remover not seen c's add, c would go too.
    const strict = await sign(a, { op: 'remove', peer: b, keep: [] });
    expect(members(a, [genesis, addB, addC, strict])).toEqual([a]);
  });

  it('signs group secrets, and never keeps one made by a removed device as the current secret', async () => {
    const [a, c] = [await dev(), await dev()];
    const s0 = await makeSecret(keys.get(a)!, GROUP, 0, '11'.repeat(32));
    const s1 = await makeSecret(keys.get(a)!, GROUP, 1, '22'.repeat(32));
    const bogus = await makeSecret(keys.get(c)!, GROUP, 5, '33'.repeat(32));
    expect(await verifySecret(GROUP, claimOf(bogus))).toBe(true);
    expect(await verifySecret(GROUP, { ...claimOf(bogus), by: a })).toBe(false);
    expect(await verifySecret(GROUP, { ...claimOf(bogus), gen: 6 })).toBe(false);
    expect(await verifySecret('cd'.repeat(16), claimOf(bogus))).toBe(false);
    const now = Date.now();
    // A stale member took c's secret; then it learns c was removed.
    const g: GroupFile = {
      v: 1, id: GROUP, founder: a, secret: bogus, log: [], directory: {},
      previous: [{ ...s0, until: now + GRACE_MS }, { ...s1, until: now + GRACE_MS }],
    };
    expect(settleSecret(g, new Set(), now)).toBe(false);
    expect(settleSecret(g, new Set([c]), now)).toBe(true);
    expect(g.secret).toEqual(s1);
    expect(g.previous.map((p) => p.gen).sort()).toEqual([0, 5]);
    expect(settleSecret(g, new Set([c]), now)).toBe(false);
  });

  it('accepts a replaced secret at most 7 days, and no longer once every other member was seen on the current one', async () => {
    const [a, b, c] = [await dev(), await dev(), await dev()];
    expect(GRACE_MS).toBeLessThanOrEqual(7 * 24 * 3600 * 1000);
    const s0 = await makeSecret(keys.get(a)!, GROUP, 0, '11'.repeat(32));
    const s1 = await makeSecret(keys.get(a)!, GROUP, 1, '22'.repeat(32));
    const now = Date.now();
    // A file written with the old 30-day grace is cut back to 7 days.
    const g: GroupFile = { v: 1, id: GROUP, founder: a, secret: s1, log: [], directory: {}, previous: [{ ...s0, until: now + 30 * 24 * 3600 * 1000 }] };
    const seen = new Map([[b, claimOf(s1).fp]]);
    expect(retireGrace(g, [a, b, c], a, seen, now)).toBe(true);
    expect(g.previous[0]!.until).toBe(now + GRACE_MS);
    // c still holds the old secret (or was not seen since): the old one stays accepted.
    seen.set(c, claimOf(s0).fp);
    expect(retireGrace(g, [a, b, c], a, seen, now)).toBe(false);
    expect(g.previous).toHaveLength(1);
    // Every other member seen on the current secret: nothing previous is needed any more.
    seen.set(c, claimOf(s1).fp);
    expect(retireGrace(g, [a, b, c], a, seen, now)).toBe(true);
    expect(g.previous).toEqual([]);
  });

  it('checks signatures: a changed entry or another signer fails', async () => {
    const [a, b] = [await dev(), await dev()];
    const e = await sign(a, { op: 'add', peer: b, name: 'beta' });
    expect(await verifyEntry(e)).toBe(true);
    expect(await verifyEntry({ ...e, name: 'mallory' })).toBe(false);
    expect(await verifyEntry({ ...e, by: b })).toBe(false);
    expect(await verifyEntry({ ...e, group: 'cd'.repeat(16) })).toBe(false);
    expect(await verifyEntry({ ...e, sig: 'AAAA' })).toBe(false);
  });
});

// ------------------------------------------------------------------ the exchange over libp2p

const nodes: Libp2p[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => Promise.resolve(n.stop()).catch(() => undefined)));
});

interface Inviter {
  key: PrivateKey;
  id: string;
  secret: Uint8Array;
  node: Libp2p;
  addr: string;
  host: InviterHost & { claims: string[]; admitted: string[]; logs: string[] };
}

async function startInviter(): Promise<Inviter> {
  const key = await generateKeyPair('Ed25519');
  const id = peerIdFromPrivateKey(key).toString();
  const secret = randomBytes(16);
  const keys = pairKeys(secret);
  const logs: string[] = [];
  let status: 'open' | 'used' = 'open';
  const claims: string[] = [];
  const admitted: string[] = [];
  const host = {
    selfId: id,
    proofKey: keys.proof,
    claims,
    admitted,
    logs,
    closed: () => (status === 'used' ? ('used' as const) : null),
    refuse: () => null,
    claim: (j: string) => {
      claims.push(j);
      if (status !== 'open') return false;
      status = 'used';
      return true;
    },
    admit: async (j: { peerId: string; name: string }): Promise<Welcome> => {
      admitted.push(j.peerId);
      const group = 'ef'.repeat(16);
      const genesis = await signEntry(key, { group, op: 'add', peer: id, name: 'inviter', by: id, at: 1 });
      const add = await signEntry(key, { group, op: 'add', peer: j.peerId, name: j.name, by: id, at: 2 });
      const secret = await makeSecret(key, group, 0, 'aa'.repeat(32));
      return { t: 'welcome', group: { id: group, founder: id }, secret, previous: [], log: [genesis, add], directory: {}, inviterName: 'inviter' };
    },
    joined: () => undefined,
    log: (l: string) => logs.push(l),
  };
  const node = await pairingNode({ privateKey: key, listen: ['/ip4/127.0.0.1/tcp/0'], psk: keys.psk, allow: (p) => p !== id, mdns: false, log: (l) => logs.push(l) });
  await node.handle(PAIR_PROTOCOL, (stream, conn) => void serveInviter(stream, conn, host));
  await node.start();
  nodes.push(node);
  return { key, id, secret, node, addr: node.getMultiaddrs()[0]!.decapsulateCode(421).toString(), host };
}

async function joiner(): Promise<{ key: PrivateKey; id: string }> {
  const key = await generateKeyPair('Ed25519');
  return { key, id: peerIdFromPrivateKey(key).toString() };
}

/** Runs the joiner's side; `accepted` records what it would have stored. */
async function join(j: { key: PrivateKey; id: string }, inv: Inviter, over: { secret?: Uint8Array; addresses?: string[]; found?: string[] } = {}) {
  const accepted: Welcome[] = [];
  const logs: string[] = [];
  try {
    const w = await joinByCode(
      {
        privateKey: j.key, selfId: j.id, inviterId: inv.id, secret: over.secret ?? inv.secret,
        addresses: over.addresses ?? [inv.addr], name: 'joiner', addrs: [], mdns: false,
        deadline: Date.now() + 10_000, log: (l) => logs.push(l), ...(over.found ? { found: over.found } : {}),
      },
      async (welcome) => {
        accepted.push(welcome);
      },
    );
    return { ok: true as const, welcome: w, accepted, logs };
  } catch (err) {
    return { ok: false as const, err, accepted, logs };
  }
}

/** A node that listens like an impostor and records every pairing stream it is offered. */
async function impostor(opts: { psk?: Uint8Array; key?: PrivateKey } = {}): Promise<{ node: Libp2p; addr: string; streams: number; inbound: number }> {
  const key = opts.key ?? (await generateKeyPair('Ed25519'));
  const state = { node: undefined as unknown as Libp2p, addr: '', streams: 0, inbound: 0 };
  const node = opts.psk
    ? await pairingNode({ privateKey: key, listen: ['/ip4/127.0.0.1/tcp/0'], psk: opts.psk, allow: () => true, mdns: false, log: () => undefined })
    : await createLibp2p({ privateKey: key, addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()], start: false });
  await node.handle(PAIR_PROTOCOL, (stream) => {
    state.streams++;
    stream.abort(new Error('impostor'));
  });
  node.addEventListener('connection:open', () => state.inbound++);
  await node.start();
  nodes.push(node);
  state.node = node;
  state.addr = node.getMultiaddrs()[0]!.decapsulateCode(421).toString();
  return state;
}

describe('the pairing exchange', () => {
  it('pairs a joiner that holds the code: both proofs verify, the welcome arrives once, the code is used up', async () => {
    const inv = await startInviter();
    const j = await joiner();
    const r = await join(j, inv);
    expect(r.ok, String(!r.ok && r.err)).toBe(true);
    expect(r.accepted).toHaveLength(1);
    expect(inv.host.claims).toEqual([j.id]);
    expect(inv.host.admitted).toEqual([j.id]);
    // Used: a second joiner with the same code is refused with ROAM_PAIR_EXPIRED and gets nothing.
    const again = await join(await joiner(), inv);
    expect(again.ok).toBe(false);
    expect(codeOf(!again.ok && again.err)).toBe('ROAM_PAIR_EXPIRED');
    expect(again.accepted).toEqual([]);
    expect(inv.host.admitted).toEqual([j.id]);
  });

  it('refuses a wrong code before any exchange (the private network already differs)', async () => {
    const inv = await startInviter();
    const r = await join(await joiner(), inv, { secret: randomBytes(16) });
    expect(r.ok).toBe(false);
    expect(codeOf(!r.ok && r.err)).toBe('ROAM_PAIR_PROOF');
    expect(inv.host.claims).toEqual([]);
    expect(inv.host.logs.some((l) => /refused a connection from .*not in this group \(it does not hold the pairing code\)/.test(l))).toBe(true);
    // The invitation is still good for the right device.
    expect((await join(await joiner(), inv)).ok).toBe(true);
  });

  it('says the inviter is unreachable when nothing answers', async () => {
    const inv = await startInviter();
    await inv.node.stop();
    const r = await join(await joiner(), inv);
    expect(codeOf(!r.ok && r.err)).toBe('ROAM_PAIR_UNREACHABLE');
  });

  it('gives an impostor found on the LAN nothing, and takes nothing from it', async () => {
    const inv = await startInviter();
    const j = await joiner();
    // 1. Announcing itself under its own peer id: not the inviter named in the code, never dialed.
    const own = await impostor({ psk: randomBytes(32) });
    const r1 = await join(j, inv, { addresses: [], found: [`${own.addr}/p2p/${own.node.peerId.toString()}`] });
    expect(r1.ok).toBe(false);
    expect(r1.logs.some((l) => /ignoring \S+ found on the local network: not the inviter/.test(l))).toBe(true);
    expect(own.inbound).toBe(0);
    // 2. Claiming the inviter's peer id, without the code: the private network refuses it.
    for (const fake of [await impostor({ psk: randomBytes(32) }), await impostor()]) {
      const r = await join(j, inv, { addresses: [], found: [`${fake.addr}/p2p/${inv.id}`] });
      expect(r.ok).toBe(false);
      expect(codeOf(!r.ok && r.err)).toMatch(/^ROAM_PAIR_(PROOF|UNREACHABLE)$/);
      expect(r.accepted).toEqual([]);
      expect(fake.streams).toBe(0);
    }
    // 3. Knowing the code (it saw it) but not the inviter's key: Noise shows another peer id, the
    //    joiner's gater drops it before any stream.
    const relay = await impostor({ psk: pairKeys(inv.secret).psk });
    const r3 = await join(j, inv, { addresses: [], found: [`${relay.addr}/p2p/${inv.id}`] });
    expect(r3.ok).toBe(false);
    expect(codeOf(!r3.ok && r3.err)).toBe('ROAM_PAIR_PROOF');
    expect(r3.accepted).toEqual([]);
    expect(relay.streams).toBe(0);
    // The inviter was never involved; the real one still pairs the joiner.
    expect(inv.host.claims).toEqual([]);
    const ok = await join(j, inv, { found: [`${own.addr}/p2p/${inv.id}`] });
    expect(ok.ok, String(!ok.ok && ok.err)).toBe(true);
  });

  it('binds the proof to both peer ids and both nonces: a proof made for another inviter or replayed is refused', async () => {
    const inv = await startInviter();
    const j = await joiner();
    const { proof } = pairKeys(inv.secret);
    // A client that holds the code but computes its proof for another inviter (as a relay would).
    const client = await pairingNode({ privateKey: j.key, listen: [], psk: pairKeys(inv.secret).psk, allow: () => true, mdns: false, log: () => undefined });
    await client.start();
    nodes.push(client);
    const talk = async (makeProof: (nonceInviter: Buffer, nonceJoiner: Buffer) => Buffer): Promise<unknown> => {
      const stream = await client.dialProtocol(inv.node.getMultiaddrs()[0]!, PAIR_PROTOCOL);
      const lp = lpStream(stream);
      const send = (m: unknown) => lp.write(new TextEncoder().encode(JSON.stringify(m)));
      const read = async () => JSON.parse(new TextDecoder().decode((await lp.read()).subarray())) as Record<string, string>;
      const nonceJoiner = randomBytes(32);
      await send({ t: 'hello', v: PAIR_VERSION, nonce: nonceJoiner.toString('hex'), name: 'relay', addrs: [] });
      const challenge = await read();
      await send({ t: 'proof', proof: makeProof(Buffer.from(challenge.nonce!, 'hex'), nonceJoiner).toString('hex') });
      return read();
    };
    const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();
    expect(await talk((ni, nj) => pairProof(proof, 'joiner', other, j.id, ni, nj))).toMatchObject({ t: 'error', reason: 'proof' });
    // A proof recorded for other nonces (a replay) fails the same way.
    const recorded = pairProof(proof, 'joiner', inv.id, j.id, randomBytes(32), randomBytes(32));
    expect(await talk(() => recorded)).toMatchObject({ t: 'error', reason: 'proof' });
    // The inviter role's proof is not the joiner's.
    expect(await talk((ni, nj) => pairProof(proof, 'inviter', inv.id, j.id, ni, nj))).toMatchObject({ t: 'error', reason: 'proof' });
    expect(inv.host.claims).toEqual([]);
    expect(inv.host.logs.filter((l) => /its proof of the code is wrong/.test(l))).toHaveLength(3);
    // The right proof on a fresh exchange works.
    expect(await talk((ni, nj) => pairProof(proof, 'joiner', inv.id, j.id, ni, nj))).toMatchObject({ t: 'proof' });
  });

  it('tells a joiner of an older roam (pairing hello v1) to upgrade, before anything of the group', async () => {
    const inv = await startInviter();
    const j = await joiner();
    const client = await pairingNode({ privateKey: j.key, listen: [], psk: pairKeys(inv.secret).psk, allow: () => true, mdns: false, log: () => undefined });
    await client.start();
    nodes.push(client);
    const stream = await client.dialProtocol(inv.node.getMultiaddrs()[0]!, PAIR_PROTOCOL);
    const lp = lpStream(stream);
    // Exactly what roam before membership entries v2 sends.
    await lp.write(new TextEncoder().encode(JSON.stringify({ t: 'hello', v: 1, nonce: randomBytes(32).toString('hex'), name: 'old laptop', addrs: [] })));
    const answer = JSON.parse(new TextDecoder().decode((await lp.read()).subarray())) as Record<string, string>;
    // 'internal' is a reason the older joiner knows: it prints "the inviter refused: <message>".
    expect(answer).toMatchObject({ t: 'error', reason: 'internal' });
    expect(answer.message).toContain('upgrade roam on "old laptop"');
    expect(inv.host.claims).toEqual([]);
    expect(inv.host.logs.join('\n')).toMatch(/runs an older roam \(pairing version 1, this device 2\)/);
  });
});
