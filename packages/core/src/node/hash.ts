/** SHA-256 from node:crypto: same bytes as `nobleHasher`, several times faster. */
import { createHash } from 'node:crypto';
import type { Hasher, Sha256State } from '../log/hash.js';

export const nodeHasher: Hasher = {
  createSha256() {
    const h = createHash('sha256');
    const state: Sha256State = {
      update(data) {
        h.update(data);
        return state;
      },
      // A plain Uint8Array (not a Buffer), so results compare equal to nobleHasher's.
      digest: () => new Uint8Array(h.digest()),
    };
    return state;
  },
};
