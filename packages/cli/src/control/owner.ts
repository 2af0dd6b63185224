/**
 * The client's check before it connects: the control socket and its directory must be this user's
 * (a socket someone else planted would receive pairing codes and answer for roamd).
 */
import { lstat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RoamError } from '@roam/core/errors';

const notRunning = (socket: string) =>
  new RoamError('ROAM_NOT_RUNNING', `roamd is not running (no answer on ${socket}); start it with \`roamd\` or \`roam service install\``);

/** Resolves when `socket` is a socket of this user's in a directory only this user can enter; ROAM_NOT_RUNNING when there is none, ROAM_CONTROL_UNSAFE otherwise. */
export async function ownedSocket(socket: string): Promise<void> {
  const uid = typeof process.getuid === 'function' ? process.getuid() : null;
  const sock = await lstat(socket).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR' || err.code === 'ENAMETOOLONG') throw notRunning(socket);
    throw new RoamError('ROAM_CONTROL_UNSAFE', `control socket ${socket}: ${err.message}`);
  });
  if (uid === null) return;
  const dir = dirname(socket);
  const d = await lstat(dir);
  if (d.isSymbolicLink() || !d.isDirectory()) throw new RoamError('ROAM_CONTROL_UNSAFE', `control socket directory ${dir} is not a directory (a symlink?): refusing to talk to ${socket}`);
  if (d.uid !== uid) throw new RoamError('ROAM_CONTROL_UNSAFE', `control socket directory ${dir} is owned by uid ${d.uid}, not by you (uid ${uid}): refusing to talk to ${socket}`);
  if ((d.mode & 0o077) !== 0) throw new RoamError('ROAM_CONTROL_UNSAFE', `control socket directory ${dir} is open to other users (mode ${(d.mode & 0o777).toString(8)}): refusing to talk to ${socket}`);
  if (!sock.isSocket()) throw new RoamError('ROAM_CONTROL_UNSAFE', `${socket} is not a socket: refusing it`);
  if (sock.uid !== uid) throw new RoamError('ROAM_CONTROL_UNSAFE', `control socket ${socket} is owned by uid ${sock.uid}, not by you (uid ${uid}): refusing it`);
}
