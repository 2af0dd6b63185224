/**
 * The private network's stream cipher, byte for byte @libp2p/pnet's wire, with libsodium's native
 * XSalsa20 instead of the `xsalsa20` package's WebAssembly.
 *
 * The wire (@libp2p/pnet 3, which peers run): each side sends 24 random bytes (its nonce), then
 * every byte either way is XORed with the XSalsa20 keystream of (the sender's nonce, the 32-byte
 * key), as one continuous stream from the first byte. Nothing else: no framing, no MAC (Noise,
 * inside it, authenticates). Devices that still run @libp2p/pnet connect to this one unchanged
 * (packages/cli/test/pnet.test.ts connects the two).
 *
 * Why: XSalsa20 was the largest single cost of the raw transport (bench/ANALYSIS.md, "The
 * transport's own ceiling"): the WebAssembly cipher costs ~2.2-2.5 ms of CPU per MiB, libsodium's
 * ~0.4 (bench/dist/tools/cipher-cost.js), and every byte of a sync is ciphered once on each side.
 * Node has no XSalsa20 of its own (OpenSSL has none), and a native cipher Node does have (ChaCha20)
 * would change the wire: a protocol version, not worth it while roam's own apply is the bottleneck.
 * Where sodium-native has no prebuilt binary, the WebAssembly cipher (with roam's guard) is used.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { AbortOptions, ConnectionProtector, MessageStream, MultiaddrConnection } from '@libp2p/interface';
import { AbstractMultiaddrConnection, byteStream, type SendResult } from '@libp2p/utils';
import { xsalsaGuarded } from './xsalsa-guard.js';

/** What the muxer hands down (a Uint8ArrayList, typed from the base class: no direct dependency). */
type Outgoing = Parameters<AbstractMultiaddrConnection['sendData']>[0];

const NONCE_BYTES = 24;
const KEY_BYTES = 32;

/** One direction's keystream: `update` returns (or writes into `output`) the input XORed with the next bytes of it. */
export interface StreamCipher {
  update(input: Uint8Array, output?: Uint8Array): Uint8Array;
}

interface Sodium {
  crypto_stream_xor_STATEBYTES: number;
  crypto_stream_PRIMITIVE: string;
  crypto_stream_xor_init(state: Buffer, nonce: Uint8Array, key: Uint8Array): void;
  crypto_stream_xor_update(state: Buffer, output: Uint8Array, input: Uint8Array): void;
}
type WasmXSalsa = (nonce: Uint8Array, key: Uint8Array) => StreamCipher;

const require = createRequire(import.meta.url);

function loadSodium(): Sodium | null {
  if (process.env.ROAM_PNET_CIPHER === 'wasm') return null;
  try {
    const s = require('sodium-native') as Sodium;
    return s.crypto_stream_PRIMITIVE === 'xsalsa20' ? s : null;
  } catch {
    return null; // no prebuilt binary for this platform
  }
}
const sodium = loadSodium();

/** Which implementation ciphers this process's private-network connections. */
export const pnetCipher: 'sodium' | 'wasm' = sodium ? 'sodium' : 'wasm';

/** The XSalsa20 keystream of (nonce, key), continuing across updates of any length. */
export function xsalsa20Stream(nonce: Uint8Array, key: Uint8Array, impl: 'sodium' | 'wasm' = pnetCipher): StreamCipher {
  if (nonce.length !== NONCE_BYTES || key.length !== KEY_BYTES) throw new Error('xsalsa20 needs a 24-byte nonce and a 32-byte key');
  if (impl === 'sodium' && sodium) {
    const s = sodium;
    const state = Buffer.alloc(s.crypto_stream_xor_STATEBYTES);
    s.crypto_stream_xor_init(state, nonce, key);
    return {
      update(input, output) {
        const out = output ?? Buffer.allocUnsafe(input.length);
        if (input.length > 0) s.crypto_stream_xor_update(state, out, input);
        return out;
      },
    };
  }
  if (!xsalsaGuarded) throw new Error('the xsalsa20 guard is not installed');
  const fromPnet = createRequire(import.meta.resolve('@libp2p/pnet'));
  return (fromPnet('xsalsa20') as WasmXSalsa)(nonce, key);
}

/** A connection behind the private network: what @libp2p/pnet's BoxMessageStream does, with our cipher. */
class PnetConnection extends AbstractMultiaddrConnection {
  private readonly inbound: StreamCipher;
  private readonly outbound: StreamCipher;

  constructor(private readonly maConn: MessageStream, localNonce: Uint8Array, remoteNonce: Uint8Array, key: Uint8Array) {
    // The protector runs on the raw connection (a MultiaddrConnection; the interface types it as its base).
    super({ remoteAddr: (maConn as MultiaddrConnection).remoteAddr, direction: maConn.direction, log: maConn.log.newScope('pnet') });
    this.inbound = xsalsa20Stream(remoteNonce, key);
    this.outbound = xsalsa20Stream(localNonce, key);
    maConn.addEventListener('message', (evt) => {
      const data = evt.data;
      if (data instanceof Uint8Array) this.onData(this.inbound.update(data));
      else for (const buf of data) this.onData(this.inbound.update(buf));
    });
    maConn.addEventListener('drain', () => this.onMuxerDrain());
    maConn.addEventListener('close', (evt) => {
      if (evt.error != null) {
        if (evt.local) this.abort(evt.error);
        else this.onRemoteReset();
      } else this.onTransportClosed();
    });
  }

  async sendClose(options?: AbortOptions): Promise<void> {
    await this.maConn.close(options);
  }

  /** Noise hands down a record as a list (length prefix, ciphertext): each part is ciphered into one buffer, not joined first. */
  sendData(data: Outgoing): SendResult {
    const out = Buffer.allocUnsafe(data.byteLength);
    let at = 0;
    for (const part of data) {
      this.outbound.update(part, out.subarray(at, at + part.byteLength));
      at += part.byteLength;
    }
    return { sentBytes: data.byteLength, canSendMore: this.maConn.send(out) };
  }

  sendReset(err: Error): void {
    this.maConn.abort(err);
  }

  sendPause(): void {
    this.maConn.pause();
  }

  sendResume(): void {
    this.maConn.resume();
  }
}

/** @libp2p/pnet's protector (same nonce exchange, same cipher, same wire) for one 32-byte key. */
export class PnetProtector implements ConnectionProtector {
  readonly [Symbol.toStringTag] = 'roam/pnet';
  private readonly key: Uint8Array;

  constructor(key: Uint8Array, private readonly timeoutMs = 1_000) {
    if (key.length !== KEY_BYTES) throw new Error(`a private-network key must be ${KEY_BYTES} bytes, not ${key.length}`);
    this.key = Uint8Array.from(key);
  }

  async protect(conn: MessageStream, options?: AbortOptions): Promise<MessageStream> {
    const signal = options?.signal ?? AbortSignal.timeout(this.timeoutMs);
    const localNonce = randomBytes(NONCE_BYTES);
    const bytes = byteStream(conn);
    const [theirs] = await Promise.all([bytes.read({ bytes: NONCE_BYTES, signal }), bytes.write(localNonce, { signal })]);
    return new PnetConnection(bytes.unwrap(), localNonce, theirs.subarray(), this.key);
  }
}

/** A libp2p `connectionProtector` factory, as @libp2p/pnet's `preSharedKey` (the key raw, not a swarm-key text). */
export function pnet(key: Uint8Array, timeoutMs?: number): () => ConnectionProtector {
  return () => new PnetProtector(key, timeoutMs);
}
