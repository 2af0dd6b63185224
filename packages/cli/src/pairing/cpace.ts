/**
 * CPace (draft-irtf-cfrg-cpace-13, "CPace, a balanced composable PAKE"), initiator-responder
 * mode, on ristretto255 with SHA-512: the cipher suite CPACE-RISTR255-SHA512 of the draft's §4
 * and Appendix. The group operations, ristretto255 encoding and the element derivation (RFC 9496
 * §4.3.4, the draft's map for this group) are @noble/curves'; nothing here is a primitive of our own,
 * only the draft's framing (lv_cat, generator_string, ISK), written as the draft writes it.
 *
 *   g    = element_derivation(SHA-512(lv_cat(DSI, PRS, zpad, CI, sid)))
 *   Y_a  = y_a·g     (initiator: the joiner)        Y_b = y_b·g     (responder: the inviter)
 *   K    = y_a·Y_b = y_b·Y_a   (refused when a point does not decode or K is the identity)
 *   ISK  = SHA-512(lv_cat(DSI ‖ "_ISK", sid, K) ‖ lv_cat(Y_a, AD_a) ‖ lv_cat(Y_b, AD_b))
 *
 * Every message is a uniformly random group element (y is fresh per run): a recording of a run
 * holds nothing that depends on the password alone, so it gives an eavesdropper nothing to test a
 * guess against; an active attacker gets one guess per run.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';

const DSI = new TextEncoder().encode('CPaceRistretto255');
const ISK_DSI = new TextEncoder().encode('CPaceRistretto255_ISK');
/** SHA-512's input block size (the draft's s_in_bytes). */
const S_IN_BYTES = 128;
export const POINT_BYTES = 32;

type Point = InstanceType<typeof ristretto255.Point>;

/** LEB128 of a length (the draft's prepend_len). */
function prependLen(data: Uint8Array): Buffer {
  const len: number[] = [];
  let n = data.length;
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    len.push(b);
  } while (n);
  return Buffer.concat([Uint8Array.from(len), data]);
}

export function lvCat(...parts: Uint8Array[]): Buffer {
  return Buffer.concat(parts.map(prependLen));
}

function sha512(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** The draft's generator_string(DSI, PRS, CI, sid, s_in_bytes). */
export function generatorString(prs: Uint8Array, ci: Uint8Array, sid: Uint8Array): Buffer {
  const zpad = Math.max(0, S_IN_BYTES - 1 - prependLen(prs).length - prependLen(DSI).length);
  return lvCat(DSI, prs, new Uint8Array(zpad), ci, sid);
}

export function calculateGenerator(prs: Uint8Array, ci: Uint8Array, sid: Uint8Array): Point {
  return ristretto255_hasher.deriveToCurve!(sha512(generatorString(prs, ci, sid)));
}

/** A uniformly random non-zero scalar (64 random bytes reduced mod the group order), or `fixed` (little-endian: the draft's test vectors). */
function sampleScalar(fixed?: Uint8Array): bigint {
  const n = ristretto255.Point.Fn;
  for (;;) {
    const s = n.create(BigInt(`0x${Buffer.from(fixed ?? randomBytes(64)).reverse().toString('hex')}`));
    if (s !== 0n) return s;
    if (fixed) throw new CPaceError('a zero scalar');
  }
}

export class CPaceError extends Error {
  readonly code = 'ROAM_PAIR_PROOF';
}

/** One side of a CPace run: makes its message, then takes the other's and yields the ISK. */
export class CPaceParty {
  private readonly y: bigint;
  /** This side's message Y (32 bytes). */
  readonly message: Uint8Array;

  constructor(
    private readonly role: 'initiator' | 'responder',
    prs: Uint8Array,
    ci: Uint8Array,
    private readonly sid: Uint8Array,
    private readonly ad: Uint8Array,
    /** Known-answer tests only: the scalar, little-endian. */
    scalar?: Uint8Array,
  ) {
    this.y = sampleScalar(scalar);
    this.message = calculateGenerator(prs, ci, sid).multiply(this.y).toBytes();
  }

  /** The intermediate session key from the other side's message and associated data. */
  finish(theirs: Uint8Array, theirAd: Uint8Array): Buffer {
    let point: Point;
    try {
      point = ristretto255.Point.fromBytes(theirs);
    } catch {
      throw new CPaceError('the other side sent a malformed PAKE message');
    }
    const k = point.multiply(this.y);
    if (k.is0()) throw new CPaceError('the other side sent an invalid PAKE message (the identity)');
    const [ya, ada, yb, adb] = this.role === 'initiator' ? [this.message, this.ad, theirs, theirAd] : [theirs, theirAd, this.message, this.ad];
    return sha512(lvCat(ISK_DSI, this.sid, k.toBytes()), lvCat(ya, ada), lvCat(yb, adb));
  }
}
