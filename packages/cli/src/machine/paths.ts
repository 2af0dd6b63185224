/**
 * Where roam keeps its files. `ROAM_HOME` holds everything (identity, config, state, socket);
 * without it, XDG: config in `$XDG_CONFIG_HOME/roam` (~/.config/roam), state in
 * `$XDG_STATE_HOME/roam` (~/.local/state/roam).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

export interface RoamPaths {
  /** Identity, group keys, config.json. */
  readonly config: string;
  /** Store journals, trash, the daemon's log. */
  readonly state: string;
  readonly identity: string;
  readonly configFile: string;
  readonly log: string;
  /** The control socket (see `socketPath`). */
  readonly socket: string;
}

/** Unix socket paths are limited to 108 bytes on Linux and 104 on macOS. */
const MAX_SOCKET_PATH = 100;

export function roamPaths(env: NodeJS.ProcessEnv = process.env): RoamPaths {
  const home = env.HOME || homedir();
  const config = env.ROAM_HOME || join(env.XDG_CONFIG_HOME || join(home, '.config'), 'roam');
  const state = env.ROAM_HOME ? join(env.ROAM_HOME, 'state') : join(env.XDG_STATE_HOME || join(home, '.local', 'state'), 'roam');
  return {
    config,
    state,
    identity: join(config, 'identity.key'),
    configFile: join(config, 'config.json'),
    log: join(state, 'roamd.log'),
    socket: socketPath(config, env),
  };
}

/** Where the random control directory's path is recorded (see `socketPath`). */
export const CONTROL_DIR_RECORD = 'control-dir';

/**
 * `<config>/roamd.sock` (config is the user's private directory). When that path would pass the
 * socket length limit: `$XDG_RUNTIME_DIR/roam-<hash>/roamd.sock` (a per-user runtime directory), or
 * without one a directory with a random name under the temp dir, made by roamd and recorded in
 * `<config>/control-dir` (never a predictable name in a shared directory: another user could take it
 * first). Before roamd made that directory, the path returned does not exist (nothing answers).
 * roamd creates and verifies the directory (machine/control-dir.ts); the client checks who owns it.
 */
export function socketPath(config: string, env: NodeJS.ProcessEnv = process.env): string {
  const direct = join(config, 'roamd.sock');
  if (Buffer.byteLength(direct) <= MAX_SOCKET_PATH) return direct;
  if (env.XDG_RUNTIME_DIR) {
    const id = createHash('sha256').update(config).digest('hex').slice(0, 16);
    return join(env.XDG_RUNTIME_DIR, `roam-${id}`, 'roamd.sock');
  }
  const recorded = recordedControlDir(config);
  return recorded ? join(recorded, 'roamd.sock') : direct;
}

/** The random control directory recorded in `<config>/control-dir`, if any (an absolute path). */
export function recordedControlDir(config: string): string | null {
  try {
    const dir = readFileSync(join(config, CONTROL_DIR_RECORD), 'utf8').trim();
    return isAbsolute(dir) ? dir : null;
  } catch {
    return null;
  }
}
