/**
 * Real `roamd` child processes for end-to-end tests: each with its own HOME and ROAM_HOME in a
 * temp dir, listening on 127.0.0.1 only, mDNS off unless asked. Every process a test starts is
 * stopped by `stopAll`, even when the test fails.
 */
import { type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runRoamSync } from '../harness/cli.js';
import { Roamd, type RoamdOptions } from '../harness/roamd.js';

export { ROAM, ROAMD } from '../harness/roamd.js';

/** A fixed group key for tests: every daemon started here joins the same group. */
export const TEST_GROUP_KEY = '5a'.repeat(32);

export interface DaemonHandle {
  readonly name: string;
  readonly home: string;
  readonly roamHome: string;
  /** The Claude Code projects folder (the `claude` folder roamd syncs). */
  readonly projects: string;
  readonly env: NodeJS.ProcessEnv;
  /** The current roamd process (after `start`) and everything it printed. */
  readonly proc: ChildProcess | null;
  readonly output: string;
  /** What roamd printed when it started (a test that gives it a new identity updates peerId). */
  peerId: string;
  addresses: string[];
  /** Runs `roam <args>` against this daemon. */
  roam(...args: string[]): { status: number | null; stdout: string; stderr: string };
  /** Starts roamd (after the handle's args: `extra`; `more`: where and how, e.g. in a network namespace). */
  start(extra?: string[], more?: Omit<RoamdOptions, 'name' | 'env' | 'args'>): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const started = new Set<Roamd>();
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
  let current: Roamd | null = null;
  const d: DaemonHandle = {
    name, home, roamHome, projects, env,
    get proc() {
      return current?.proc ?? null;
    },
    get output() {
      return current?.output ?? '';
    },
    peerId: '',
    addresses: [],
    roam: (...args) => {
      const r = runRoamSync(args, { env, timeoutMs: 120_000 });
      return { status: r.code, stdout: r.stdout, stderr: r.stderr };
    },
    start: async (extra = [], more = {}) => {
      current = Roamd.spawn({ startTimeoutMs: 20_000, ...more, name, env, args: [...(opts.args ?? []), ...extra] });
      started.add(current);
      await current.ready();
      d.peerId = current.peerId;
      d.addresses = current.addresses;
    },
    kill: async (signal = 'SIGTERM') => {
      await current?.kill(signal);
    },
  };
  return d;
}

/** Stops every daemon (SIGTERM, then SIGKILL after a grace period) and removes their dirs. */
export async function stopAll(): Promise<void> {
  await Promise.all([...started].map((r) => r.stop(10_000)));
  started.clear();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}
