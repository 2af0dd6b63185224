/**
 * Running the real Claude Code CLI (`@anthropic-ai/claude-code`, pinned in the root package.json)
 * in an isolated environment against a local API stand-in (test/support/mock-anthropic.ts).
 *
 * The npm package ships a native executable (a Bun-compiled binary, per platform, as an optional
 * dependency `@anthropic-ai/claude-code-<platform>`); its postinstall copies/links it over the
 * package's `bin/claude.exe` stub. No Node.js is involved at run time, so the package's
 * `engines: node >= 22` does not matter on Node 20. `claudeBin()` returns that binary (the
 * platform package's own copy if the postinstall did not run). See docs/CLAUDE-CODE.md.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, realpathSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { killGroups } from './launch.js';

const require = createRequire(import.meta.url);

function isNativeExecutable(file: string): boolean {
  if (!existsSync(file)) return false;
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(4);
    readSync(fd, head, 0, 4, 0);
    // ELF, Mach-O (both byte orders, 32/64, fat), PE.
    const magic = head.readUInt32BE(0);
    return (
      magic === 0x7f454c46 ||
      magic === 0xcffaedfe ||
      magic === 0xcefaedfe ||
      magic === 0xfeedfacf ||
      magic === 0xfeedface ||
      magic === 0xcafebabe ||
      head.subarray(0, 2).toString('latin1') === 'MZ'
    );
  } finally {
    closeSync(fd);
  }
}

function isMusl(): boolean {
  if (platform() !== 'linux') return false;
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime === undefined;
}

let cachedBin: string | undefined;

/**
 * Absolute path of the Claude Code native executable; run it directly (not with
 * process.execPath). Throws if neither the wrapper's `bin/claude.exe` (after postinstall) nor the
 * platform package's binary is a native executable.
 */
export function claudeBin(): string {
  if (cachedBin) return cachedBin;
  const wrapperDir = dirname(require.resolve('@anthropic-ai/claude-code/package.json'));
  const candidates = [join(wrapperDir, 'bin', 'claude.exe')];
  const plat = `${platform()}-${arch()}${isMusl() ? '-musl' : ''}`;
  try {
    const platDir = dirname(
      require.resolve(`@anthropic-ai/claude-code-${plat}/package.json`, { paths: [wrapperDir] }),
    );
    candidates.push(join(platDir, platform() === 'win32' ? 'claude.exe' : 'claude'));
  } catch {
    // No platform package: only the wrapper's copy can work.
  }
  const found = candidates.find(isNativeExecutable);
  if (!found) {
    throw new Error(
      `Claude Code native binary not found (looked at ${candidates.join(', ')}); ` +
        'run `npm install` without --ignore-scripts/--omit=optional',
    );
  }
  cachedBin = found;
  return found;
}

/** A new temporary directory holding a `claude` link to the pinned CLI, to put first on PATH (the caller removes it). */
export function claudeBinDir(prefix: string): string {
  const bin = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  symlinkSync(claudeBin(), join(bin, 'claude'));
  return bin;
}

/**
 * The `~/.claude/projects/<key>` directory name the CLI uses for a working directory (pass the
 * realpath; the CLI resolves symlinks itself). Every UTF-16 code unit outside [A-Za-z0-9] becomes
 * '-'; a key longer than 200 is cut to 200 and suffixed with '-' + base36(|h|), h being the
 * Java-style 32-bit string hash (h = h*31 + code unit) of the unsanitized path. Copied from the
 * 2.1.329 bundle; see docs/CLAUDE-CODE.md.
 */
export function claudeProjectKey(absPath: string): string {
  const key = absPath.replace(/[^a-zA-Z0-9]/g, '-');
  if (key.length <= 200) return key;
  let h = 0;
  for (let i = 0; i < absPath.length; i++) h = ((h << 5) - h + absPath.charCodeAt(i)) | 0;
  return `${key.slice(0, 200)}-${Math.abs(h).toString(36)}`;
}

