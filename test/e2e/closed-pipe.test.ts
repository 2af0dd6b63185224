/**
 * `roam status | head -1`: output into a pipe whose reader has gone ends roam quietly with exit 0,
 * as Unix tools end, with no stack trace. Each verb runs as a real child process whose stdout is a
 * pipe that the test closes before the child writes, so its first write meets EPIPE.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROAM, makeDaemon, stopAll, type DaemonHandle } from '../support/daemons.js';
import { claudeProjectKey } from '../support/claude.js';

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `roam <args>`; with `closed`, the read end of its stdout is closed before it can write. */
function roam(d: DaemonHandle, args: readonly string[], closed: boolean): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ROAM, ...args], { cwd: d.home, env: d.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    if (closed) child.stdout.destroy();
    else child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const verbs: readonly (readonly string[])[] = [['status'], ['list', '--json'], ['logs'], ['search', 'zebracorn'], ['doctor']];

describe('output into a closed pipe', () => {
  let d: DaemonHandle;
  beforeAll(async () => {
    d = makeDaemon('pipe');
    const dir = join(d.projects, claudeProjectKey(d.home));
    mkdirSync(dir, { recursive: true });
    const sid = '6c1f4f8e-3a57-4d0e-9a41-7f3d2b9c0a11';
    const lines = Array.from({ length: 50 }, (_, i) =>
      JSON.stringify({ type: i % 2 ? 'assistant' : 'user', uuid: `u-${i}`, sessionId: sid, cwd: d.home, timestamp: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(), message: { role: i % 2 ? 'assistant' : 'user', content: `zebracorn line ${i}` } }),
    );
    writeFileSync(join(dir, `${sid}.jsonl`), `${lines.join('\n')}\n`);
    await d.start();
  });
  afterAll(stopAll);

  it.each(verbs)('roam %s writes to stdout when someone reads it', async (...args) => {
    const r = await roam(d, args, false);
    expect(r.stdout.length, `roam ${args.join(' ')}: ${r.stderr}`).toBeGreaterThan(0);
  });

  it.each(verbs)('roam %s into a closed pipe ends with exit 0 and says nothing', async (...args) => {
    const r = await roam(d, args, true);
    // `roam logs` says where the log file is, on stderr; nothing else may be said.
    const said = r.stderr.replace(/^roam: roamd's log: .*\n/, '');
    expect({ code: r.code, signal: r.signal, stderr: said }).toEqual({ code: 0, signal: null, stderr: '' });
  });
});
