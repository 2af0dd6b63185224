/**
 * Running the real Cline CLI (`cline` 3.0.65, pinned in the root package.json; its
 * `@cline/cli-linux-x64` dependency carries the executable) in an isolated HOME against the
 * loopback Chat Completions stand-in (test/support/mock-copilot.ts), as its "openai-compatible"
 * provider (`~/.cline/data/settings/providers.json`, what `cline auth -p openai -k … -m … -b …`
 * writes). docs/tools/cline.md, "The Cline CLI".
 *
 * Every run leaves a hub process (`cline --cline-hub-daemon … --port <port>`, parent 1) behind; it
 * listens on 127.0.0.1:25463 unless CLINE_HUB_PORT says otherwise, and a CLI of another HOME would
 * use it: each HOME gets a port of its own here, and killClineHubs ends the hubs of a HOME.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli, type CliResult } from '../harness/cli.js';
import { stripAnsi } from './claude.js';
import { killGroups } from './launch.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The model every run names (any name works with the mock). */
export const CLINE_MODEL = 'cline-mock';

/** The CLI's executable. */
export function clineCliBin(): string {
  return join(ROOT, 'node_modules', '.bin', 'cline');
}

/** A directory holding `cline` alone, to put first on PATH. */
export function clineCliBinDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  symlinkSync(clineCliBin(), join(dir, 'cline'));
  return dir;
}

/** A free port on 127.0.0.1 (for the hub of one HOME). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** `<home>/.cline/data/settings/providers.json`: the openai-compatible provider at the mock. */
export function writeClineCliProviders(home: string, baseUrl: string): void {
  const dir = join(home, '.cline', 'data', 'settings');
  mkdirSync(dir, { recursive: true });
  mkdirSync(join(home, '.cline', 'data', 'sessions'), { recursive: true });
  const settings = { provider: 'openai-compatible', apiKey: 'dummy-roam-test-key', model: CLINE_MODEL, baseUrl };
  writeFileSync(join(dir, 'providers.json'), JSON.stringify({
    version: 1, lastUsedProvider: 'openai-compatible', modes: {},
    providers: { 'openai-compatible': { settings, updatedAt: new Date().toISOString(), tokenSource: 'manual' } },
  }, null, 2));
}

/** The environment to run the CLI with: nothing inherited but PATH, LANG, TZ, USER; its hub on `hubPort`. */
export function clineCliEnv(opts: { home: string; hubPort: number }): Record<string, string> {
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: process.env.LANG ?? 'C.UTF-8',
    TZ: process.env.TZ,
    USER: process.env.USER ?? 'roam',
    TERM: 'xterm-256color',
    HOME: opts.home,
    TMPDIR: join(opts.home, '.tmp'),
    CLINE_HUB_PORT: String(opts.hubPort),
    CLINE_NO_AUTO_UPDATE: '1',
    NO_PROXY: '127.0.0.1,localhost',
  };
  mkdirSync(join(opts.home, '.tmp'), { recursive: true });
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/** `cline --json <prompt>` once (stdin closed), killing its process group on timeout. */
export function runClineCli(opts: { args: readonly string[]; cwd: string; home: string; hubPort: number; timeoutMs: number }): Promise<CliResult> {
  return runCli(clineCliBin(), opts.args, { cwd: opts.cwd, env: clineCliEnv(opts), timeoutMs: opts.timeoutMs, group: true, stdin: 'closed' });
}

/** The pids of the hub processes (`--cline-hub-daemon`) whose HOME is `home`. */
export function clineHubs(home: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (/^State:\s+Z/m.test(readFileSync(`/proc/${name}/status`, 'utf8'))) continue; // killed, not yet reaped
      const args = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (!args.includes('--cline-hub-daemon')) continue;
      const env = readFileSync(`/proc/${name}/environ`, 'utf8').split('\0');
      if (env.includes(`HOME=${home}`)) out.push(Number(name));
    } catch {
      // Gone, or not ours to read.
    }
  }
  return out;
}

/** Kills the hubs the CLI left for `home`; returns how many there were. */
export function killClineHubs(home: string): number {
  const pids = clineHubs(home);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  return pids.length;
}

/** A program under a pseudo-terminal (util-linux `script`, 120x40). */
export interface Pty {
  /** Everything drawn so far, escape sequences removed. */
  screen(): string;
  write(keys: string): void;
  /** Resolves once the screen (whitespace removed) after `since` holds `text`; rejects on timeout or exit. */
  waitFor(text: string, timeoutMs: number, since?: number): Promise<void>;
  readonly exited: Promise<number | null>;
  /** Kills it and what it started (its process group and script's). */
  kill(): void;
}

/** Runs `argv` in a pty, in a process group of its own, killed after `timeoutMs`. */
export function startPty(argv: readonly string[], opts: { env: NodeJS.ProcessEnv; cwd: string; timeoutMs: number }): Pty {
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const child = spawn('script', ['-qfec', `stty cols 120 rows 40 2>/dev/null; exec ${argv.map(quote).join(' ')}`, '/dev/null'], {
    cwd: opts.cwd, env: opts.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true,
  });
  let raw = '';
  let done = false;
  let inner: number | undefined;
  const onData = (d: string): void => {
    raw += d;
    if (inner === undefined && child.pid !== undefined) {
      try {
        const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/);
        if (kids[0]) inner = Number(kids[0]);
      } catch {
        // script already gone
      }
    }
  };
  child.stdout.setEncoding('utf8').on('data', onData);
  child.stderr.setEncoding('utf8').on('data', onData);
  child.stdin.on('error', () => {});
  const kill = (): void => killGroups([inner, child.pid]);
  const timer = setTimeout(kill, opts.timeoutMs);
  const exited = new Promise<number | null>((resolve) => {
    child.on('close', (code) => {
      done = true;
      clearTimeout(timer);
      kill();
      resolve(code);
    });
    child.on('error', () => {
      done = true;
      clearTimeout(timer);
      resolve(null);
    });
  });
  const squash = (s: string): string => s.replace(/\s+/g, '');
  return {
    screen: () => stripAnsi(raw),
    write: (keys) => {
      if (!done) child.stdin.write(keys);
    },
    exited,
    kill,
    async waitFor(text, timeoutMs, since = 0) {
      const deadline = Date.now() + timeoutMs;
      const want = squash(text);
      for (;;) {
        if (squash(stripAnsi(raw).slice(since)).includes(want)) return;
        if (done) throw new Error(`exited before showing ${text}; screen:\n${stripAnsi(raw).slice(-3000)}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${text}; screen:\n${stripAnsi(raw).slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

/** The texts a Chat Completions request of the CLI sends: [role, text] of its user and assistant messages. */
export function clineCliConversation(body: { messages?: Array<{ role: string; content: unknown }> } | undefined): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const m of body?.messages ?? []) {
    if (m.role !== 'user' && m.role !== 'assistant') continue;
    const c = m.content;
    const text = typeof c === 'string' ? c : Array.isArray(c) ? c.map((p: { text?: unknown }) => (typeof p.text === 'string' ? p.text : '')).join('\n') : '';
    if (text) out.push([m.role, text]);
  }
  return out;
}
