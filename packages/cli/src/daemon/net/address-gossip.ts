/**
 * The `/roam/addresses/1.0.0` protocol that spreads the address book (address-book.ts) through
 * the group: each member sends every record it holds to a member that connects, and a record it
 * newly took to every other connected member, so a record travels as far as members reach each
 * other. One message a stream: one length-prefixed JSON frame `{ v: 1, records: [base64] }`,
 * bounded in size and validated before any record is opened; each record is then verified on its
 * own (address-book.ts). The network dials the addresses of every record it holds (besides
 * `--peer` ones and mDNS finds); this device re-signs its own record when its addresses change
 * (listen addresses that are not loopback, and addresses members observed through identify).
 */
import type { Stream } from '@libp2p/interface';
import { lpStream } from '@libp2p/utils';
import type { Multiaddr } from '@multiformats/multiaddr';
import { z } from 'zod';
import { MAX_RECORDS, MAX_RECORD_BYTES, acceptableAddr, openRecord, type AddressBook, type AddressRecord } from './address-book.js';
import { errText } from './errors.js';
import type { Network } from './network.js';
import { deviceIdOf } from './peer-ids.js';

export const ADDRESSES_PROTOCOL = '/roam/addresses/1.0.0';
const MAX_MESSAGE_BYTES = MAX_RECORDS * Math.ceil((MAX_RECORD_BYTES * 4) / 3) + 1024;
const TIMEOUT_MS = 10_000;
/** How often this device looks whether its own addresses changed. */
const REFRESH_MS = 2_000;
/** Observed addresses kept (the newest first). */
const MAX_OBSERVED = 4;

const messageSchema = z.strictObject({
  v: z.literal(1),
  records: z.array(z.base64().max(Math.ceil((MAX_RECORD_BYTES * 4) / 3) + 4)).max(MAX_RECORDS),
});

/** An address that leads nowhere outside this device. */
const LOOPBACK = /^\/(ip4\/127\.|ip6\/::1\/|ip6\/0:0:0:0:0:0:0:1\/)/;

export class AddressGossip {
  private readonly observed: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private refreshing: Promise<void> = Promise.resolve();

  constructor(
    private readonly net: Network,
    private readonly book: AddressBook,
    private readonly log: (line: string) => void,
    /** More addresses of this device to sign (those members reached by dial-back, dialback.ts). */
    private readonly extra: () => readonly string[] = () => [],
  ) {}

  /** An address a member saw this device connect from (identify's observed address). */
  noteObserved(ma: Multiaddr | undefined): void {
    if (!ma) return;
    const a = ma.toString();
    if (LOOPBACK.test(a) || !acceptableAddr(a)) return;
    const i = this.observed.indexOf(a);
    if (i >= 0) this.observed.splice(i, 1);
    this.observed.unshift(a);
    this.observed.splice(MAX_OBSERVED);
  }

  /** Serves the protocol, dials the book's addresses, and keeps this device's record current. */
  async start(): Promise<void> {
    await this.net.handle(ADDRESSES_PROTOCOL, (stream, peer) => this.onStream(stream, peer));
    this.net.onPeerConnected((peer) => this.send(peer, this.book.all()));
    for (const r of this.book.all()) this.dial(r);
    await this.refresh();
    for (const p of this.net.connectedPeers()) this.send(p, this.book.all());
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS);
    this.timer.unref?.();
  }

  stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    return this.refreshing.then(() => this.book.flush());
  }

  /** This device's addresses now: listen addresses that are not loopback, then observed ones. */
  private ownAddrs(): string[] {
    const suffix = `/p2p/${this.net.peerId}`;
    const listen = this.net.addresses().map((a) => (a.endsWith(suffix) ? a.slice(0, -suffix.length) : a));
    return [...new Set([...this.extra(), ...listen.filter((a) => !LOOPBACK.test(a)), ...this.observed])];
  }

  /** Re-signs this device's record when its addresses changed, tells the members, redials. */
  private refresh(): Promise<void> {
    this.refreshing = this.refreshing.then(async () => {
      if (this.stopped) return;
      try {
        const r = await this.book.refreshOwn(this.ownAddrs());
        if (!r || this.stopped) return;
        this.log(`this device's addresses: ${r.addrs.join(', ') || '(none)'}`);
        for (const p of this.net.connectedPeers()) this.send(p, [r]);
        // A new network: what failed from the old one may work from here.
        this.net.redialNow();
      } catch (err) {
        this.log(`signing this device's addresses failed: ${errText(err)}`);
      }
    });
    return this.refreshing;
  }

  private dial(r: AddressRecord): void {
    if (r.peerId === this.book.selfId) return;
    this.net.setPeerAddresses(r.peerId, r.addrs, 'book');
  }

  private send(peer: string, records: readonly AddressRecord[]): void {
    const out = records.filter((r) => r.peerId !== peer);
    if (this.stopped || out.length === 0) return;
    void this.push(peer, out).catch((err: unknown) => {
      if (!this.stopped) this.log(`sending addresses to ${deviceIdOf(peer)} failed: ${errText(err)}`);
    });
  }

  private async push(peer: string, records: readonly AddressRecord[]): Promise<void> {
    const body = { v: 1, records: records.slice(0, MAX_RECORDS).map((r) => Buffer.from(r.sealed).toString('base64')) };
    const stream = await this.net.openProtocolStream(peer, ADDRESSES_PROTOCOL, AbortSignal.timeout(TIMEOUT_MS));
    try {
      const lp = lpStream(stream, { maxDataLength: MAX_MESSAGE_BYTES });
      await lp.write(new TextEncoder().encode(JSON.stringify(body)), { signal: AbortSignal.timeout(TIMEOUT_MS) });
      await stream.close({ signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch (err) {
      stream.abort(err as Error);
      throw err;
    }
  }

  private async onStream(stream: Stream, peer: string): Promise<void> {
    let b64s: string[];
    try {
      const lp = lpStream(stream, { maxDataLength: MAX_MESSAGE_BYTES });
      const bytes = await lp.read({ signal: AbortSignal.timeout(TIMEOUT_MS) });
      await stream.close().catch(() => undefined);
      const parsed = messageSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes.subarray())));
      if (!parsed.success) throw new Error('malformed address message');
      b64s = parsed.data.records;
    } catch (err) {
      this.log(`addresses from ${deviceIdOf(peer)} refused: ${errText(err)}`);
      stream.abort(err as Error);
      return;
    }
    const fresh: AddressRecord[] = [];
    for (const b64 of b64s) {
      let r: AddressRecord;
      try {
        r = await openRecord(Buffer.from(b64, 'base64'));
      } catch (err) {
        this.log(`an address record from ${deviceIdOf(peer)} was ignored: ${errText(err)}`);
        continue;
      }
      if (this.stopped || !this.book.accept(r)) continue;
      fresh.push(r);
      this.dial(r);
    }
    if (!fresh.length) return;
    // Pass them on: the members this device reaches learn where the others are.
    for (const p of this.net.connectedPeers()) if (p !== peer) this.send(p, fresh);
  }
}
