/**
 * Running a tool (claude, codex, …) in the foreground for the user, as `roam resume`, `roam fork`,
 * `roam new` and the `roam list` picker do:
 *
 *   whichTool(name, env)            the binary on PATH, or ROAM_TOOL_NOT_FOUND with how to install it
 *   runTool(argv, { cwd, env })     runs it with the terminal (stdio inherited) and resolves with its
 *                                   exit code (killed by a signal: 128 + the signal's number)
 *   ToolExit                        thrown by a command to make `roam` exit with the tool's code
 *
 * While the tool runs, roam stays alive and forwards SIGTERM and SIGHUP to it. SIGINT is forwarded
 * too, except when roam's stdin is a terminal: then Ctrl-C already reached the tool, which is in the
 * terminal's foreground process group with roam, and a second SIGINT would look like a double
 * Ctrl-C (Claude Code exits on that).
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { constants as osConstants } from 'node:os';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import { toolNamed } from '../tools/registry.js';


/** The absolute path of `name` on `env.PATH` (an absolute or relative path with a separator is taken as is). */
export function whichTool(name: string, env: NodeJS.ProcessEnv = process.env): string {
  if (isAbsolute(name) || name.includes('/')) {
    if (isExecutable(name)) return name;
  } else {
    const exts = process.platform === 'win32' ? ['', ...(env.PATHEXT ?? '.EXE;.CMD;.BAT;.COM').split(';').filter(Boolean)] : [''];
    for (const dir of (env.PATH ?? '').split(delimiter)) {
      if (!dir) continue;
      for (const ext of exts) {
        const p = join(dir, name + ext);
        if (isExecutable(p)) return p;
      }
    }
  }
  const hint = toolNamed(name)?.install;
  throw new RoamError(ErrorCodes.TOOL_NOT_FOUND, `${name} is not on PATH${hint ? ` (install it: ${hint})` : ''}`, { tool: name });
}

function isExecutable(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface RunOptions {
  /** Working directory (default: the current one). */
  readonly cwd?: string;
  /** Environment of the tool, also where its binary is looked up (default: process.env). */
  readonly env?: NodeJS.ProcessEnv;
}

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Runs argv (argv[0] looked up with whichTool) with the terminal; resolves with its exit code. */
export function runTool(argv: readonly string[], opts: RunOptions = {}): Promise<number> {
  const env = opts.env ?? process.env;
  const [name, ...args] = argv;
  if (!name) return Promise.reject(new RoamError(ErrorCodes.USAGE, 'no command to run'));
  const bin = whichTool(name, env);
  return new Promise<number>((resolve, reject) => {
    const child = spawn(bin, args, { cwd: opts.cwd, env, stdio: 'inherit' });
    const forward = (sig: NodeJS.Signals) => {
      if (sig === 'SIGINT' && process.stdin.isTTY) return;
      child.kill(sig);
    };
    for (const s of FORWARDED) process.on(s, forward);
    const done = () => {
      for (const s of FORWARDED) process.off(s, forward);
    };
    child.once('error', (err) => {
      done();
      reject(new RoamError(ErrorCodes.TOOL_NOT_FOUND, `could not start ${name}: ${err.message}`, { tool: name }, { cause: err }));
    });
    child.once('exit', (code, signal) => {
      done();
      resolve(code ?? (signal ? 128 + (osConstants.signals[signal] ?? 0) : 1));
    });
  });
}

/**
 * Thrown by a command after a tool exited with a non-zero code: `run` (main.ts) then exits with that
 * code and prints nothing, as if the tool had been exec'd.
 */
export class ToolExit extends Error {
  constructor(readonly code: number) {
    super(`the tool exited with code ${code}`);
    this.name = 'ToolExit';
  }
}
