/**
 * The group's private network: a libp2p connection protector that admits only devices holding one
 * of the group's secrets, and says so clearly when they do not.
 *
 * @libp2p/pnet alone has one fixed key per node and no key confirmation (a wrong key shows up as
 * ECONNRESET, "Message length too long" or a timeout). Paired devices need more: after an unpair
 * the group secret rotates, and for a grace period members still accept the previous secret (from
 * current members only: the allow-list decides that) so a laptop that was offline can catch up.
 * So before @libp2p/pnet runs, both sides do a small key-confirmation preamble, in the clear:
 *
 *   both:     "rgk1" ‖ nonce (16 random bytes)
 *   dialer:   n ‖ n × tag_d(key_i), its keys newest first (the current secret, then those still
 *             in their grace), tag_d = HMAC(K_check(key), "roam-gk-v1" ‖ 0x01 ‖ nonce_d ‖ nonce_l)[0..16]
 *   listener: the first of the dialer's keys it accepts too (every pair compared, constant time),
 *             0x01 ‖ i ‖ tag_l = HMAC(K_check(key_i), "roam-gk-v1" ‖ 0x02 ‖ nonce_d ‖ nonce_l)[0..16]
 *             or, when none matches, 0x00 and closes: "not in this group"
 *   dialer:   verifies tag_l (an impostor that does not hold the key cannot make it)
 *
 * Both sides offering every key they still accept means two members that each missed a rotation
 * the other saw still find a secret in common, whichever dials.
 *
 * K_check = HKDF-SHA256(key, info "roam group key check v1"): the tags never reuse the pnet key.
 * Then the private network (pnet.ts: @libp2p/pnet's wire, XSalsa20 keyed with the secret itself, from
 * libsodium) protects the connection as usual, and
 * Noise inside it authenticates the peer ids. The tags reveal nothing usable: group secrets are
 * 256 random bits and pairing secrets 128, both beyond offline guessing, and fresh nonces on both
 * sides mean a recorded preamble cannot be replayed.
 *
 * Pairing uses the same protector with a single key derived from the one-time secret, so a joiner
 * with a wrong code gets a clear "wrong code" instead of a reset.
 */
import './xsalsa-guard.js';
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AbortOptions, ConnectionProtector, MessageStream } from '@libp2p/interface';
import { byteStream } from '@libp2p/utils';
import { PnetProtector } from './pnet.js';

const MAGIC = new TextEncoder().encode('rgk1');
const NONCE_BYTES = 16;
const TAG_BYTES = 16;
const TAG_DOMAIN = new TextEncoder().encode('roam-gk-v1');
const ACCEPT = 0x01;
const REJECT = 0x00;
const MAX_KEYS = 9;
const PREAMBLE_TIMEOUT_MS = 5_000;
/**
 * An inbound connection must send its first bytes (magic and nonce) this soon, and finish the
 * preamble within INBOUND_PREAMBLE_MS: a device that holds a key sends them at once, and idle or
 * trickling sockets of outsiders must not hold a pending slot for long (daemon/net/admission.ts).
 */
export const FIRST_BYTES_MS = 2_000;
export const INBOUND_PREAMBLE_MS = 3_000;
/** Refusals logged per minute at most (a scanner or a retrying outsider must not flood the log). */
const REFUSALS_LOGGED_PER_MINUTE = 20;

/** A failed group handshake: the peer holds another secret, or is not a roam device in a group. */
export class NotInGroupError extends Error {
  readonly code = 'ROAM_NOT_IN_GROUP';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NotInGroupError';
  }
}

/** The swarm-key text format @libp2p/pnet reads. */
export function swarmKey(key: Uint8Array): Uint8Array {
  if (key.length !== 32) throw new Error(`a group key must be 32 bytes, not ${key.length}`);
  return new TextEncoder().encode(`/key/swarm/psk/1.0.0/\n/base16/\n${Buffer.from(key).toString('hex')}`);
}

export interface ProtectorKey {
  readonly key: Uint8Array;
  /** What the log calls it ("the group secret", "the previous group secret"). */
  readonly label: string;
}

interface Prepared extends ProtectorKey {
  readonly check: Buffer;
  readonly pnet: ConnectionProtector;
}