export interface ClaudeEnvOptions {
  /** The HOME of the simulated machine (its `~/.claude`, `~/.claude.json`). */
  readonly home: string;
  /** Sets CLAUDE_CONFIG_DIR (which replaces `~/.claude` and holds `.claude.json`). */
  readonly configDir?: string;
  /** The mock's url (ANTHROPIC_BASE_URL). */
  readonly baseUrl: string;
  /** Extra variables, applied last (a value of `undefined` removes one). */
  readonly env?: Record<string, string | undefined>;
}

/**
 * The environment to exec the CLI with: nothing inherited but PATH/LANG/TZ/USER, TMPDIR inside
 * `home`, a dummy API key, the
 * mock as the API, and every switch that keeps it off the network (telemetry, error reporting,
 * auto-update, feature flags, non-essential traffic, marketplace auto-install).
 */
export function claudeEnv(opts: ClaudeEnvOptions): Record<string, string> {
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: process.env.LANG ?? 'C.UTF-8',
    TZ: process.env.TZ,
    TERM: 'xterm-256color',
    HOME: opts.home,
    USER: process.env.USER ?? 'roam',
    SHELL: '/bin/bash',
    // The CLI creates it; its sockets (cc-socks/<pid>.sock) and scratch files then stay in the
    // simulated machine instead of the shared /tmp.
    TMPDIR: join(opts.home, '.tmp'),
    CLAUDE_CONFIG_DIR: opts.configDir,
    ANTHROPIC_BASE_URL: opts.baseUrl,
    ANTHROPIC_API_KEY: 'sk-ant-dummy-roam-test',
    // Keep the CLI off the internet (there is none here; unanswered calls would stall it).
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_GROWTHBOOK: '1',
    CLAUDE_CODE_DISABLE_FEATURE_FLAGS: '1',
    CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL: '1',
    CLAUDE_CODE_IDE_SKIP_AUTO_INSTALL: '1',
    DISABLE_INSTALLATION_CHECKS: '1',
    CLAUDE_CODE_DISABLE_TERMINAL_TITLE: '1',
    // Any proxy from the host would send the loopback API elsewhere.
    NO_PROXY: '127.0.0.1,localhost',
    ...opts.env,
  };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

export interface RunClaudeOptions extends ClaudeEnvOptions {
  readonly args: readonly string[];
  readonly cwd: string;
  /** Kill the CLI (its whole process group) after this long. */
  readonly timeoutMs: number;
  /** Written to stdin, which is then closed (default: closed at once). */
  readonly stdin?: string;
}

export interface RunClaudeResult {
  /** Exit code, or null if killed by a signal. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly pid: number | undefined;
}

/** Runs the CLI once, non-interactively (stdin not a TTY), killing it on timeout. */
export function runClaude(opts: RunClaudeOptions): Promise<RunClaudeResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(claudeBin(), [...opts.args], {
      cwd: opts.cwd,
      env: claudeEnv(opts),
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own process group, so a timeout also ends the shells and tools it started.
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.on('error', () => {});
    child.stdin.end(opts.stdin ?? '');
    const killGroup = (signal: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // Already gone.
      }
    };
    let hardKill: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup('SIGTERM');
      hardKill = setTimeout(() => killGroup('SIGKILL'), 2_000);
    }, opts.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      if (hardKill) clearTimeout(hardKill);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (hardKill) clearTimeout(hardKill);
      // Leftovers of the group (background shells), if any.
      killGroup('SIGKILL');
      resolve({ code, signal, stdout, stderr, timedOut, pid: child.pid });
    });
  });
}

/** Removes ANSI escape sequences (CSI, OSC, single-char escapes) and carriage returns. */
export function stripAnsi(s: string): string {
  return s
    .replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g, '')
    .replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, ' ')
    .replace(/\x1b[PX^_][^\x1b]*\x1b\\/g, '')
    .replace(/\x1b[@-Z\\-_]/g, '')
    .replace(/\r/g, '');
}

