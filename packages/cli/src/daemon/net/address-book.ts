/**
 * The group's address book: the newest signed address record of each member, this device's own
 * among them, kept in `<state>/address-book.json` across restarts.
 *
 * A record is libp2p's own signed peer record (@libp2p/peer-record: a `PeerRecord` of peer id,
 * sequence number and multiaddrs, sealed in a `RecordEnvelope` signed by the device's libp2p
 * key). Anyone may carry a record (the gossip in address-gossip.ts forwards them through the
 * members it reaches), nobody can forge or alter one: a record is kept only when its signature
 * verifies against the key its peer id names, that peer is a member, and its sequence number is
 * higher than the one held. Sequence numbers are milliseconds since the epoch (and at least one
 * more than the last), so a restarted device's new record wins over its old one.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey, peerIdFromPublicKey } from '@libp2p/peer-id';
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record';
import { multiaddr } from '@multiformats/multiaddr';
import { z } from 'zod';
import { errText } from './errors.js';

/** Addresses in one record at most (more are cut, newest kept first by the caller). */
export const MAX_RECORD_ADDRS = 16;
/** One sealed record's size bound (16 addresses of ~60 bytes, a key and a signature fit well). */
export const MAX_RECORD_BYTES = 4096;
/** Records held (and sent in one message) at most: far more devices than a person has. */
export const MAX_RECORDS = 256;

export interface AddressRecord {
  readonly peerId: string;
  readonly seq: bigint;
  /** Multiaddrs without `/p2p/<id>`. */
  readonly addrs: readonly string[];
  /** The sealed envelope, as sent and stored. */
  readonly sealed: Uint8Array;
}

const fileSchema = z.strictObject({
  v: z.literal(1),
  records: z.array(z.base64().max(Math.ceil((MAX_RECORD_BYTES * 4) / 3) + 4)).max(MAX_RECORDS),
});

/** A relay's circuit address, `/<ip>/<addr>/tcp/<port>/p2p/<relay>/p2p-circuit`, the way members reach a member behind NAT. */
function isRelayAddr(names: readonly string[]): boolean {
  return names.length === 4 && names[1] === 'tcp' && names[2] === 'p2p' && names[3] === 'p2p-circuit';
}

/** An address a record may carry: a TCP multiaddr over IPv4/IPv6/DNS, without a peer id, or a relay's circuit address. */
export function acceptableAddr(addr: string): boolean {
  if (addr.length > 256) return false;
  try {
    const names = multiaddr(addr).getComponents().map((c) => c.name);
    return ((names.includes('tcp') && !names.includes('p2p')) || isRelayAddr(names)) && ['ip4', 'ip6', 'dns', 'dns4', 'dns6'].includes(names[0] ?? '');
  } catch {
    return false;
  }
}

/** Signs this device's addresses. */
export async function sealRecord(key: PrivateKey, addrs: readonly string[], seq: bigint): Promise<AddressRecord> {
  const peerId = peerIdFromPrivateKey(key);
  const kept = [...new Set(addrs)].filter(acceptableAddr).slice(0, MAX_RECORD_ADDRS);
  const envelope = await RecordEnvelope.seal(new PeerRecord({ peerId, seqNumber: seq, multiaddrs: kept.map((a) => multiaddr(a)) }), key);
  return { peerId: peerId.toString(), seq, addrs: kept, sealed: envelope.marshal() };
}

/** Opens a sealed record: throws unless it is a well-formed peer record signed by its own peer. */
export async function openRecord(sealed: Uint8Array): Promise<AddressRecord> {
  if (sealed.length > MAX_RECORD_BYTES) throw new Error(`an address record of ${sealed.length} bytes (at most ${MAX_RECORD_BYTES})`);
  const envelope = await RecordEnvelope.openAndCertify(sealed, PeerRecord.DOMAIN);
  const codec = PeerRecord.CODEC;
  if (envelope.payloadType.length !== codec.length || envelope.payloadType.some((b, i) => b !== codec[i])) throw new Error('not a peer record');
  const record = PeerRecord.createFromProtobuf(envelope.payload);
  const signer = peerIdFromPublicKey(envelope.publicKey);
  if (!record.peerId.equals(signer)) throw new Error('an address record signed by another peer than the one it names');
  if (record.multiaddrs.length > MAX_RECORD_ADDRS) throw new Error(`an address record with ${record.multiaddrs.length} addresses`);
  const addrs = record.multiaddrs.map((m) => m.toString()).filter(acceptableAddr);
  return { peerId: signer.toString(), seq: record.seqNumber, addrs, sealed };
}

