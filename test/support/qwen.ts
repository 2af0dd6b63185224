/**
 * Running the real Qwen Code (`@qwen-code/qwen-code` 0.15.10, pinned in the root package.json: the
 * newest that declares Node 20) in an isolated environment against the loopback Chat Completions
 * stand-in (test/support/mock-copilot.ts): `security.auth.selectedType: openai` in
 * `~/.qwen/settings.json` with OPENAI_BASE_URL (the mock's `/v1`), OPENAI_API_KEY and the model
 * name. The settings turn off the managed auto-memory (a second request per turn, its own
 * sub-agent), usage statistics, telemetry and update checks (docs/tools/qwen.md).
 */
import { runCli, type CliResult } from '../harness/cli.js';
import { nodeLauncherDir } from './launch.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** The model every test run names (any name works with the mock). */
export const QWEN_MODEL = 'qwen-mock';

/** The CLI's entry script (run with this Node.js). */
export function qwenScript(): string {
  return join(dirname(require.resolve('@qwen-code/qwen-code/package.json')), 'cli.js');
}

/** A directory holding a `qwen` launcher (this Node.js and the pinned CLI), to put first on PATH. */
export function qwenBinDir(dir: string): string {
  return nodeLauncherDir(dir, 'qwen', qwenScript());
}

/** `<home>/.qwen/settings.json`: OpenAI-compatible auth, the model, nothing that reaches the internet, no auto-memory. */
export function writeQwenSettings(home: string): void {
  const dir = join(home, '.qwen');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'settings.json'), JSON.stringify({
    security: { auth: { selectedType: 'openai' } },
    model: { name: QWEN_MODEL },
    memory: { enableManagedAutoMemory: false },
    privacy: { usageStatisticsEnabled: false },
    general: { enableAutoUpdate: false },
    telemetry: { enabled: false },
  }, null, 2));
}

/** The environment to run the CLI with: nothing inherited but PATH, LANG, TZ, USER; a dummy key; the mock. */
export function qwenEnv(opts: { home: string; baseUrl: string }): Record<string, string> {
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: process.env.LANG ?? 'C.UTF-8',
    TZ: process.env.TZ,
    USER: process.env.USER ?? 'roam',
    HOME: opts.home,
    TMPDIR: join(opts.home, '.tmp'),
    OPENAI_API_KEY: 'dummy-roam-test-key',
    OPENAI_BASE_URL: opts.baseUrl,
    OPENAI_MODEL: QWEN_MODEL,
    NO_PROXY: '127.0.0.1,localhost',
    NO_COLOR: '1',
  };
  mkdirSync(join(opts.home, '.tmp'), { recursive: true });
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/** Runs the CLI once (stdin closed), killing its process group on timeout. */
export function runQwen(opts: { args: readonly string[]; cwd: string; home: string; baseUrl: string; timeoutMs: number }): Promise<CliResult> {
  return runCli(process.execPath, [qwenScript(), ...opts.args], { cwd: opts.cwd, env: qwenEnv(opts), timeoutMs: opts.timeoutMs, group: true, stdin: 'closed' });
}

/** The session id of `qwen -p … --output-format json` output (its `system`/`init` message). */
export function qwenSessionId(stdout: string): string | null {
  const i = stdout.indexOf('[');
  if (i < 0) return null;
  try {
    const msgs = JSON.parse(stdout.slice(i)) as Array<{ session_id?: unknown }>;
    const id = msgs.find((m) => typeof m.session_id === 'string')?.session_id;
    return typeof id === 'string' ? id : null;
  } catch {
    return null;
  }
}

/** The conversation a Chat Completions request of Qwen Code sends: [role, text], without its system prompt and its setup exchange. */
export function qwenConversation(body: { messages?: Array<{ role: string; content: unknown }> } | undefined): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const m of body?.messages ?? []) {
    if (m.role !== 'user' && m.role !== 'assistant') continue;
    const c = m.content;
    const text = typeof c === 'string' ? c : Array.isArray(c) ? c.map((p: { text?: unknown }) => (typeof p.text === 'string' ? p.text : '')).join('') : '';
    if (!text) continue;
    out.push([m.role, text]);
  }
  // The CLI opens every request with a setup exchange (the date, the OS, the directory; "Got it. Thanks for the context!").
  if (out[0]?.[0] === 'user' && out[0][1].startsWith('This is the Qwen Code.') && out[1]?.[0] === 'assistant') out.splice(0, 2);
  return out;
}
