/**
 * Running the real Codex CLI (`@openai/codex`, pinned in the root package.json) in an isolated
 * environment against the local Responses API stand-in (test/support/mock-openai.ts).
 *
 * The npm package's `bin/codex.js` is a Node launcher for a native executable shipped in the
 * optional dependency `@openai/codex-<platform>` (an npm alias of `@openai/codex@<v>-<platform>`):
 * `codexBin()` returns that executable, to run directly. See docs/CODEX.md.
 */
import { runCli, type CliResult } from '../harness/cli.js';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

const TRIPLES: Record<string, string> = {
  'linux-x64': 'x86_64-unknown-linux-musl',
  'linux-arm64': 'aarch64-unknown-linux-musl',
  'darwin-x64': 'x86_64-apple-darwin',
  'darwin-arm64': 'aarch64-apple-darwin',
  'win32-x64': 'x86_64-pc-windows-msvc',
  'win32-arm64': 'aarch64-pc-windows-msvc',
};

let cached: string | undefined;

/** Absolute path of the Codex CLI's native executable. */
export function codexBin(): string {
  if (cached) return cached;
  const plat = `${platform()}-${arch()}`;
  const triple = TRIPLES[plat];
  if (!triple) throw new Error(`Codex CLI: no build for ${plat}`);
  const wrapper = dirname(require.resolve('@openai/codex/package.json'));
  const pkg = dirname(require.resolve(`@openai/codex-${plat}/package.json`, { paths: [wrapper] }));
  const bin = join(pkg, 'vendor', triple, 'bin', platform() === 'win32' ? 'codex.exe' : 'codex');
  if (!existsSync(bin)) throw new Error(`Codex CLI executable not found at ${bin}; run npm install without --omit=optional`);
  cached = bin;
  return bin;
}

/**
 * `<codexHome>/config.toml`: a model provider `mock` at `baseUrl` (Responses API, plain HTTP
 * streaming, no retries), and every switch that keeps the CLI off the network: no update check,
 * no analytics, no apps or plugins (without these it resolves github.com, api.github.com and
 * chatgpt.com; measured with strace, docs/CODEX.md).
 */
export function writeCodexConfig(codexHome: string, baseUrl: string): void {
  mkdirSync(codexHome, { recursive: true });
  writeFileSync(
    join(codexHome, 'config.toml'),
    `model_provider = "mock"
model = "gpt-5-codex"
check_for_update_on_startup = false

[analytics]
enabled = false

[features]
apps = false
plugins = false

[model_providers.mock]
name = "Mock"
base_url = "${baseUrl}"
wire_api = "responses"
env_key = "OPENAI_API_KEY"
supports_websockets = false
request_max_retries = 0
stream_max_retries = 0
`,
  );
}

export interface CodexEnvOptions {
  /** The HOME of the simulated machine. */
  readonly home: string;
  /** CODEX_HOME (default `<home>/.codex`); it must exist (Codex refuses a missing one). */
  readonly codexHome?: string;
  /** Extra variables, applied last (undefined removes one). */
  readonly env?: Record<string, string | undefined>;
}

/** The environment to run the CLI with: nothing inherited but PATH, LANG, TZ, USER; a dummy API key. */
export function codexEnv(opts: CodexEnvOptions): Record<string, string> {
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: process.env.LANG ?? 'C.UTF-8',
    TZ: process.env.TZ,
    USER: process.env.USER ?? 'roam',
    HOME: opts.home,
    CODEX_HOME: opts.codexHome ?? join(opts.home, '.codex'),
    OPENAI_API_KEY: 'sk-dummy-roam-test',
    NO_PROXY: '127.0.0.1,localhost',
    ...opts.env,
  };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

export interface RunCodexOptions extends CodexEnvOptions {
  readonly args: readonly string[];
  readonly cwd: string;
  readonly timeoutMs: number;
}

export type RunCodexResult = CliResult;

/** Runs the CLI once (stdin closed), killing its process group on timeout. */
export function runCodex(opts: RunCodexOptions): Promise<RunCodexResult> {
  return runCli(codexBin(), [...opts.args], { cwd: opts.cwd, env: codexEnv(opts), timeoutMs: opts.timeoutMs, group: true, stdin: 'closed' });
}

/** The session id `codex exec` prints in its header (`session id: <uuid>`). */
export function sessionIdOf(output: string): string | null {
  return /session id: ([0-9a-f-]{36})/.exec(output)?.[1] ?? null;
}

export interface CodexPty {
  /** Everything the CLI drew so far, escape sequences removed. */
  screen(): string;
  write(keys: string): void;
  /** Resolves once the screen after `since` (whitespace removed) shows `text`; rejects after timeoutMs or if the CLI exits. */
  waitFor(text: string, timeoutMs: number, since?: number): Promise<void>;
  kill(): void;
  readonly exited: Promise<void>;
}

/** The interactive CLI under a pseudo-terminal (util-linux `script`, 120x40), killed after `timeoutMs`. */
export function startCodexPty(opts: RunCodexOptions): CodexPty {
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const child = spawn('script', ['-qfec', `stty cols 120 rows 40 2>/dev/null; exec ${[codexBin(), ...opts.args].map(quote).join(' ')}`, '/dev/null'], {
    cwd: opts.cwd, env: { ...codexEnv(opts), TERM: 'xterm-256color' }, stdio: ['pipe', 'pipe', 'pipe'], detached: true,
  });
  let raw = '';
  let done = false;
  child.stdout.setEncoding('utf8').on('data', (d: string) => (raw += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (raw += d));
  child.stdin.on('error', () => {});
  // `script` puts the CLI in a session of its own: its pid is script's only child.
  const cliPid = (): number | undefined => {
    try {
      return Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/)[0]) || undefined;
    } catch {
      return undefined;
    }
  };
  let cli: number | undefined;
  const kill = (): void => {
    cli ??= cliPid();
    for (const pid of [cli, child.pid]) {
      if (pid === undefined) continue;
      for (const target of [-pid, pid]) {
        try {
          process.kill(target, 'SIGKILL');
        } catch {
          // gone already
        }
      }
    }
  };
  const timer = setTimeout(kill, opts.timeoutMs);
  const exited = new Promise<void>((resolve) => child.on('close', () => ((done = true), clearTimeout(timer), kill(), resolve())));
  const screen = (): string => raw.replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g, '').replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, ' ').replace(/\x1b[@-Z\\-_]/g, '').replace(/\r/g, '');
  return {
    screen,
    write: (keys) => {
      cli ??= cliPid();
      if (!done) child.stdin.write(keys);
    },
    kill,
    exited,
    async waitFor(text, timeoutMs, since = 0) {
      const want = text.replace(/\s+/g, '');
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (screen().slice(since).replace(/\s+/g, '').includes(want)) return;
        if (done || Date.now() > deadline) throw new Error(`${done ? 'Codex exited' : 'timed out'} before showing ${text}; screen:\n${screen().slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}
