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