export interface AddressBookOptions {
  stateDir: string;
  privateKey: PrivateKey;
  /** Whether a peer id is a member now (records of others are ignored). */
  isMember: (peerId: string) => boolean;
  log: (line: string) => void;
}

export class AddressBook {
  readonly selfId: string;
  private readonly records = new Map<string, AddressRecord>();
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly opts: AddressBookOptions) {
    this.selfId = peerIdFromPrivateKey(opts.privateKey).toString();
  }

  private get file(): string {
    return join(this.opts.stateDir, 'address-book.json');
  }

  /** Reads the saved records (each verified again; a missing or damaged file is an empty book). */
  async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch {
      return;
    }
    const parsed = fileSchema.safeParse((() => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return null;
      }
    })());
    if (!parsed.success) {
      this.opts.log('the saved address book is damaged: starting with an empty one');
      return;
    }
    for (const b64 of parsed.data.records) {
      try {
        const r = await openRecord(Buffer.from(b64, 'base64'));
        if (r.peerId === this.selfId || this.opts.isMember(r.peerId)) this.keep(r);
      } catch (err) {
        this.opts.log(`a saved address record was dropped: ${errText(err)}`);
      }
    }
  }

  get(peerId: string): AddressRecord | undefined {
    return this.records.get(peerId);
  }

  /** The addresses the book holds for a member (with `/p2p/<id>`), or none. */
  addressesOf(peerId: string): string[] {
    if (peerId !== this.selfId && !this.opts.isMember(peerId)) return [];
    return (this.records.get(peerId)?.addrs ?? []).map((a) => `${a}/p2p/${peerId}`);
  }

  /** Every record held for members and this device. */
  all(): AddressRecord[] {
    return [...this.records.values()].filter((r) => r.peerId === this.selfId || this.opts.isMember(r.peerId));
  }

  /**
   * Takes a record heard from a member: kept (true) when it is of a member other than this
   * device and newer than the one held.
   */
  accept(r: AddressRecord): boolean {
    if (r.peerId === this.selfId || !this.opts.isMember(r.peerId)) return false;
    const held = this.records.get(r.peerId);
    if (held && held.seq >= r.seq) return false;
    if (!held && this.records.size >= MAX_RECORDS) return false;
    this.keep(r);
    this.save();
    return true;
  }

  /** Signs this device's current addresses when they differ from its record: the new record, or null. */
  async refreshOwn(addrs: readonly string[]): Promise<AddressRecord | null> {
    const kept = [...new Set(addrs)].filter(acceptableAddr).slice(0, MAX_RECORD_ADDRS);
    const held = this.records.get(this.selfId);
    if (held && held.addrs.length === kept.length && held.addrs.every((a, i) => a === kept[i])) return null;
    const now = BigInt(Date.now());
    const seq = held && held.seq >= now ? held.seq + 1n : now;
    const r = await sealRecord(this.opts.privateKey, kept, seq);
    this.keep(r);
    this.save();
    return r;
  }

  /** Forgets a device removed from the group. */
  forget(peerId: string): void {
    if (this.records.delete(peerId)) this.save();
  }

  /** Waits for pending writes (on stop). */
  flush(): Promise<void> {
    return this.saving;
  }

  private keep(r: AddressRecord): void {
    this.records.set(r.peerId, r);
  }

  /** Writes the book (one write at a time, through a temp file and a rename). */
  private save(): void {
    this.saving = this.saving.then(async () => {
      const body = JSON.stringify({ v: 1, records: [...this.records.values()].map((r) => Buffer.from(r.sealed).toString('base64')) });
      const tmp = `${this.file}.${randomBytes(4).toString('hex')}.tmp`;
      try {
        await writeFile(tmp, body, { mode: 0o600 });
        await rename(tmp, this.file);
      } catch (err) {
        this.opts.log(`saving the address book failed: ${errText(err)}`);
      }
    });
  }
}
