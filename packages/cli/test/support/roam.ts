/**
 * `roam` run in-process through the command table (run() of main.ts), its output captured: for
 * tests that drive the CLI as a user types it, on whatever HOME / cwd the test has set.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { run, type Io } from '../../src/main.js';

export async function roam(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (l) => out.push(l), err: (l) => err.push(l) };
  const code = await run('roam', args, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** Every file under `dir`, relative, sorted ([] if it does not exist). */
export function tree(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const n of readdirSync(dir, { withFileTypes: true })) {
    if (n.isDirectory()) out.push(...tree(join(dir, n.name), `${prefix}${n.name}/`));
    else out.push(`${prefix}${n.name}`);
  }
  return out.sort();
}

/** The tools' own overrides of where they keep sessions: unset, each tool uses its place under HOME. */
const TOOL_HOMES = ['CLAUDE_CONFIG_DIR', 'CODEX_HOME', 'GEMINI_CLI_HOME', 'COPILOT_HOME'];

/** Makes `home` the machine the next roam commands run on (every tool at its default place under it), in `dir`. */
export function useHome(home: string, dir: string): void {
  process.env.HOME = home;
  process.env.ROAM_HOME = join(home, '.roam');
  for (const k of TOOL_HOMES) delete process.env[k];
  process.chdir(dir);
}

/** Remembers the environment and cwd now; the function returned puts them back. */
export function saveProcess(): () => void {
  const env = { ...process.env };
  const cwd = process.cwd();
  return () => {
    process.chdir(cwd);
    for (const k of Object.keys(process.env)) if (!(k in env)) delete process.env[k];
    Object.assign(process.env, env);
  };
}
