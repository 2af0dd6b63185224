/**
 * Where roam keeps its files. `ROAM_HOME` holds everything (identity, config, state, socket);
 * without it, XDG: config in `$XDG_CONFIG_HOME/roam` (~/.config/roam), state in
 * `$XDG_STATE_HOME/roam` (~/.local/state/roam).
 */
import { createHash } from 'node:crypto';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

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

/**
 * `<config>/roamd.sock`, or, when that path would pass the socket length limit, a name in the
 * runtime directory derived from the config directory (so each ROAM_HOME keeps its own socket).
 */
export function socketPath(config: string, env: NodeJS.ProcessEnv = process.env): string {
  const direct = join(config, 'roamd.sock');
  if (Buffer.byteLength(direct) <= MAX_SOCKET_PATH) return direct;
  const id = createHash('sha256').update(config).digest('hex').slice(0, 16);
  return join(env.XDG_RUNTIME_DIR || tmpdir(), `roam-${id}.sock`);
}
