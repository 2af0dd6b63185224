/**
 * The temporary world of a CLI test file: a fresh directory for every test, roam's and every tool's
 * home inside it, and the environment, the current directory and the directory itself put back or
 * removed after each test, even when it fails.
 */
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { saveProcess, useHome } from './roam.js';

/**
 * Before each test of the file: a new real-path directory `<tmp>/<prefix>XXXXXX` handed to `setup`;
 * after each: the environment and cwd as they were when the file loaded, the directory removed.
 */
export function sandbox(prefix: string, setup: (base: string) => void | Promise<void>): void {
  const restore = saveProcess();
  let base: string | undefined;
  beforeEach(async () => {
    base = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
    await setup(base);
  });
  afterEach(() => {
    restore();
    if (base) rmSync(base, { recursive: true, force: true });
    base = undefined;
  });
}

/**
 * Points HOME (`base/home`), ROAM_HOME (`base/roam`), CLAUDE_CONFIG_DIR (`base/claude`), CODEX_HOME
 * (`base/codex`) and COPILOT_HOME (`base/copilot`) into `base` (Gemini CLI, without GEMINI_CLI_HOME,
 * under HOME), makes the directory `base/<rel…>` and goes there: returns it.
 */
export function isolate(base: string, ...rel: string[]): string {
  const dir = join(base, ...rel);
  mkdirSync(dir, { recursive: true });
  process.env.HOME = join(base, 'home');
  process.env.ROAM_HOME = join(base, 'roam');
  process.env.CLAUDE_CONFIG_DIR = join(base, 'claude');
  process.env.CODEX_HOME = join(base, 'codex');
  process.env.COPILOT_HOME = join(base, 'copilot');
  delete process.env.GEMINI_CLI_HOME;
  process.chdir(dir);
  return dir;
}

/** One "machine" of a test: a HOME of its own, with a project directory in it. */
export interface Machine {
  home: string;
  project: string;
}

/** The machine `base/<name>` with the project `<rel>` under its HOME (made, real path). */
export function machine(base: string, name: string, rel: string): Machine {
  const home = join(base, name);
  const project = join(home, rel);
  mkdirSync(project, { recursive: true });
  return { home, project: realpathSync(project) };
}

/** Makes `m` the machine the next roam commands run on, in `dir` (its project unless told). */
export function on(m: Machine, dir = m.project): void {
  useHome(m.home, dir);
}

/**
 * Writes each `name → body` as an executable shell script into `bin` (made) and puts `bin` first on
 * PATH, before `path` (the PATH of now unless told).
 */
export function onPath(bin: string, scripts: Record<string, string>, path = process.env.PATH): void {
  mkdirSync(bin, { recursive: true });
  for (const [name, body] of Object.entries(scripts)) {
    writeFileSync(join(bin, name), body);
    chmodSync(join(bin, name), 0o755);
  }
  process.env.PATH = `${bin}:${path ?? ''}`;
}

/** A machine with where `K` (a tool) keeps its sessions under its HOME: `~/.K`. */
export type ToolMachine<K extends string> = Machine & Record<K, string>;

/**
 * A sandbox (see above) holding two machines for every test: alpha with the project ~/code/app and
 * beta with ~/work/elsewhere, each with `tool`'s folder `~/.<tool>` named (not made).
 */
export function twoMachines<K extends string>(prefix: string, tool: K, setup: (w: { base: string; a: ToolMachine<K>; b: ToolMachine<K> }) => void): void {
  sandbox(prefix, (base) => {
    const of = (name: string, rel: string) => {
      const m = machine(base, name, rel);
      return { ...m, [tool]: join(m.home, `.${tool}`) } as ToolMachine<K>;
    };
    setup({ base, a: of('alpha', 'code/app'), b: of('beta', 'work/elsewhere') });
  });
}