export interface ProtectorHooks {
  log?: (line: string) => void;
  /** What the key is called in messages (default "group secret"; pairing: "pairing code"). */
  secretName?: string;
  /** An inbound connection passed the preamble with this key (before Noise: no peer id yet). */
  onAccepted?: (conn: MessageStream, key: ProtectorKey) => void;
  /** An inbound connection offered no key this device accepts (its remote address). */
  onRefused?: (remote: string) => void;
}

function prepare(k: ProtectorKey): Prepared {
  const check = Buffer.from(hkdfSync('sha256', k.key, new Uint8Array(0), 'roam group key check v1', 32));
  // A pnet protector per key; libp2p passes the upgrade's abort signal to protect().
  const pnet = new PnetProtector(k.key, PREAMBLE_TIMEOUT_MS);
  return { ...k, check, pnet };
}

function tag(check: Buffer, role: number, nonceDialer: Uint8Array, nonceListener: Uint8Array): Buffer {
  return createHmac('sha256', check).update(TAG_DOMAIN).update(Uint8Array.of(role)).update(nonceDialer).update(nonceListener).digest().subarray(0, TAG_BYTES);
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && timingSafeEqual(a, b);

const remote = (conn: MessageStream): string => {
  const addr = (conn as { remoteAddr?: { toString(): string } }).remoteAddr;
  return addr ? addr.toString() : 'a peer';
};

/** Outbound errors are reported by the dialer next to the address it dialed. */
const who = (conn: MessageStream): string => (conn.direction === 'outbound' ? 'the peer' : remote(conn));

/**
 * The connection protector of a paired daemon (and of a pairing node). `setKeys` swaps the keys
 * at once for new connections; open connections keep theirs.
 */
export class GroupProtector implements ConnectionProtector {
  private current: Prepared | null = null;
  private accepted: Prepared[] = [];
  readonly [Symbol.toStringTag] = 'roam/group-protector';

  private readonly secretName: string;
  private refusals = { since: 0, logged: 0, suppressed: 0 };

  constructor(private readonly hooks: ProtectorHooks = {}) {
    this.secretName = hooks.secretName ?? 'group secret';
  }

  /**
   * `current` is the secret this device holds now; `accepted` (current first) every one it still
   * accepts. Dialing offers them all, current first.
   */
  setKeys(current: ProtectorKey | null, accepted: readonly ProtectorKey[]): void {
    const cache = new Map([this.current, ...this.accepted].filter((p): p is Prepared => p !== null).map((p) => [Buffer.from(p.key).toString('hex'), p]));
    const get = (k: ProtectorKey): Prepared => {
      const hit = cache.get(Buffer.from(k.key).toString('hex'));
      return hit && hit.label === k.label ? hit : prepare(k);
    };
    this.current = current ? get(current) : null;
    const rest = accepted.filter((k) => !current || !sameBytes(k.key, current.key)).map(get);
    this.accepted = (this.current ? [this.current, ...rest] : rest).slice(0, MAX_KEYS);
  }

  hasKey(): boolean {
    return this.current !== null;
  }

  private logRefusal(line: string): void {
    const now = Date.now();
    const r = this.refusals;
    if (now - r.since >= 60_000) {
      if (r.suppressed) this.hooks.log?.(`refused ${r.suppressed} more connection(s) in the last minute: not in this group`);
      this.refusals = { since: now, logged: 0, suppressed: 0 };
    }
    if (this.refusals.logged < REFUSALS_LOGGED_PER_MINUTE) {
      this.refusals.logged++;
      this.hooks.log?.(line);
    } else {
      this.refusals.suppressed++;
    }
  }

  async protect(conn: MessageStream, options?: AbortOptions): Promise<MessageStream> {
    const outbound = conn.direction === 'outbound';
    const limitMs = outbound ? PREAMBLE_TIMEOUT_MS : INBOUND_PREAMBLE_MS;
    const timeout = AbortSignal.timeout(limitMs);
    const signal = options?.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const firstBytes = outbound ? signal : AbortSignal.any([signal, AbortSignal.timeout(FIRST_BYTES_MS)]);
    const mine = this.accepted;
    if (outbound && !this.current) throw new NotInGroupError('this device is not in a group yet (pair it with `roam pair`)');
    const bytes = byteStream(conn);
    const nonce = randomBytes(NONCE_BYTES);
    let chosen: Prepared;
    try {
      const [hello] = await Promise.all([bytes.read({ bytes: MAGIC.length + NONCE_BYTES, signal: firstBytes }), bytes.write(Buffer.concat([MAGIC, nonce]), { signal })]);
      const theirs = hello.subarray();
      if (!sameBytes(theirs.subarray(0, MAGIC.length), MAGIC)) {
        throw new NotInGroupError(`${who(conn)} is not in this group: it does not speak roam's group handshake (not a paired roam device)`);
      }
      const theirNonce = theirs.subarray(MAGIC.length);
      if (outbound) {
        await bytes.write(Buffer.concat([Uint8Array.of(mine.length), ...mine.map((k) => tag(k.check, 1, nonce, theirNonce))]), { signal });
        const verdict = (await bytes.read({ bytes: 1, signal })).subarray()[0];
        if (verdict !== ACCEPT) throw new NotInGroupError(`${who(conn)} is not in this group: it holds another ${this.secretName}`);
        const reply = (await bytes.read({ bytes: 1 + TAG_BYTES, signal })).subarray();
        const picked = mine[reply[0]!];
        if (!picked || !sameBytes(reply.subarray(1), tag(picked.check, 2, nonce, theirNonce))) {
          throw new NotInGroupError(`${who(conn)} is not in this group: it could not prove it holds the ${this.secretName}`);
        }
        chosen = picked;
      } else {
        const n = (await bytes.read({ bytes: 1, signal })).subarray()[0]!;
        if (n < 1 || n > MAX_KEYS) throw new NotInGroupError(`refused a connection from ${remote(conn)}: a malformed group handshake`);
        const tags = (await bytes.read({ bytes: n * TAG_BYTES, signal })).subarray();
        // Compare every pair (no early exit), so timing does not tell which one matched; the
        // dialer's order decides (its newest key first).
        let match: { index: number; key: Prepared } | null = null;
        for (let i = 0; i < n; i++) {
          const theirs = tags.subarray(i * TAG_BYTES, (i + 1) * TAG_BYTES);
          for (const k of mine) if (sameBytes(theirs, tag(k.check, 1, theirNonce, nonce)) && !match) match = { index: i, key: k };
        }
        if (!match) {
          await bytes.write(Uint8Array.of(REJECT), { signal }).catch(() => undefined);
          await conn.close({ signal }).catch(() => undefined);
          this.hooks.onRefused?.(remote(conn));
          throw new NotInGroupError(`refused a connection from ${remote(conn)}: not in this group (it does not hold the ${this.secretName})`);
        }
        chosen = match.key;
        await bytes.write(Buffer.concat([Uint8Array.of(ACCEPT, match.index), tag(chosen.check, 2, theirNonce, nonce)]), { signal });
      }
    } catch (err) {
      if (err instanceof NotInGroupError) {
        if (!outbound) this.logRefusal(err.message);
        throw err;
      }
      const what = timeout.aborted
        ? `no answer to the group handshake within ${limitMs / 1000} s`
        : firstBytes.aborted && !signal.aborted
          ? `no group handshake within ${FIRST_BYTES_MS / 1000} s`
          : `the group handshake failed (${(err as Error).message})`;
      throw new NotInGroupError(`${who(conn)}: ${what}: not in this group, or not a roam device`, { cause: err });
    }
    if (!outbound) this.hooks.onAccepted?.(conn, chosen);
    return chosen.pnet.protect(bytes.unwrap(), { signal: options?.signal ?? AbortSignal.timeout(PREAMBLE_TIMEOUT_MS) });
  }
}

/**
 * The group's protector, logging (once a minute at most: a removed device retrying must not flood
 * the log) when a member connects with a replaced secret while it catches up after a rotation.
 */
export function catchUpProtector(log: (line: string) => void, currentLabel: () => string | undefined): GroupProtector {
  let lastLog = 0;
  return new GroupProtector({
    log,
    onAccepted: (_conn, k) => {
      if (k.label === currentLabel()) return;
      const now = Date.now();
      if (now - lastLog < 60_000) return;
      lastLog = now;
      log(`accepted a connection with ${k.label}: a member catching up after a rotation (the allow-list still decides)`);
    },
  });
}
