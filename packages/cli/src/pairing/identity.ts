/**
 * A new device identity, for a device whose old one is removed from its group for good (`roam
 * leave`): written whole (temp file 0600, fsync, rename) over the old one, which is gone after.
 */
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';

export async function renewIdentity(file: string): Promise<PrivateKey> {
  const key = await generateKeyPair('Ed25519');
  const tmp = `${file}.new`;
  await rm(tmp, { force: true });
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(privateKeyToProtobuf(key));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  const dir = await open(dirname(file), 'r');
  await dir.sync().finally(() => dir.close());
  return key;
}
