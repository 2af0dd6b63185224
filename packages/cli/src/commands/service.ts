/**
 * `roam service install|uninstall`: run roamd at login, as a systemd user unit on Linux or a
 * launchd agent on macOS. The unit runs this same roamd with this same Node, and keeps ROAM_HOME
 * and the tools' folder variables if they are set.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { homedir, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import type { Io } from '../io.js';

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
  const roamd = fileURLToPath(new URL('../roamd.js', import.meta.url));
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

/**
 * `--dry-run` writes nothing and runs nothing: it prints the unit file it would write (or remove),
 * where, and the commands it would run (a look before enabling; what tests check).
 */
export async function service(action: 'install' | 'uninstall', opts: { dryRun?: boolean; json?: boolean }, io: Io): Promise<void> {
  const plan = servicePlan();
  const commands = (action === 'install' ? plan.enable : plan.disable).map((c) => c.join(' '));
  if (opts.dryRun) {
    const exists = existsSync(plan.file);
    if (opts.json) io.out(JSON.stringify({ action, dryRun: true, file: plan.file, exists, ...(action === 'install' ? { content: plan.content } : {}), commands, ran: false }));
    else if (action === 'install') {
      io.out(`would write ${plan.file}${exists ? ' (replacing the one there)' : ''}:`);
      io.out(plan.content.trimEnd());
      io.out(`would run: ${commands.join('; ')}`);
    } else io.out(exists ? `would run: ${commands.join('; ')}; then remove ${plan.file}` : `nothing to remove: ${plan.file} does not exist`);
    return;
  }
  const run = (cmds: string[][]) => {
    for (const [cmd, ...args] of cmds) {
      try {
        execFileSync(cmd!, args, { stdio: 'pipe' });
      } catch (err) {
        throw new RoamError(ErrorCodes.INTERNAL, `${[cmd, ...args].join(' ')} failed: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`);
      }
    }
  };
  if (action === 'install') {
    await mkdir(dirname(plan.file), { recursive: true });
    await writeFile(plan.file, plan.content);
    run(plan.enable);
  } else {
    if (existsSync(plan.file)) run(plan.disable);
    await rm(plan.file, { force: true });
  }
  if (opts.json) io.out(JSON.stringify({ action, dryRun: false, file: plan.file, commands, ran: true }));
  else io.out(`${action === 'install' ? 'installed' : 'removed'} ${plan.file}`);
}
