/**
 * Runs a command-line program once for a test, a benchmark or the demo: `roam` (the built CLI,
 * against the daemon its env points at) or a real tool's CLI. Output is collected; on timeout the
 * process (with `group`, its whole process group, which it leads) is killed with SIGKILL.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { ROAM } from './paths.js';

export interface CliResult {
  /** The exit code; null when it was killed (by the timeout or a signal). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

export interface CliOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Kill it (SIGKILL) after this long (default 60 s). */
  timeoutMs?: number;
  /**
   * Run it in a process group of its own (detached), and kill that group when it ends or times
   * out: nothing it started (a tool roam ran, a tool's helpers) outlives it.
   */
  group?: boolean;
  /** `ignore` (default): stdin is /dev/null; `closed`: a pipe closed at once. */
  stdin?: 'ignore' | 'closed';
  /** Told the child process as soon as it is spawned (to register it for a clean-up). */
  onSpawn?: (child: ChildProcess) => void;
}

/** A program running in the background: its output so far, and its end. */
export interface RunningCli {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once it has exited and its output is closed; rejects if it could not be started. */
  readonly done: Promise<CliResult>;
}

/** Starts `command args…` and returns at once (for a test that reads its output while it runs). */
export function startCli(command: string, args: readonly string[], opts: CliOptions): RunningCli {
  const child = spawn(command, [...args], {
    cwd: opts.cwd,
    env: opts.env,
    stdio: [opts.stdin === 'closed' ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    detached: opts.group ?? false,
  });
  opts.onSpawn?.(child);
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  if (child.stdin) {
    child.stdin.on('error', () => {});
    child.stdin.end();
  }
  const kill = (): void => {
    if (!opts.group) {
      child.kill('SIGKILL');
      return;
    }
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const done = new Promise<CliResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, opts.timeoutMs ?? 60_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (opts.group) kill(); // whatever it left behind
      resolve({ code, stdout, stderr, timedOut });
    });
  });
  return { child, stdout: () => stdout, stderr: () => stderr, done };
}

/** Runs `command args…` without blocking the event loop (a mock server in this process can answer it). */
export function runCli(command: string, args: readonly string[], opts: CliOptions): Promise<CliResult> {
  return startCli(command, args, opts).done;
}

/** `roam <args>` in the background (e.g. `roam pair`, whose code a test reads while it waits). */
export function startRoam(args: readonly string[], opts: CliOptions): RunningCli {
  return startCli(process.execPath, [ROAM, ...args], opts);
}

/** `roam <args>` (the built CLI), asynchronously. */
export function runRoam(args: readonly string[], opts: CliOptions): Promise<CliResult> {
  return runCli(process.execPath, [ROAM, ...args], opts);
}

/** `roam <args>`, blocking (for tests that need no event loop meanwhile). */
export function runRoamSync(args: readonly string[], opts: Omit<CliOptions, 'group' | 'stdin'> & { killSignal?: NodeJS.Signals }): CliResult {
  const r = spawnSync(process.execPath, [ROAM, ...args], {
    cwd: opts.cwd,
    env: opts.env,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 120_000,
    maxBuffer: 256 * 1024 * 1024,
    ...(opts.killSignal ? { killSignal: opts.killSignal } : {}),
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, timedOut: r.error !== undefined && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT' };
}
