/**
 * Running the real Gemini CLI (`@google/gemini-cli`, pinned in the root package.json) in an
 * isolated environment against the loopback Gemini API stand-in (test/support/mock-gemini.ts).
 *
 * The CLI is pointed at the mock by `GOOGLE_GEMINI_BASE_URL` with `GEMINI_API_KEY` and
 * `security.auth.selectedType: gemini-api-key`; `-m gemini-2.5-flash` is always given, because
 * without a model the CLI first asks a router model (generateContent with a JSON schema) and retries
 * for about 90 s when the answer is not the JSON it wants. The settings turn off what would reach
 * the internet (update checks, usage statistics, telemetry, the IDE companion); measured with strace:
 * the only connect() is to the mock (docs/GEMINI.md).
 */
import { runCli, type CliResult } from '../harness/cli.js';
import { nodeLauncherDir } from './launch.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** The model every test run names (any name works with the mock). */
export const GEMINI_MODEL = 'gemini-2.5-flash';

/** The CLI's entry script (run with this Node.js). */
export function geminiScript(): string {
  return join(dirname(require.resolve('@google/gemini-cli/package.json')), 'bundle', 'gemini.js');
}

/** A directory holding a `gemini` launcher (this Node.js and the pinned CLI), to put first on PATH. */
export function geminiBinDir(dir: string): string {
  return nodeLauncherDir(dir, 'gemini', geminiScript());
}

/** `<home>/.gemini/settings.json`: API-key auth, and nothing that reaches the internet. */
export function writeGeminiSettings(home: string): void {
  const dir = join(home, '.gemini');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'settings.json'), JSON.stringify({
    security: { auth: { selectedType: 'gemini-api-key' } },
    general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
    privacy: { usageStatisticsEnabled: false },
    telemetry: { enabled: false },
    ide: { enabled: false },
  }, null, 2));
}

export interface GeminiEnvOptions {
  /** The HOME of the simulated machine. */
  readonly home: string;
  /** The mock's base URL. */
  readonly baseUrl: string;
  /** Extra variables, applied last (undefined removes one). */
  readonly env?: Record<string, string | undefined>;
}

/** The environment to run the CLI with: nothing inherited but PATH, LANG, TZ, USER; a dummy key. */
export function geminiEnv(opts: GeminiEnvOptions): Record<string, string> {
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: process.env.LANG ?? 'C.UTF-8',
    TZ: process.env.TZ,
    USER: process.env.USER ?? 'roam',
    HOME: opts.home,
    TMPDIR: join(opts.home, '.tmp'),
    GEMINI_API_KEY: 'dummy-roam-test-key',
    GOOGLE_GEMINI_BASE_URL: opts.baseUrl,
    GEMINI_CLI_TRUST_WORKSPACE: 'true',
    NO_PROXY: '127.0.0.1,localhost',
    NO_COLOR: '1',
    ...opts.env,
  };
  mkdirSync(join(opts.home, '.tmp'), { recursive: true });
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

export interface RunGeminiOptions extends GeminiEnvOptions {
  readonly args: readonly string[];
  readonly cwd: string;
  readonly timeoutMs: number;
}

export type RunGeminiResult = CliResult;

/** Runs the CLI once (stdin closed), killing its process group on timeout. */
export function runGemini(opts: RunGeminiOptions): Promise<RunGeminiResult> {
  return runCli(process.execPath, [geminiScript(), ...opts.args], { cwd: opts.cwd, env: geminiEnv(opts), timeoutMs: opts.timeoutMs, group: true, stdin: 'closed' });
}

/** The session id of `gemini -p … --output-format json` output. */
export function geminiSessionId(stdout: string): string | null {
  const i = stdout.indexOf('{');
  if (i < 0) return null;
  try {
    const o = JSON.parse(stdout.slice(i)) as { session_id?: unknown };
    return typeof o.session_id === 'string' ? o.session_id : null;
  } catch {
    return null;
  }
}
