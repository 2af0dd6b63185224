/**
 * A bundle's gzip inflated under a cap, memory bounded: a first streamed pass only counts the
 * inflated bytes (nothing kept), and stops at the cap; only a bundle within it is inflated whole.
 * A gzip bomb (a few MB that inflate to GBs) is refused with ROAM_BUNDLE_TOO_LARGE within a
 * second, holding one chunk at a time.
 */
import { createGunzip, gunzipSync } from 'node:zlib';
import { ErrorCodes, RoamError } from '@roam/core/errors';

const MiB = 1024 * 1024;
/** A bundle's inflated size (its JSON, files in base64), at most. A real session bundle is a few MB; the largest sessions seen, tens. */
export const MAX_BUNDLE_BYTES = 256 * MiB;
/** One file of a bundle, at most (decoded). */
export const MAX_BUNDLE_FILE_BYTES = 160 * MiB;

export function tooLarge(what: string, cap: number): RoamError {
  return new RoamError(ErrorCodes.BUNDLE_TOO_LARGE, `${what} inflates past ${Math.round(cap / MiB)} MiB, more than a session bundle holds: refused (a gzip bomb?)`, { cap });
}

const notGzip = (err: Error) => new RoamError(ErrorCodes.BUNDLE_INVALID, `not a roam session bundle (not gzip data: ${err.message})`);

/** How many bytes `data` inflates to, counting up to `cap`; ROAM_BUNDLE_TOO_LARGE past it, ROAM_BUNDLE_INVALID when it is not gzip. */
export function inflatedSize(data: Buffer, cap: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const g = createGunzip({ chunkSize: 256 * 1024 });
    let n = 0;
    let done = false;
    g.on('data', (chunk: Buffer) => {
      n += chunk.length;
      if (n > cap && !done) {
        done = true;
        g.destroy();
        reject(tooLarge('the bundle', cap));
      }
    });
    g.on('error', (err) => {
      if (done) return;
      done = true;
      reject(notGzip(err));
    });
    g.on('end', () => {
      if (done) return;
      done = true;
      resolve(n);
    });
    g.end(data);
  });
}

/** `data` inflated, when it stays within `cap` (see `inflatedSize`). */
export async function inflateCapped(data: Buffer, cap: number = MAX_BUNDLE_BYTES): Promise<Buffer> {
  const size = await inflatedSize(data, cap);
  try {
    return gunzipSync(data, { maxOutputLength: Math.max(1, size) });
  } catch (err) {
    throw notGzip(err as Error);
  }
}
