/**
 * `roam userconfig [enable <tool> <kind…> | disable <tool> [<kind…>] | publish | apply [--hooks]] [--json]`:
 * the tools' user-level configuration, opt-in per device and per kind (machine/user-config.ts).
 * Without a subcommand it shows what arrived from the other devices and is not applied here yet
 * (code that runs and hooks marked); `apply` is the user's acknowledgement. Credentials are refused.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ErrorCodes, RoamError, isRoamError } from '@roam/core/errors';
import type { Io } from '../io.js';
import { call } from '../control/client.js';
import { readConfigFile, writeConfigFile } from '../machine/config.js';
import { roamPaths } from '../machine/paths.js';
import { checkUserConfig, USER_CONFIG_KINDS } from '../machine/user-config.js';
import { apply, pending, publish } from './helpers/user-config-files.js';

export interface UserConfigFlags {
  readonly json?: boolean;
  readonly hooks?: boolean;
}

async function reloadDaemon(socket: string): Promise<void> {
  try {
    await call(socket, 'reload');
  } catch (err) {
    if (!isRoamError(err) || err.code !== ErrorCodes.NOT_RUNNING) throw err;
  }
}

export async function userconfig(action: string | undefined, args: readonly string[], opts: UserConfigFlags, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const paths = roamPaths(env);
  const cfg = readConfigFile(paths.configFile);
  const req = cfg.userConfig ?? {};
  const print = (value: unknown, text: string[]) => (opts.json ? io.out(JSON.stringify(value, null, 2)) : text.forEach((l) => io.out(l)));
  switch (action ?? 'status') {
    case 'enable':
    case 'disable': {
      const [tool, ...kinds] = args;
      if (!tool) throw new RoamError(ErrorCodes.USAGE, `roam userconfig ${action} <tool> <kind…> (tools: ${Object.keys(USER_CONFIG_KINDS).join(', ')})`);
      if (action === 'enable' && !kinds.length) throw new RoamError(ErrorCodes.USAGE, `name the kinds to sync: ${Object.keys(USER_CONFIG_KINDS[tool] ?? {}).join(', ') || `(no configuration of ${tool} is known)`}`);
      const now = new Set(req[tool] ?? []);
      for (const k of kinds) action === 'enable' ? now.add(k) : now.delete(k);
      const next = { ...req, [tool]: action === 'disable' && !kinds.length ? [] : [...now] };
      if (!next[tool]!.length) delete next[tool];
      checkUserConfig(next);
      mkdirSync(dirname(paths.configFile), { recursive: true, mode: 0o700 });
      writeConfigFile(paths.configFile, { ...cfg, userConfig: next });
      await reloadDaemon(paths.socket);
      print({ userConfig: next }, [Object.keys(next).length ? `this device syncs: ${Object.entries(next).map(([t, k]) => `${t} (${k.join(', ')})`).join('; ')}` : 'this device syncs no user configuration']);
      return;
    }
    case 'publish': {
      const r = publish(req, env);
      print(r, [`published ${r.published.length} file(s) to the devices that opted in`, ...r.refused.map((f) => `not published, credentials never travel: ${f}`)]);
      return;
    }
    case 'apply': {
      const r = apply(req, env, { hooks: opts.hooks === true });
      print(r, [`applied ${r.applied.length} file(s)`, ...r.applied.map((f) => `  ${f}`), ...r.heldHooks.map((f) => `hooks not applied in ${f} (this device's kept): review \`roam userconfig\`, then \`roam userconfig apply --hooks\``)]);
      return;
    }
    case 'status': {
      const p = pending(req, env);
      print({ userConfig: req, pending: p }, [
        Object.keys(req).length ? `this device syncs: ${Object.entries(req).map(([t, k]) => `${t} (${k.join(', ')})`).join('; ')}` : 'this device syncs no user configuration (roam userconfig enable <tool> <kind…>)',
        ...(p.length ? ['arrived, not applied yet (roam userconfig apply):'] : []),
        ...p.map((x) => `  ${x.change} ${x.target}${x.code ? '  [code that runs]' : ''}${x.hooks ? '  [hooks: applied only with --hooks]' : ''}`),
      ]);
      return;
    }
    default:
      throw new RoamError(ErrorCodes.USAGE, `roam userconfig: unknown action ${action} (enable, disable, publish, apply)`);
  }
}
