/** The pairing exchange's keys and proofs, derived from the code's one-time secret (see exchange.ts). */
import { createHmac, hkdfSync } from 'node:crypto';

export interface PairKeys {
  /** Keys the pairing nodes' private network. */
  readonly psk: Uint8Array;
  /** Keys the proofs. */
  readonly proof: Uint8Array;
  /** Keys the group relay's one-time pairing listener (relay-pairing.ts): all a relay is given. */
  readonly relay: Uint8Array;
}

export function pairKeys(secret: Uint8Array): PairKeys {
  const derive = (info: string) => new Uint8Array(hkdfSync('sha256', secret, new Uint8Array(0), info, 32));
  return { psk: derive('roam pair psk v1'), proof: derive('roam pair proof v1'), relay: derive('roam pair relay psk v1') };
}

function lp(s: string): Uint8Array {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

export function pairProof(key: Uint8Array, role: 'inviter' | 'joiner', inviter: string, joiner: string, nonceInviter: Uint8Array, nonceJoiner: Uint8Array): Buffer {
  return createHmac('sha256', key).update('roam-pair-v1').update(lp(role)).update(lp(inviter)).update(lp(joiner)).update(nonceInviter).update(nonceJoiner).digest();
}
