/**
 * Hashing port. The pure core never imports node:crypto; it receives a `Hasher`.
 * `nobleHasher` (pure JS) is the default; the node adapters pass a node:crypto one,
 * which is several times faster. Both compute plain SHA-256, so they agree byte for byte.
 */
import { sha256 } from '@noble/hashes/sha2.js';

export interface Sha256State {
  update(data: Uint8Array): Sha256State;
  digest(): Uint8Array;
}

export interface Hasher {
  createSha256(): Sha256State;
}

export const HASH_BYTES = 32;

export const nobleHasher: Hasher = {
  createSha256() {
    const h = sha256.create();
    const state: Sha256State = {
      update(data) {
        h.update(data);
        return state;
      },
      digest: () => h.digest(),
    };
    return state;
  },
};

export function sha256Of(hasher: Hasher, parts: readonly Uint8Array[]): Uint8Array {
  const s = hasher.createSha256();
  for (const p of parts) s.update(p);
  return s.digest();
}