export interface ClaudePty {
  readonly pid: number | undefined;
  /** Everything the CLI drew so far, escape sequences removed. */
  screen(): string;
  /** Raw bytes written to the terminal so far. */
  raw(): string;
  /** Sends keystrokes ("\r" is Enter, "\x1b[B" Down, "\x04" Ctrl-D). */
  write(keys: string): void;
  /**
   * Resolves once the screen (text drawn after `since`, a length of screen()) matches
   * `pattern`, compared with all whitespace removed; rejects after timeoutMs or if the CLI exits.
   */
  waitFor(pattern: string | RegExp, timeoutMs: number, since?: number): Promise<void>;
  /** Resolves with the exit code when the CLI has exited. */
  readonly exited: Promise<number | null>;
  /** Kills the CLI's whole process group (idempotent). */
  kill(): void;
}

/**
 * Runs the CLI interactively under a pseudo-terminal, through util-linux `script` (no native
 * Node pty module needed). The terminal is 120x40. The child is killed after `timeoutMs`.
 */
export function startClaudePty(opts: Omit<RunClaudeOptions, 'stdin'>): ClaudePty {
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const cmd = `stty cols 120 rows 40 2>/dev/null; exec ${[claudeBin(), ...opts.args].map(quote).join(' ')}`;
  const child = spawn('script', ['-qfec', cmd, '/dev/null'], {
    cwd: opts.cwd,
    env: claudeEnv(opts),
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let raw = '';
  // `script` runs the CLI in a new session (its pty), outside script's process group: find its
  // pid (script's only child) so that kill() reaches it and `exited` waits for it.
  let cliPid: number | undefined;
  const findCli = (): void => {
    if (cliPid !== undefined || child.pid === undefined) return;
    try {
      const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/);
      if (kids[0]) cliPid = Number(kids[0]);
    } catch {
      // Not Linux, or script already gone.
    }
  };
  const onData = (d: string): void => {
    raw += d;
    findCli();
  };
  child.stdout.setEncoding('utf8').on('data', onData);
  child.stderr.setEncoding('utf8').on('data', onData);
  child.stdin.on('error', () => {});
  let done = false;
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const kill = (): void => {
    findCli();
    killGroups([cliPid, child.pid]);
  };
  const timer = setTimeout(kill, opts.timeoutMs);
  const exited = new Promise<number | null>((resolve) => {
    child.on('close', (code) => {
      done = true;
      clearTimeout(timer);
      kill();
      // The CLI may outlive script by a moment (it exits on the pty's hangup); wait for it so a
      // caller can delete its HOME safely.
      const deadline = Date.now() + 10_000;
      const wait = (): void => {
        if (cliPid === undefined || !alive(cliPid) || Date.now() > deadline) resolve(code);
        else setTimeout(wait, 20);
      };
      wait();
    });
    child.on('error', () => {
      done = true;
      clearTimeout(timer);
      resolve(null);
    });
  });
  const squash = (s: string): string => s.replace(/\s+/g, '');
  return {
    pid: child.pid,
    screen: () => stripAnsi(raw),
    raw: () => raw,
    write: (keys) => {
      if (!done) child.stdin.write(keys);
    },
    exited,
    kill,
    async waitFor(pattern, timeoutMs, since = 0) {
      const deadline = Date.now() + timeoutMs;
      const want = typeof pattern === 'string' ? squash(pattern) : pattern;
      for (;;) {
        const text = squash(stripAnsi(raw).slice(since));
        if (typeof want === 'string' ? text.includes(want) : want.test(text)) return;
        if (done) throw new Error(`CLI exited before showing ${String(pattern)}; screen:\n${stripAnsi(raw).slice(-3000)}`);
        if (Date.now() > deadline) {
          throw new Error(`timed out waiting for ${String(pattern)}; screen:\n${stripAnsi(raw).slice(-3000)}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}
