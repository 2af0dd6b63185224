/**
 * Installing roam as a new user does: `npm run pack` writes one tarball, `npm i -g` installs it into
 * a temporary global prefix with no network (`--offline`: the tarball carries its dependencies),
 * and two roamd started from that prefix (PATH: the prefix's bin and node's directory only, cwd and
 * HOME outside the checkout) sync a Claude Code session. `npm pack --dry-run` of the tarball lists
 * only what belongs, and the installed roamd runs with the node flag of its shebang. Every process
 * and directory it makes is removed, even on failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../packages/core/test/support/poll.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const cli = JSON.parse(readFileSync(join(repo, 'packages/cli/package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };
const children = new Set<ChildProcess>();

interface Done {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command to its end (killed, with its process group, after timeoutMs). */
function run(cmd: string, args: readonly string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<Done> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args], { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => killGroup(child), opts.timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** The environment npm runs with here, without what the npm running this test exported for its own project. */
function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_package_|npm_lifecycle_|INIT_CWD$)|^npm_config_(local_prefix|prefix|global_prefix|global|workspaces?|include_workspace_root)$/i.test(k)) continue;
    env[k] = v;
  }
  return env;
}

/** The built .js of each source file under packages/<pkg>/src, as the package lists them. */
function built(pkg: string, prefix: string, skip: readonly string[] = []): string[] {
  const src = join(repo, 'packages', pkg, 'src');
  return readdirSync(src, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => relative(src, join(e.parentPath, e.name)))
    .filter((f) => !skip.some((s) => f.startsWith(s)))
    .map((f) => `${prefix}dist/${f.replace(/\.ts$/, '.js')}`)
    .sort();
}

interface Daemon {
  name: string;
  home: string;
  env: NodeJS.ProcessEnv;
  proc: ChildProcess;
  output: string;
  address: string;
}

