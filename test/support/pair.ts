/**
 * `roam pair` between two test daemons: the inviter's `roam pair` in the background until it has
 * printed its code, and the whole exchange (the joiner's `roam pair <code>`), with what the CLI
 * contract promises of both sides checked on the way.
 */
import type { ChildProcess } from 'node:child_process';
import { expect } from 'vitest';
import { startRoam } from '../harness/cli.js';
import { until } from '../harness/poll.js';
import { makeDaemon, type DaemonHandle } from './daemons.js';

export interface Exit {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Invite {
  /** The first stdout line: the code (with --json, the code event). */
  readonly code: string;
  stdout(): string;
  stderr(): string;
  readonly proc: ChildProcess;
  /** Resolves when `roam pair` exits. */
  readonly exit: Promise<Exit>;
}

/** Runs `roam pair [args]` on `d` in the background until it printed its first stdout line; `track` hears the child (for cleanup). */
export async function invite(d: DaemonHandle, args: readonly string[], track: (c: ChildProcess) => void): Promise<Invite> {
  const run = startRoam(['pair', ...args], { env: d.env, timeoutMs: 180_000, onSpawn: track });
  const exit = run.done.then((r) => ({ status: r.code, stdout: r.stdout, stderr: r.stderr }));
  await until(() => run.stdout().includes('\n') || run.child.exitCode !== null, { timeoutMs: 15_000, what: `${d.name}'s roam pair to print a code`, detail: () => ({ stdout: run.stdout(), stderr: run.stderr() }) });
  if (!run.stdout().includes('\n')) throw new Error(`roam pair on ${d.name} printed no code: ${run.stderr()}`);
  return { code: run.stdout().split('\n')[0]!, stdout: run.stdout, stderr: run.stderr, proc: run.child, exit };
}

/**
 * `inviter` runs `roam pair`, `joiner` runs `roam pair <code>`: both exit 0, the joiner says whom
 * it paired with, and the inviter's stdout holds the code alone.
 */
export async function pair(inviter: DaemonHandle, joiner: DaemonHandle, track: (c: ChildProcess) => void): Promise<{ code: string; joiner: Exit; inviter: Exit }> {
  const inv = await invite(inviter, ['--timeout', '30'], track);
  const r = joiner.roam('pair', inv.code);
  expect(r.status, `roam pair <code> on ${joiner.name}: ${r.stderr}`).toBe(0);
  expect(r.stdout).toMatch(new RegExp(`^paired with ${inviter.name} \\(${inviter.peerId}\\)`));
  const done = await inv.exit;
  expect(done.status, done.stderr).toBe(0);
  expect(done.stdout).toBe(`${inv.code}\n`);
  return { code: inv.code, joiner: r, inviter: done };
}

/**
 * Devices that join by pairing (no ROAM_GROUP_KEY) and `pair` between them; `killAll` (in the
 * file's afterEach) ends every `roam pair` they started that is still running.
 */
export class Pairing {
  private readonly procs = new Set<ChildProcess>();
  readonly track = (c: ChildProcess): void => {
    this.procs.add(c);
  };

  device(name: string): DaemonHandle {
    return makeDaemon(name, { env: { ROAM_GROUP_KEY: '' } });
  }

  async pair(inviter: DaemonHandle, joiner: DaemonHandle): Promise<void> {
    await pair(inviter, joiner, this.track);
  }

  killAll(): void {
    for (const p of this.procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    this.procs.clear();
  }
}
