/**
 * A hostile paired peer: a bare libp2p node holding the group key (the same pnet protector,
 * TCP, Noise and yamux as roamd) that opens roam sync streams and writes whatever frames it
 * likes: varint length prefixes as net.ts reads them, then any bytes. Its peer id is chosen so
 * that its device id is below the target's, so that it is the side that opens sync streams, as a
 * real peer would be. It reads what the daemon sends (to answer `want`s) and counts it.
 */
import '../../../packages/cli/src/polyfill.js';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { Connection, Libp2p, PrivateKey, Stream } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { preSharedKey } from '@libp2p/pnet';
import { tcp } from '@libp2p/tcp';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import { deviceIdOf } from '../../../packages/cli/src/daemon/net/index.js';
import { encodeVarint } from '../../../packages/cli/src/daemon/net/frames.js';
import { swarmKey } from '../../../packages/cli/src/pairing/protector.js';
import { PROTOCOL_ID, decodeMessage, encodeMessage, type Message } from '../../../packages/core/src/protocol/index.js';
import { until } from '../../../packages/core/test/support/poll.js';

/** The sync stream's frame length prefix, as roamd writes it. */
export const varint = encodeVarint;

/** A sync stream to the daemon, written raw. */
export class RawStream {
  readonly received: Message[] = [];
  bytesIn = 0;
  closed = false;
  closeError: string | null = null;
  private buf = Buffer.alloc(0);
  private listeners = new Set<(m: Message) => void>();

  constructor(readonly stream: Stream) {
    stream.addEventListener('message', (evt) => {
      const data = evt.data;
      const chunks = data instanceof Uint8Array ? [data] : [...data];
      for (const c of chunks) {
        this.bytesIn += c.length;
        this.buf = this.buf.length ? Buffer.concat([this.buf, c]) : Buffer.from(c);
      }
      this.parse();
    });
    stream.addEventListener('close', (evt) => {
      this.closed = true;
      if (evt.error) this.closeError = String(evt.error);
    });
  }

  private parse(): void {
    for (;;) {
      let len = 0;
      let scale = 1;
      let i = 0;
      let done = false;
      for (; i < this.buf.length && i < 4; i++) {
        const b = this.buf[i]!;
        len += (b & 0x7f) * scale;
        scale *= 0x80;
        if ((b & 0x80) === 0) {
          done = true;
          i++;
          break;
        }
      }
      if (!done || this.buf.length < i + len) return;
      const frame = this.buf.subarray(i, i + len);
      this.buf = this.buf.subarray(i + len);
      try {
        const m = decodeMessage(new Uint8Array(frame));
        this.received.push(m);
        if (this.received.length > 10_000) this.received.splice(0, 5_000);
        for (const l of this.listeners) l(m);
      } catch {
        // the daemon only sends valid frames; ignore
      }
    }
  }

  onMessage(fn: (m: Message) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Writes bytes as they are; resolves once the stream took them (false: it is closed). */
  async sendRaw(bytes: Uint8Array): Promise<boolean> {
    if (this.closed || this.stream.writeStatus !== 'writable') return false;
    try {
      if (!this.stream.send(bytes)) await this.drain();
      return !this.closed;
    } catch {
      return false;
    }
  }

  /** One frame: varint length, then the bytes. */
  sendFrame(frame: Uint8Array): Promise<boolean> {
    const out = new Uint8Array(frame.length + 5);
    const pre = varint(frame.length);
    out.set(pre, 0);
    out.set(frame, pre.length);
    return this.sendRaw(out.subarray(0, pre.length + frame.length));
  }

  send(msg: Message): Promise<boolean> {
    return this.sendFrame(encodeMessage(msg));
  }

  private drain(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.stream.removeEventListener('drain', done);
        this.stream.removeEventListener('close', done);
        resolve();
      };
      this.stream.addEventListener('drain', done);
      this.stream.addEventListener('close', done);
    });
  }

  /** Waits until the daemon closed the stream (true), or `timeoutMs` passed (false). */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    try {
      await until(() => this.closed || this.stream.status !== 'open', { timeoutMs, everyMs: 5 });
      return true;
    } catch {
      return false;
    }
  }

  async waitFor(pred: (m: Message) => boolean, timeoutMs: number, what: string): Promise<Message> {
    let found: Message | undefined;
    await until(() => (found = this.received.find(pred)) !== undefined || this.closed, { timeoutMs, everyMs: 5, what });
    if (!found) throw new Error(`stream closed (${this.closeError}) before ${what}`);
    return found;
  }

  abort(): void {
    try {
      this.stream.abort(new Error('hostile peer done'));
    } catch {
      // gone
    }
  }

  async closeWrite(): Promise<void> {
    try {
      await this.stream.close({ signal: AbortSignal.timeout(5_000) });
    } catch {
      // gone
    }
  }
}

export class HostilePeer {
  readonly deviceId: string;
  readonly indexId = 'deadbeef00000000';
  private conn: Connection | null = null;

  private constructor(
    readonly node: Libp2p,
    readonly key: PrivateKey,
  ) {
    this.deviceId = deviceIdOf(peerIdFromPrivateKey(key).toString());
  }

  /** A peer holding `groupKeyHex`, with a device id below `below` (a device id). */
  static async create(groupKeyHex: string, below: string): Promise<HostilePeer> {
    let key = await generateKeyPair('Ed25519');
    while (deviceIdOf(peerIdFromPrivateKey(key).toString()) >= below) key = await generateKeyPair('Ed25519');
    const node = await createLibp2p({
      privateKey: key,
      addresses: { listen: [] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux({ maxInboundStreams: 64, maxOutboundStreams: 4096 })],
      connectionProtector: preSharedKey({ psk: swarmKey(Buffer.from(groupKeyHex, 'hex')) }),
      services: {},
    });
    return new HostilePeer(node, key);
  }

  async dial(addr: string): Promise<void> {
    this.conn = await this.node.dial(multiaddr(addr), { signal: AbortSignal.timeout(15_000) });
  }

  async open(): Promise<RawStream> {
    if (!this.conn || this.conn.status !== 'open') throw new Error('hostile peer: not connected');
    const s = await this.conn.newStream(PROTOCOL_ID, { signal: AbortSignal.timeout(15_000) });
    return new RawStream(s);
  }

  get connected(): boolean {
    return this.conn?.status === 'open';
  }

  hello(): Message {
    return { t: 'hello', protocol: 2, minProtocol: 2, device: this.deviceId, name: 'mallory', software: 'hostile/1' };
  }

  folders(seq = 0): Message {
    return { t: 'folders', folders: [{ id: 'torture', indexId: this.indexId, seq, only: null, ignore: [], seenIndexId: '', seenSeq: 0 }] };
  }

  /** hello and folders, then waits for the daemon's hello. */
  async handshake(s: RawStream, seq = 0): Promise<boolean> {
    if (!(await s.send(this.hello()))) return false;
    if (!(await s.send(this.folders(seq)))) return false;
    try {
      await s.waitFor((m) => m.t === 'folders', 10_000, "the daemon's folders");
      return true;
    } catch {
      return false;
    }
  }

  async stop(): Promise<void> {
    await this.node.stop();
  }
}
