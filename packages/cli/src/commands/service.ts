/**
 * `roam service install|uninstall`: run roamd at login, as a systemd user unit on Linux or a
 * launchd agent on macOS. The unit runs this same roamd with this same Node, and keeps ROAM_HOME
 * and the tools' folder variables if they are set.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import type { Io } from '../io.js';

import { servicePlan } from './helpers/service-plan.js';

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
