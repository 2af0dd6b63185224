/**
 * Running the real GitHub Copilot CLI (`@github/copilot` 1.0.102, pinned in the root package.json)
 * in an isolated environment against the loopback chat-completions stand-in
 * (test/support/mock-copilot.ts). See docs/COPILOT.md.
 *
 * The npm package's `npm-loader.js` spawns a native executable from the optional dependency
 * `@github/copilot-<platform>-<arch>`: `copilotBin()` returns that executable, to run directly.
 * On its first run under a cache directory the executable unpacks its JavaScript and native
 * modules (~235 MB) into `$XDG_CACHE_HOME/copilot/pkg/`: every run here shares one cache under the
 * system's temp directory so that this happens once, not once per simulated HOME.
 *
 * The environment keeps the CLI on 127.0.0.1: BYOK mode (`COPILOT_PROVIDER_BASE_URL` = the mock,
 * a dummy key, a model name) with `COPILOT_OFFLINE=true` ("skips all network access: GitHub
 * authentication, telemetry, web tools, GitHub MCP server, and auto-update", `copilot help
 * environment`), `COPILOT_AUTO_UPDATE=false`, and `--no-auto-update --disable-client-telemetry`
 * (`copilotArgs`). Measured with strace: the only connect() of a run is to the mock.
 */
import { runCli, type CliResult } from '../harness/cli.js';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

let cached: string | undefined;

/** Absolute path of the Copilot CLI's native executable. */
export function copilotBin(): string {
  if (cached) return cached;
  const wrapper = dirname(require.resolve('@github/copilot/package.json'));
  // The platform package exports its executable as its main entry (as npm-loader.js resolves it).
  const bin = require.resolve(`@github/copilot-${platform()}-${arch()}`, { paths: [wrapper] });
  if (!existsSync(bin)) throw new Error(`Copilot CLI executable not found at ${bin}; run npm install without --omit=optional`);
  cached = bin;
  return bin;
}

/** The cache every test run of the CLI shares (its unpacked package). */
export function copilotCacheDir(): string {
  const dir = join(tmpdir(), 'roam-test-copilot-cache');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The model name the CLI is told to use (sent to the mock as `model`). */
export const COPILOT_TEST_MODEL = 'gpt-4.1';

export interface CopilotEnvOptions {
  /** The HOME of the simulated machine. */
  readonly home: string;
  /** The mock's base URL (`http://127.0.0.1:<port>/v1`). */
  readonly baseUrl: string;
  /** COPILOT_HOME (default: unset, i.e. `<home>/.copilot`). */
  readonly copilotHome?: string;
  /** Extra variables, applied last (undefined removes one). */
  readonly env?: Record<string, string | undefined>;
}

/** The environment to run the CLI with: nothing inherited but PATH, LANG, TZ, USER. */
export function copilotEnv(opts: CopilotEnvOptions): Record<string, string> {
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: process.env.LANG ?? 'C.UTF-8',
    TZ: process.env.TZ,
    USER: process.env.USER ?? 'roam',
    HOME: opts.home,
    COPILOT_HOME: opts.copilotHome,
    XDG_CACHE_HOME: copilotCacheDir(),
    COPILOT_OFFLINE: 'true',
    COPILOT_AUTO_UPDATE: 'false',
    COPILOT_PROVIDER_BASE_URL: opts.baseUrl,
    COPILOT_PROVIDER_API_KEY: 'sk-dummy-roam-test',
    COPILOT_MODEL: COPILOT_TEST_MODEL,
    NO_PROXY: '127.0.0.1,localhost',
    NO_COLOR: '1',
    ...opts.env,
  };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/** The options every non-interactive run takes: a prompt, tools allowed without asking, nothing fetched. */
export function copilotArgs(prompt: string): string[] {
  return ['-p', prompt, '--allow-all-tools', '--no-auto-update', '--disable-client-telemetry', '--no-custom-instructions'];
}

export interface RunCopilotOptions extends CopilotEnvOptions {
  readonly args: readonly string[];
  readonly cwd: string;
  readonly timeoutMs: number;
}

export type RunCopilotResult = CliResult;

/** Runs the CLI once (stdin closed), killing its process group on timeout and after it exits. */
export function runCopilot(opts: RunCopilotOptions): Promise<RunCopilotResult> {
  return runCli(copilotBin(), [...opts.args], { cwd: opts.cwd, env: copilotEnv(opts), timeoutMs: opts.timeoutMs, group: true, stdin: 'closed' });
}

/** The session id the CLI prints at the end of a `-p` run (`Resume     copilot --resume=<uuid>`). */
export function sessionIdOf(output: string): string | null {
  return /copilot --resume=([0-9a-f-]{36})/.exec(output)?.[1] ?? null;
}
