/**
 * The address book keeps only what a member signed: records verified against the peer id they
 * name, newer than the one held, of members; it survives a reload from its file, and drops what
 * was tampered with there.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { afterEach, describe, expect, it } from 'vitest';
import { AddressBook, MAX_RECORD_BYTES, openRecord, sealRecord } from '../src/daemon/net/address-book.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function setup(members: (id: string) => boolean = () => true) {
  const dir = mkdtempSync(join(tmpdir(), 'roam-book-'));
  dirs.push(dir);
  const self = await generateKeyPair('Ed25519');
  const lines: string[] = [];
  const book = new AddressBook({ stateDir: dir, privateKey: self, isMember: members, log: (l) => lines.push(l) });
  return { dir, self, book, lines };
}

describe('address book', () => {
  it('keeps a member\'s signed record, only a newer one replaces it, and this device\'s own is never taken from others', async () => {
    const { book, self } = await setup();
    const other = await generateKeyPair('Ed25519');
    const id = peerIdFromPrivateKey(other).toString();
    const r1 = await openRecord((await sealRecord(other, ['/ip4/198.18.0.5/tcp/4001'], 10n)).sealed);
    expect(r1).toMatchObject({ peerId: id, seq: 10n, addrs: ['/ip4/198.18.0.5/tcp/4001'] });
    expect(book.accept(r1)).toBe(true);
    expect(book.addressesOf(id)).toEqual([`/ip4/198.18.0.5/tcp/4001/p2p/${id}`]);
    const older = await sealRecord(other, ['/ip4/198.18.0.6/tcp/4001'], 9n);
    expect(book.accept(older)).toBe(false);
    expect(book.accept(await sealRecord(other, ['/ip4/198.18.0.7/tcp/4001'], 11n))).toBe(true);
    expect(book.addressesOf(id)).toEqual([`/ip4/198.18.0.7/tcp/4001/p2p/${id}`]);
    // A record of this device heard from someone else does not replace its own.
    expect(book.accept(await sealRecord(self, ['/ip4/198.18.0.9/tcp/1'], 10n ** 15n))).toBe(false);
  });

  it('refuses forged, altered, oversized and non-members\' records', async () => {
    const other = await generateKeyPair('Ed25519');
    const otherId = peerIdFromPrivateKey(other).toString();
    const { book } = await setup((p) => p !== otherId);
    const good = await sealRecord(other, ['/ip4/198.18.0.5/tcp/4001'], 1n);
    // A byte of the signed payload changed: the signature no longer verifies.
    const altered = Uint8Array.from(good.sealed);
    const at = Buffer.from(altered).indexOf(Buffer.from([198, 18, 0, 5]));
    expect(at).toBeGreaterThan(0);
    altered[at + 3] = 66;
    await expect(openRecord(altered)).rejects.toThrow();
    await expect(openRecord(new Uint8Array(MAX_RECORD_BYTES + 1))).rejects.toThrow(/at most/);
    await expect(openRecord(new Uint8Array([1, 2, 3]))).rejects.toThrow();
    // Well signed, but not a member.
    expect(book.accept(await openRecord(good.sealed))).toBe(false);
    expect(book.addressesOf(otherId)).toEqual([]);
  });

  it('signs its own addresses, re-signs only on change, and reloads from its file', async () => {
    const { book, dir, self } = await setup();
    const other = await generateKeyPair('Ed25519');
    const otherId = peerIdFromPrivateKey(other).toString();
    const first = await book.refreshOwn(['/ip4/198.18.0.1/tcp/4001', '/ip4/198.18.0.1/tcp/4001', 'not an address']);
    expect(first?.addrs).toEqual(['/ip4/198.18.0.1/tcp/4001']);
    expect(await book.refreshOwn(['/ip4/198.18.0.1/tcp/4001'])).toBeNull();
    const second = await book.refreshOwn(['/ip4/198.18.0.2/tcp/4001']);
    expect(second!.seq).toBeGreaterThan(first!.seq);
    book.accept(await sealRecord(other, ['/ip4/198.18.0.5/tcp/4001'], 5n));
    await book.flush();

    const again = new AddressBook({ stateDir: dir, privateKey: self, isMember: () => true, log: () => undefined });
    await again.load();
    expect(again.addressesOf(otherId)).toEqual([`/ip4/198.18.0.5/tcp/4001/p2p/${otherId}`]);
    expect(again.get(peerIdFromPrivateKey(self).toString())?.seq).toBe(second!.seq);

    // A record tampered with in the file is dropped on load (the others stay).
    const file = join(dir, 'address-book.json');
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { v: 1; records: string[] };
    const i = saved.records.findIndex((b) => Buffer.from(b, 'base64').includes(Buffer.from([198, 18, 0, 5])));
    const bytes = Buffer.from(saved.records[i]!, 'base64');
    bytes[bytes.indexOf(Buffer.from([198, 18, 0, 5])) + 3] = 66;
    saved.records[i] = bytes.toString('base64');
    writeFileSync(file, JSON.stringify(saved));
    const lines: string[] = [];
    const third = new AddressBook({ stateDir: dir, privateKey: self, isMember: () => true, log: (l) => lines.push(l) });
    await third.load();
    expect(third.addressesOf(otherId)).toEqual([]);
    expect(third.get(peerIdFromPrivateKey(self).toString())).toBeDefined();
    expect(lines.join('\n')).toMatch(/dropped/);
  });
});
