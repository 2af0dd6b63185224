/** Small helpers of the file store: its temp names, valid item names, and errors of missing paths. */
import { randomBytes } from 'node:crypto';
import { ErrorCodes, RoamError } from '../errors.js';
import { validateName } from '../names.js';
import { errnoCode } from './io.js';

/** Prefix of the store's hidden temp files; scans skip them and `open` deletes them. */
export const TEMP_PREFIX = '.roam-tmp-';

export function conflict(name: string, why: string): RoamError {
  return new RoamError(ErrorCodes.STORE_CONFLICT, `${name}: ${why}`, { name });
}

export function isValidName(name: string): boolean {
  try {
    validateName(name);
    return true;
  } catch {
    return false;
  }
}

export function nullIfMissing(e: unknown): null {
  if (errnoCode(e) === 'ENOENT') return null;
  throw e;
}

/** `.roam-tmp-<random>-<basename>`, kept within the 255-byte file name limit. */
export function tempName(base: string): string {
  let b = base;
  while (Buffer.byteLength(b) > 200) b = b.slice(0, -1);
  return `${TEMP_PREFIX}${randomBytes(6).toString('hex')}-${b}`;
}

export function emptyIfMissing(e: unknown): never[] {
  if (errnoCode(e) === 'ENOENT') return [];
  throw e;
}
