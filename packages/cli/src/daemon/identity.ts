/**
 * The device's Ed25519 identity (its libp2p peer id), created on first start and kept in a file
 * only its owner can read (0600).
 */
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { RoamError } from '@roam/core';

export async function loadIdentity(file: string): Promise<PrivateKey> {
  try {
    const bytes = await readFile(file);
    const st = await stat(file);
    if ((st.mode & 0o077) !== 0) await chmod(file, 0o600);
    return privateKeyFromProtobuf(bytes);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new RoamError('ROAM_STORE_CORRUPT', `cannot read the identity in ${file}: ${(err as Error).message}`, undefined, { cause: err });
    }
  }
  const key = await generateKeyPair('Ed25519');
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, privateKeyToProtobuf(key), { mode: 0o600, flag: 'wx' });
  return key;
}
