/**
 * The control socket lives in a directory only this user can enter: another uid can neither reach
 * roamd's socket nor put one in its place, a predictable name squatted in /tmp no longer matters,
 * and `roam` refuses a socket or directory it does not own. Runs as root and plays the other user
 * with a child process of uid 65534 (nobody).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../packages/core/test/support/poll.js';
import { makeDaemon, stopAll, ROAM, type DaemonHandle } from '../support/daemons.js';

const NOBODY = 65534;
const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const cleanup: Array<() => void> = [];

afterEach(async () => {
  await stopAll();
  for (const f of cleanup.splice(0)) f();
});

/** Runs `script` as uid nobody; returns what it printed. */
function asNobody(script: string): string {
  const r = spawnSync(process.execPath, ['-e', script], { uid: NOBODY, gid: NOBODY, encoding: 'utf8', timeout: 20_000, cwd: '/' });
  return r.stdout.trim() || r.stderr.trim();
}

const tryConnect = (path: string) =>
  asNobody(`require('net').createConnection(${JSON.stringify(path)}).on('connect', () => { console.log('connected'); process.exit(0) }).on('error', (e) => { console.log(e.code); process.exit(0) })`);
const tryPlant = (path: string) =>
  asNobody(`require('net').createServer().on('error', (e) => { console.log(e.code); process.exit(0) }).listen(${JSON.stringify(path)}, () => { console.log('planted'); process.exit(0) })`);

/** A squatter of uid nobody listening on `path`, answering every line with a fake status. */
async function squat(path: string): Promise<void> {
  const script = `const s = require('net').createServer((c) => c.on('data', (b) => { const id = JSON.parse(String(b).split('\\n')[0]).id; c.write(JSON.stringify({ v: 1, id, ok: true, result: { squatter: true } }) + '\\n') })); s.listen(${JSON.stringify(path)}, () => console.log('listening'))`;
  const p = spawn(process.execPath, ['-e', script], { uid: NOBODY, gid: NOBODY, stdio: ['ignore', 'pipe', 'pipe'], cwd: '/' });
  let out = '';
  p.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  p.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
  cleanup.push(() => {
    p.kill('SIGKILL');
    rmSync(path, { force: true });
  });
  await until(() => out.includes('listening') || p.exitCode !== null, { timeoutMs: 10_000, what: 'the squatter to listen' });
  expect(out).toContain('listening');
}

/** Gives `d` a ROAM_HOME whose `roamd.sock` would pass the socket length limit (inside its temp root, removed with it). */
function longRoamHome(d: DaemonHandle): string {
  const dir = join(dirname(d.home), 'x'.repeat(60), 'y'.repeat(60), 'roam');
  d.env.ROAM_HOME = dir;
  return dir;
}

describe.skipIf(!asRoot)('control socket', () => {
  it('another uid can neither connect to roamd nor plant a socket beside it', async () => {
    const a = makeDaemon('sock-a');
    chmodSync(dirname(a.home), 0o755); // the temp root open like a home directory: roam's own directory is the guard
    await a.start();
    const socket = join(a.roamHome, 'roamd.sock');
    expect(lstatSync(socket).isSocket()).toBe(true);
    expect(lstatSync(a.roamHome).mode & 0o777).toBe(0o700);
    expect(tryConnect(socket)).toBe('EACCES');
    expect(tryPlant(join(a.roamHome, 'other.sock'))).toBe('EACCES');
    expect(a.roam('status', '--json').status).toBe(0);
  }, 60_000);

  it('a squatted predictable name in /tmp no longer matters: roamd starts in a random private directory and roam status reaches it', async () => {
    const b = makeDaemon('sock-b');
    const roamHome = longRoamHome(b);
    chmodSync(dirname(b.home), 0o755);
    mkdirSync(dirname(roamHome), { recursive: true });
    const predictable = join(tmpdir(), `roam-${createHash('sha256').update(roamHome).digest('hex').slice(0, 16)}.sock`);
    await squat(predictable);
    await b.start();
    const status = b.roam('status', '--json');
    expect(status.stderr).toBe('');
    expect(JSON.parse(status.stdout)).toMatchObject({ peerId: b.peerId });
    const dir = readFileSync(join(roamHome, 'control-dir'), 'utf8').trim();
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    expect(dir.startsWith(join(tmpdir(), 'roam-'))).toBe(true);
    const st = lstatSync(dir);
    expect(st.isDirectory() && !st.isSymbolicLink()).toBe(true);
    expect(st.mode & 0o777).toBe(0o700);
    expect(tryConnect(join(dir, 'roamd.sock'))).toBe('EACCES');
    expect(tryPlant(join(dir, 'other.sock'))).toBe('EACCES');
  }, 60_000);

  it('roam refuses a socket directory another user owns, naming the path and the owner; roamd replaces it', async () => {
    const d = makeDaemon('sock-c');
    const roamHome = longRoamHome(d);
    mkdirSync(roamHome, { recursive: true, mode: 0o700 });
    // Another user's directory recorded as the control directory, with their socket in it.
    const theirs = mkdtempSync(join(tmpdir(), 'roam-theirs-'));
    cleanup.push(() => rmSync(theirs, { recursive: true, force: true }));
    chownSync(theirs, NOBODY, NOBODY);
    writeFileSync(join(roamHome, 'control-dir'), `${theirs}\n`);
    await squat(join(theirs, 'roamd.sock'));
    const r = spawnSync(process.execPath, [ROAM, 'status', '--json'], { env: d.env, encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stdout).not.toContain('squatter');
    expect(r.stderr).toContain('ROAM_CONTROL_UNSAFE');
    expect(r.stderr).toContain(theirs);
    expect(r.stderr).toContain(`uid ${NOBODY}`);
    // roamd does not listen there either: it makes its own directory and records it.
    await d.start();
    const dir = readFileSync(join(roamHome, 'control-dir'), 'utf8').trim();
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    expect(dir).not.toBe(theirs);
    expect(JSON.parse(d.roam('status', '--json').stdout)).toMatchObject({ peerId: d.peerId });
  }, 60_000);

  it('without a daemon, roam does not talk to a squatter on the predictable name', async () => {
    const e = makeDaemon('sock-e');
    const roamHome = longRoamHome(e);
    mkdirSync(roamHome, { recursive: true, mode: 0o700 });
    const predictable = join(tmpdir(), `roam-${createHash('sha256').update(roamHome).digest('hex').slice(0, 16)}.sock`);
    await squat(predictable);
    const r = spawnSync(process.execPath, [ROAM, 'status', '--json'], { env: e.env, encoding: 'utf8', timeout: 30_000 });
    expect(r.stdout).not.toContain('squatter');
    expect(r.stderr).toContain('ROAM_NOT_RUNNING');
    expect(r.status).toBe(1);
  }, 60_000);
});
