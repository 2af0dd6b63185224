/**
 * The files of `roam userconfig`: publishing this device's opted-in kinds into roam's staging folder
 * (which roamd syncs to the devices that opted in too), what arrived there and differs from the
 * tool's own files, and applying it. Hooks in a settings file are held back unless asked for.
 */
import { RoamError } from '@roam/core/errors';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { redactString, redactValue, type RedactionCounts } from '../../share/redact.js';
import { toolNamed } from '../../tools/registry.js';
import { CODE_KINDS, entryOf, isCredential, USER_CONFIG_KINDS, userConfigDir } from '../../machine/user-config.js';

export type UserConfigRequest = Readonly<Record<string, readonly string[]>>;

/** One file of a kind: where it goes in the tool's home, and its name in the staging folder. */
interface Pair {
  readonly tool: string;
  readonly kind: string;
  readonly target: string;
  readonly staged: string;
}

export interface Pending {
  readonly tool: string;
  readonly kind: string;
  readonly target: string;
  readonly change: 'new' | 'changed';
  /** Commands, agents, skills, prompts: code that runs. */
  readonly code: boolean;
  /** A settings file whose hooks differ from this device's. */
  readonly hooks: boolean;
}

function files(dir: string, rel = ''): string[] {
  if (!existsSync(join(dir, rel))) return [];
  const out: string[] = [];
  for (const d of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${d.name}` : d.name;
    if (d.isDirectory()) out.push(...files(dir, r));
    else if (d.isFile()) out.push(r);
  }
  return out;
}

function toolHome(tool: string, env: NodeJS.ProcessEnv): string {
  const dir = toolNamed(tool)?.sessionsDir?.(env);
  if (!dir) throw new RoamError('ROAM_USAGE', `${tool} keeps no user configuration roam can carry`);
  return dirname(dir);
}

/** Every file of the opted-in kinds, found here (`from: 'tool'`) or in the staging folder. */
function pairs(req: UserConfigRequest, env: NodeJS.ProcessEnv, from: 'tool' | 'staged'): { pairs: Pair[]; refused: string[] } {
  const stage = userConfigDir(env);
  const out: Pair[] = [];
  const refused: string[] = [];
  for (const [tool, kinds] of Object.entries(req)) {
    for (const kind of kinds) {
      const rel = USER_CONFIG_KINDS[tool]?.[kind];
      if (!rel) continue;
      const target = join(toolHome(tool, env), rel);
      const entry = join(stage, entryOf(tool, kind));
      const isDir = from === 'tool' ? existsSync(target) && statSync(target).isDirectory() : !existsSync(join(entry, basename(rel)));
      if (!isDir) {
        const one = { tool, kind, target, staged: join(entry, basename(rel)) };
        if (existsSync(from === 'tool' ? one.target : one.staged)) out.push(one);
        continue;
      }
      for (const f of files(from === 'tool' ? target : entry)) {
        // A credentials file inside a directory of configuration stays where it is.
        if (isCredential(f)) refused.push(`${join(from === 'tool' ? target : entry, f)}: a credentials file`);
        else out.push({ tool, kind, target: join(target, f), staged: join(entry, f) });
      }
    }
  }
  return { pairs: out, refused };
}

/** The kinds of credentials a file's text holds (share/redact.ts's detectors), none for a clean file. */
function secretsIn(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const counts: RedactionCounts = {};
  try {
    redactValue(JSON.parse(text) as unknown, counts);
  } catch {
    redactString(text, counts);
  }
  return Object.keys(counts);
}

const same = (a: string, b: string): boolean => existsSync(a) && existsSync(b) && readFileSync(a).equals(readFileSync(b));

/** Copies this device's opted-in files into the staging folder (only what changed); drops staged files gone here. */
export function publish(req: UserConfigRequest, env: NodeJS.ProcessEnv): { published: string[]; refused: string[] } {
  const { pairs: mine, refused } = pairs(req, env, 'tool');
  const published: string[] = [];
  for (const p of mine) {
    // Credentials inside a configuration file (an API key in settings, a token in a command) stay here.
    const secrets = secretsIn(p.target);
    if (secrets.length) {
      refused.push(`${p.target}: holds what looks like a credential (${secrets.join(', ')})`);
      continue;
    }
    if (same(p.target, p.staged)) continue;
    mkdirSync(dirname(p.staged), { recursive: true });
    copyFileSync(p.target, `${p.staged}.roam-tmp`);
    renameSync(`${p.staged}.roam-tmp`, p.staged);
    published.push(p.target);
  }
  const keep = new Set(mine.filter((p) => !refused.some((r) => r.startsWith(`${p.target}: `))).map((p) => p.staged));
  for (const p of pairs(req, env, 'staged').pairs) if (!keep.has(p.staged)) rmSync(p.staged, { force: true });
  return { published, refused };
}

function hooksOf(file: string): string {
  try {
    return JSON.stringify((JSON.parse(readFileSync(file, 'utf8')) as { hooks?: unknown }).hooks ?? null);
  } catch {
    return 'null';
  }
}

/** What arrived in the staging folder and differs from the tool's own files here. */
export function pending(req: UserConfigRequest, env: NodeJS.ProcessEnv): Pending[] {
  return pairs(req, env, 'staged').pairs
    .filter((p) => !same(p.staged, p.target))
    .map((p) => ({
      tool: p.tool, kind: p.kind, target: p.target,
      change: existsSync(p.target) ? 'changed' : 'new',
      code: CODE_KINDS.has(p.kind),
      hooks: p.kind === 'settings' && hooksOf(p.staged) !== hooksOf(p.target),
    }));
}

/** Applies what `pending` shows; a settings file keeps this device's hooks unless `hooks`. */
export function apply(req: UserConfigRequest, env: NodeJS.ProcessEnv, opts: { hooks: boolean }): { applied: string[]; heldHooks: string[] } {
  const applied: string[] = [];
  const heldHooks: string[] = [];
  const byTarget = new Map(pairs(req, env, 'staged').pairs.map((p) => [p.target, p]));
  for (const item of pending(req, env)) {
    const p = byTarget.get(item.target)!;
    let data: Buffer | string = readFileSync(p.staged);
    if (item.hooks && !opts.hooks) {
      const staged = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
      const mine = existsSync(p.target) ? (JSON.parse(readFileSync(p.target, 'utf8')) as Record<string, unknown>) : {};
      delete staged.hooks;
      if (mine.hooks !== undefined) staged.hooks = mine.hooks;
      data = `${JSON.stringify(staged, null, 2)}\n`;
      heldHooks.push(p.target);
    }
    mkdirSync(dirname(p.target), { recursive: true });
    writeFileSync(`${p.target}.roam-tmp`, data, { mode: 0o600 });
    renameSync(`${p.target}.roam-tmp`, p.target);
    applied.push(p.target);
  }
  return { applied, heldHooks };
}
