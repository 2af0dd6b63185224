/**
 * Real `roamd` child processes for end-to-end tests: each with its own HOME and ROAM_HOME in a
 * temp dir, listening on 127.0.0.1 only, mDNS off unless asked. Every process a test starts is
 * stopped by `stopAll`, even when the test fails.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { until } from '../../packages/core/test/support/poll.js';

const dist = fileURLToPath(new URL('../../packages/cli/dist/', import.meta.url));
export const ROAMD = join(dist, 'roamd.js');
export const ROAM = join(dist, 'roam.js');

/** A fixed group key for tests: every daemon started here joins the same group. */
export const TEST_GROUP_KEY = '5a'.repeat(32);

export interface DaemonHandle {
  readonly name: string;
  readonly home: string;
  readonly roamHome: string;
  /** The Claude Code projects folder (the `claude` folder roamd syncs). */
  readonly projects: string;
  readonly env: NodeJS.ProcessEnv;
  proc: ChildProcess | null;
  output: string;
  peerId: string;
  addresses: string[];
  /** Runs `roam <args>` against this daemon. */
  roam(...args: string[]): { status: number | null; stdout: string; stderr: string };
  start(extra?: string[]): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const started = new Set<DaemonHandle>();
const dirs: string[] = [];

/** `tools: false`: a fresh machine, none of the tools' folders exists (by default `~/.claude/projects` does). */
export function makeDaemon(name: string, opts: { env?: NodeJS.ProcessEnv; args?: string[]; tools?: boolean } = {}): DaemonHandle {
  const root = mkdtempSync(join(tmpdir(), `roam-e2e-${name}-`));
  dirs.push(root);
  const home = join(root, 'home');
  const roamHome = join(root, 'roam');
  const projects = join(home, '.claude', 'projects');
  mkdirSync(opts.tools === false ? home : projects, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    ROAM_HOME: roamHome,
    ROAM_GROUP_KEY: TEST_GROUP_KEY,
    ...opts.env,
  };
  const d: DaemonHandle = {
    name, home, roamHome, projects, env, proc: null, output: '', peerId: '', addresses: [],
    roam: (...args) => {
      const r = spawnSync(process.execPath, [ROAM, ...args], { env, encoding: 'utf8', timeout: 120_000 });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    start: async (extra = []) => {
      const args = ['--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns', '--name', name, ...(opts.args ?? []), ...extra];
      const proc = spawn(process.execPath, [ROAMD, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      d.proc = proc;
      d.output = '';
      proc.stdout!.setEncoding('utf8').on('data', (s: string) => (d.output += s));
      proc.stderr!.setEncoding('utf8').on('data', (s: string) => (d.output += s));
      started.add(d);
      await until(() => /listening on \S+/.test(d.output) || proc.exitCode !== null, { timeoutMs: 20_000, what: `roamd ${name} to start` });
      if (proc.exitCode !== null) throw new Error(`roamd ${name} exited with ${proc.exitCode}:\n${d.output}`);
      d.peerId = /peer id: (\S+)/.exec(d.output)![1]!;
      d.addresses = [...d.output.matchAll(/listening on (\S+)/g)].map((m) => m[1]!);
    },
    kill: async (signal = 'SIGTERM') => {
      const p = d.proc;
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill(signal);
      await exited;
    },
  };
  return d;
}

/** Stops every daemon (SIGTERM, then SIGKILL after a grace period) and removes their dirs. */
export async function stopAll(): Promise<void> {
  await Promise.all(
    [...started].map(async (d) => {
      const p = d.proc;
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill('SIGTERM');
      const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }),
  );
  started.clear();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}
