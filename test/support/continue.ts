/**
 * Running the real Continue CLI (`@continuedev/cli` 1.5.47, pinned in the root package.json,
 * command `cn`) in an isolated HOME against the loopback Chat Completions stand-in
 * (test/support/mock-copilot.ts): a `config.yaml` naming one model of provider `openai` whose
 * `apiBase` is the mock (docs/tools/continue.md).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli, type CliResult } from '../harness/cli.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The CLI's entry script (run with this Node.js). */
export function continueScript(): string {
  return join(ROOT, 'node_modules', '@continuedev', 'cli', 'dist', 'cn.js');
}

/** `<home>/.continue/config.yaml`: one model at the mock; returns its path. */
export function writeContinueConfig(home: string, baseUrl: string): string {
  const dir = join(home, '.continue');
  mkdirSync(join(dir, 'sessions'), { recursive: true });
  const file = join(dir, 'config.yaml');
  writeFileSync(file, ['name: roam-test', 'version: 1.0.0', 'schema: v1', 'models:', '  - name: mock', '    provider: openai', '    model: continue-mock',
    '    apiKey: dummy-roam-test-key', `    apiBase: ${baseUrl}/`, '    roles: [chat]', ''].join('\n'));
  return file;
}

/** The environment to run the CLI with: nothing inherited but PATH, LANG, TZ, USER. */
export function continueEnv(home: string): Record<string, string> {
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', LANG: process.env.LANG ?? 'C.UTF-8', TZ: process.env.TZ, USER: process.env.USER ?? 'roam',
    HOME: home, TMPDIR: join(home, '.tmp'), NO_PROXY: '127.0.0.1,localhost', NO_COLOR: '1',
  };
  mkdirSync(join(home, '.tmp'), { recursive: true });
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/** A directory holding a `cn` launcher (this Node.js and the pinned CLI), to put first on PATH. */
export function continueBinDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cn'), `#!/bin/sh\nexec "${process.execPath}" "${continueScript()}" "$@"\n`, { mode: 0o755 });
  return dir;
}

/** `cn …` once (stdin closed), killing its process group on timeout. */
export function runContinue(opts: { args: readonly string[]; cwd: string; home: string; timeoutMs: number }): Promise<CliResult> {
  return runCli(process.execPath, [continueScript(), ...opts.args], { cwd: opts.cwd, env: continueEnv(opts.home), timeoutMs: opts.timeoutMs, group: true, stdin: 'closed' });
}