describe('roam installed from its tarball', () => {
  let root: string;
  let tarball: string;
  let prefix: string;
  const daemons: Daemon[] = [];

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'roam-install-'));
    prefix = join(root, 'prefix');
  });
  afterAll(async () => {
    await Promise.all(
      daemons.map(async (d) => {
        if (d.proc.exitCode !== null || d.proc.signalCode !== null) return;
        const exited = new Promise<void>((r) => d.proc.once('exit', () => r()));
        d.proc.kill('SIGTERM');
        const timer = setTimeout(() => killGroup(d.proc), 10_000);
        await exited;
        clearTimeout(timer);
      }),
    );
    for (const c of children) killGroup(c);
    rmSync(root, { recursive: true, force: true });
  });

  it('npm run pack writes one tarball, which installs offline into a global prefix and lists only what belongs', async () => {
    const packed = await run('npm', ['run', 'pack', '--', '--out-dir', join(root, 'out')], { cwd: repo, env: npmEnv(), timeoutMs: 240_000 });
    expect(packed.code, packed.stderr + packed.stdout).toBe(0);
    expect(readdirSync(join(root, 'out'))).toEqual([`roam-${cli.version}.tgz`]);
    tarball = packed.stdout.trim().split('\n').at(-1)!;
    expect(tarball).toBe(join(root, 'out', `roam-${cli.version}.tgz`));

    // The install and the listing are independent: run them side by side, from outside the checkout.
    const [installed, listed] = await Promise.all([
      run('npm', ['i', '-g', '--prefix', prefix, tarball, '--offline', '--no-audit', '--no-fund'], { cwd: root, env: npmEnv(), timeoutMs: 240_000 }),
      run('npm', ['pack', '--dry-run', '--json', '--offline', tarball], { cwd: root, env: npmEnv(), timeoutMs: 240_000 }),
    ]);
    console.log(`pack ${packed.ms} ms, install ${installed.ms} ms, pack --dry-run ${listed.ms} ms`);
    expect(installed.code, installed.stderr).toBe(0);
    expect(listed.code, listed.stderr).toBe(0);

    const [manifest] = JSON.parse(listed.stdout) as { name: string; files: { path: string }[]; bundled: string[] }[];
    const files = manifest!.files.map((f) => f.path).sort();
    const ours = files.filter((f) => !f.startsWith('node_modules/'));
    expect(ours).toEqual(['LICENSE', 'README.md', ...built('cli', ''), 'package.json'].sort());
    expect(files.filter((f) => f.startsWith('node_modules/@roam/core/'))).toEqual(
      ['LICENSE', 'package.json', ...built('core', '', ['testing/'])].map((f) => `node_modules/@roam/core/${f}`).sort(),
    );
    // Every dependency is bundled, and nothing else sits under node_modules/.
    expect(manifest!.bundled).toEqual(expect.arrayContaining(Object.keys(cli.dependencies)));
    const top = (f: string) => f.split('/').slice(1, f.split('/')[1]!.startsWith('@') ? 3 : 2).join('/');
    expect(files.filter((f) => f.startsWith('node_modules/') && !manifest!.bundled.includes(top(f)))).toEqual([]);
    // No tests, sources, declarations, source maps or build info anywhere.
    expect(files.filter((f) => /\.(ts|mts|cts|map|tsbuildinfo)$/.test(f) || /^(dist\/)?(src|test)\//.test(f))).toEqual([]);
    expect(readFileSync(join(prefix, 'lib/node_modules/roam/README.md'), 'utf8')).toBe(readFileSync(join(repo, 'README.md'), 'utf8'));
    expect(readFileSync(join(prefix, 'lib/node_modules/roam/LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} the roam authors\n/);
    // Installed as files in the prefix, not as links into the checkout.
    for (const bin of ['roam', 'roamd']) expect(realpathSync(join(prefix, 'bin', bin)).startsWith(realpathSync(prefix))).toBe(true);
  }, 600_000);

  it('two roamd from the prefix sync a Claude Code session, with no checkout on the PATH', async () => {
    expect(existsSync(join(prefix, 'bin', 'roamd')), 'the install above failed').toBe(true);
    const PATH = [join(prefix, 'bin'), dirname(process.execPath)].join(delimiter);
    const groupKey = randomBytes(32).toString('hex');
    const start = async (name: string, extra: string[]): Promise<Daemon> => {
      const home = join(root, name, 'home');
      mkdirSync(join(home, '.claude', 'projects'), { recursive: true });
      const env: NodeJS.ProcessEnv = { PATH, HOME: home, ROAM_HOME: join(root, name, 'roam'), ROAM_GROUP_KEY: groupKey };
      const args = ['--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns', '--name', name, ...extra];
      const proc = spawn('roamd', args, { cwd: home, env, stdio: ['ignore', 'pipe', 'pipe'] });
      const d: Daemon = { name, home, env, proc, output: '', address: '' };
      daemons.push(d);
      proc.stdout!.setEncoding('utf8').on('data', (s: string) => (d.output += s));
      proc.stderr!.setEncoding('utf8').on('data', (s: string) => (d.output += s));
      await until(() => /listening on \S+/.test(d.output) || proc.exitCode !== null, { timeoutMs: 30_000, what: `roamd ${name} to start`, detail: () => d.output });
      expect(proc.exitCode, d.output).toBeNull();
      d.address = /listening on (\S+)/.exec(d.output)![1]!;
      return d;
    };
    const roam = (d: Daemon, ...args: string[]) => run('roam', args, { cwd: d.home, env: d.env, timeoutMs: 90_000 });

    const a = await start('alpha', []);
    const b = await start('beta', ['--peer', a.address]);
    if (existsSync(`/proc/${a.proc.pid}/cmdline`)) {
      // The bin's `#!/usr/bin/env -S node --max-semi-space-size=4` reached node through npm's link.
      const argv = readFileSync(`/proc/${a.proc.pid}/cmdline`, 'utf8').split('\0');
      expect(argv.slice(1, 3)).toEqual(['--max-semi-space-size=4', join(prefix, 'bin', 'roamd')]);
    }
    expect((await roam(a, '--version')).stdout.trim()).toBe(cli.version);

    const sid = '0f8e2b1c-7d4a-4c3e-9b6f-5a2d1e0c9b8a';
    const cwd = join(a.home, 'code', 'app');
    const dir = join(a.home, '.claude', 'projects', cwd.replace(/[^a-zA-Z0-9]/g, '-'));
    mkdirSync(dir, { recursive: true });
    const lines = Array.from({ length: 20 }, (_, i) =>
      JSON.stringify({ type: i % 2 ? 'assistant' : 'user', uuid: `u-${i}`, sessionId: sid, cwd, timestamp: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(), message: { content: `line ${i}` } }),
    );
    const bytes = `${lines.join('\n')}\n`;
    writeFileSync(join(dir, `${sid}.jsonl`), bytes);

    // B keeps the session under its own project key: look for it by name.
    const onB = () => {
      const projects = join(b.home, '.claude', 'projects');
      for (const k of readdirSync(projects)) {
        const f = join(projects, k, `${sid}.jsonl`);
        if (existsSync(f)) return f;
      }
      return undefined;
    };
    const t0 = Date.now();
    await until(() => { const f = onB(); return f !== undefined && readFileSync(f, 'utf8') === bytes; }, { timeoutMs: 60_000, everyMs: 50, what: 'the session on beta', detail: () => ({ a: a.output, b: b.output }) });
    console.log(`session on beta after ${Date.now() - t0} ms`);
    for (const d of [a, b]) {
      const synced = await roam(d, 'sync', '--wait', '--timeout', '60');
      expect(synced.code, `${d.name}: ${synced.stdout}${synced.stderr}`).toBe(0);
    }
  }, 180_000);
});
