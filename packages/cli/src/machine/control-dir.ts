/**
 * The control socket's directory, made and verified by roamd before it listens: owned by this
 * user, not a symlink, entered by nobody else (0700). Node cannot ask who connects to a unix socket
 * (no SO_PEERCRED), so this directory is the guard: another user can neither reach the socket nor
 * put one in its place.
 */
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { RoamError } from '@roam/core/errors';
import { CONTROL_DIR_RECORD, recordedControlDir, socketPath } from './paths.js';

const myUid = (): number | null => (typeof process.getuid === 'function' ? process.getuid() : null);

/** Throws ROAM_CONTROL_UNSAFE unless `dir` is a real directory of this user's; tightens its mode to 0700 when `tighten`. */
export function verifyPrivateDir(dir: string, tighten: boolean): void {
  const st = lstatSync(dir);
  const uid = myUid();
  if (st.isSymbolicLink() || !st.isDirectory()) throw new RoamError('ROAM_CONTROL_UNSAFE', `control socket directory ${dir} is not a directory (a symlink or a file): refusing it`);
  if (uid !== null && st.uid !== uid) throw new RoamError('ROAM_CONTROL_UNSAFE', `control socket directory ${dir} is owned by uid ${st.uid}, not by this user (uid ${uid}): refusing it`);
  if ((st.mode & 0o077) !== 0) {
    if (!tighten) throw new RoamError('ROAM_CONTROL_UNSAFE', `control socket directory ${dir} is open to other users (mode ${(st.mode & 0o777).toString(8)}): refusing it`);
    chmodSync(dir, 0o700);
  }
}

/** Whether `dir` passes `verifyPrivateDir` (without changing it). */
function isPrivateDir(dir: string): boolean {
  try {
    verifyPrivateDir(dir, false);
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes (or reuses) the control socket's directory for `config` and returns the socket's path.
 * `config` itself is tightened to 0700 (it holds the identity key); a runtime-directory socket gets
 * its own 0700 directory; without a runtime directory, a fresh `mkdtemp` directory (0700, random
 * name) whose path is recorded in `<config>/control-dir`.
 */
export function prepareControlSocket(config: string, env: NodeJS.ProcessEnv = process.env): string {
  mkdirSync(config, { recursive: true, mode: 0o700 });
  verifyPrivateDir(config, true);
  let socket = socketPath(config, env);
  const dir = dirname(socket);
  if (dir === config) {
    if (Buffer.byteLength(socket) <= 100) return socket;
    // Too long and nothing recorded (or the record went stale): a new random directory.
  } else if (env.XDG_RUNTIME_DIR) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    verifyPrivateDir(dir, true);
    return socket;
  } else if (isPrivateDir(dir)) return socket;
  const fresh = mkdtempSync(join(tmpdir(), 'roam-'));
  verifyPrivateDir(fresh, true);
  const record = join(config, CONTROL_DIR_RECORD);
  writeFileSync(`${record}.tmp`, `${fresh}\n`, { mode: 0o600 });
  renameSync(`${record}.tmp`, record);
  socket = join(fresh, 'roamd.sock');
  if (recordedControlDir(config) !== fresh) throw new RoamError('ROAM_INTERNAL', `could not record the control directory in ${record}`);
  return socket;
}
