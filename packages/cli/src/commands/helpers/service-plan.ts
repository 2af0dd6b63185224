/** The unit `roam service` installs (systemd user unit or launchd agent), and the flags roamd runs with: read by `roam service` and `roam doctor`. */
import { homedir, platform } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, RoamError } from '@roam/core/errors';

const KEPT_ENV = ['ROAM_HOME', 'CLAUDE_CONFIG_DIR', 'CODEX_HOME', 'GEMINI_CLI_HOME', 'COPILOT_HOME'];
const LABEL = 'dev.roam.roamd';
/**
 * Node flags roamd runs with, as in its bin's shebang (src/roamd.ts says why; a test keeps the two
 * equal): a unit that runs `node roamd.js` bypasses the shebang, so it passes them itself.
 */
export const ROAMD_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];

interface Plan {
  readonly file: string;
  readonly content: string;
  readonly enable: string[][];
  readonly disable: string[][];
}

export function servicePlan(env: NodeJS.ProcessEnv = process.env, os = platform()): Plan {
  const home = env.HOME || homedir();
  const roamd = fileURLToPath(new URL('../../roamd.js', import.meta.url));
  const kept = KEPT_ENV.filter((k) => env[k]).map((k) => [k, env[k]!] as const);
  if (os === 'linux') {
    const file = join(env.XDG_CONFIG_HOME || join(home, '.config'), 'systemd', 'user', 'roamd.service');
    const content = [
      '[Unit]',
      'Description=roam: sync AI coding sessions between your machines',
      'After=network-online.target',
      '',
      '[Service]',
      `ExecStart=${[process.execPath, ...ROAMD_NODE_FLAGS, roamd].join(' ')}`,
      ...kept.map(([k, v]) => `Environment=${k}=${v}`),
      'Restart=on-failure',
      'RestartSec=5',
      '',
      '[Install]',
      'WantedBy=default.target',
      '',
    ].join('\n');
    return {
      file, content,
      enable: [['systemctl', '--user', 'daemon-reload'], ['systemctl', '--user', 'enable', '--now', 'roamd.service']],
      disable: [['systemctl', '--user', 'disable', '--now', 'roamd.service'], ['systemctl', '--user', 'daemon-reload']],
    };
  }
  if (os === 'darwin') {
    const file = join(home, 'Library', 'LaunchAgents', `${LABEL}.plist`);
    const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
    const content = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key><string>${LABEL}</string>
  <key>ProgramArguments</key><array>${[process.execPath, ...ROAMD_NODE_FLAGS, roamd].map((a) => `<string>${esc(a)}</string>`).join('')}</array>
  <key>EnvironmentVariables</key><dict>${kept.map(([k, v]) => `<key>${k}</key><string>${esc(v)}</string>`).join('')}</dict>
  <key>RunAtLoad</key><true/>
  <key>KeepAlive</key><true/>
  <key>StandardOutPath</key><string>${esc(join(home, 'Library', 'Logs', 'roamd.log'))}</string>
  <key>StandardErrorPath</key><string>${esc(join(home, 'Library', 'Logs', 'roamd.log'))}</string>
</dict>
</plist>
`;
    return { file, content, enable: [['launchctl', 'load', '-w', file]], disable: [['launchctl', 'unload', '-w', file]] };
  }
  throw new RoamError(ErrorCodes.USAGE, `roam service supports Linux (systemd) and macOS (launchd), not ${os}`);
}
