/**
 * Small things a newcomer trips on, with real roamd processes on 127.0.0.1 and the real `roam`
 * CLI: `projects --only` with a name that matches nothing, the verbs that only read local state
 * (logs, restore --list, map, projects) with roamd stopped, `rm` right after an import, and a
 * declined `rm` prompt.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runRoamSync } from '../harness/cli.js';
import { until } from '../../packages/core/test/support/poll.js';
import { claudeProjectKey } from '../support/claude.js';
import { ROAM, makeDaemon, stopAll, type DaemonHandle } from '../support/daemons.js';

const temps: string[] = [];
afterEach(async () => {
  await stopAll();
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});

const SID = '7e57ab1e-1111-4222-8333-944445555666';

const line = (id: string, cwd: string, i: number) =>
  `${JSON.stringify({ type: i % 2 ? 'assistant' : 'user', cwd, sessionId: id, uuid: `${id.slice(0, 8)}-${i}`, timestamp: new Date(Date.UTC(2026, 10, 1, 12, 0, i)).toISOString(), message: { role: i % 2 ? 'assistant' : 'user', content: `message ${i}` } })}\n`;

/** A Claude Code session of ~/code/app under `home`, written 10 minutes ago; returns the project's directory. */
function session(projects: string, home: string, id = SID): string {
  const cwd = join(home, 'code', 'app');
  mkdirSync(cwd, { recursive: true });
  const dir = join(projects, claudeProjectKey(realpathSync(cwd)));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${id}.jsonl`), Array.from({ length: 6 }, (_, i) => line(id, cwd, i)).join(''));
  return cwd;
}

function ok(r: { status: number | null; stdout: string; stderr: string }): string {
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

/** `roam` run in `cwd` against a daemon's environment. */
function roamIn(d: DaemonHandle, cwd: string, ...args: string[]) {
  const r = runRoamSync(args, { env: d.env, cwd, timeoutMs: 60_000 });
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
}

describe('newcomer', () => {
  it('projects --only refuses a name that matches nothing here or on a peer, and names what exists', async () => {
    const a = makeDaemon('alpha');
    const b = makeDaemon('beta');
    session(a.projects, a.home);
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);
    await until(() => /~\/code\/app/.test(b.roam('projects').stdout), { timeoutMs: 30_000, what: "beta to learn of alpha's project" });
    const typo = b.roam('projects', '--only', '~/code/ap');
    expect(typo.status).toBe(2);
    expect(typo.stderr).toMatch(/^ROAM_USAGE: no project "~\/code\/ap" in folder claude here or on the devices roamd has seen; it has: ~\/code\/app; to choose a project no device has shown yet \(before the first sync\), add --force\n$/);
    expect(existsSync(join(b.roamHome, 'config.json'))).toBe(false);
    // A project only the peer holds is a real name.
    ok(b.roam('projects', '--only', '~/code/app'));
    expect(JSON.parse(readFileSync(join(b.roamHome, 'config.json'), 'utf8'))).toEqual({ only: { claude: ['~code%2Fapp'] } });
  });

  it('logs, restore --list, map and projects read local state when roamd is not running, and say so', async () => {
    const a = makeDaemon('alpha');
    session(a.projects, a.home);
    const other = '7e57ab1e-2222-4222-8333-944445555666';
    session(a.projects, a.home, other);
    await a.start();
    await until(() => /7e57ab1e-2222/.test(a.roam('rm', other, '--dry-run').stdout), { timeoutMs: 20_000, what: 'roamd to index the session' });
    ok(a.roam('rm', other, '--yes'));
    const trashOnline = JSON.parse(ok(a.roam('restore', '--list', '--json'))) as Array<{ id: string; session: string }>;
    expect(trashOnline.map((e) => e.session)).toEqual([other]);
    const mapOnline = JSON.parse(ok(a.roam('map', '--json'))) as unknown[];
    const projectsOnline = JSON.parse(ok(a.roam('projects', '--json'))) as Array<{ folder: string; name: string; here: number }>;
    await a.kill();

    const log = join(a.roamHome, 'state', 'roamd.log');
    const logs = a.roam('logs');
    expect(ok(logs)).toMatch(/ roamd stopped\n$/);
    expect(logs.stdout).toContain(`roam rm ${other}`);
    expect(logs.stderr).toBe(`roam: roamd's log: ${log}\n`);
    const records = ok(a.roam('logs', '--json', '-n', '2')).trimEnd().split('\n').map((l) => JSON.parse(l) as { time: string; message: string });
    expect(records).toHaveLength(2);
    expect(records[1]).toEqual({ time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), message: 'roamd stopped' });

    const trash = a.roam('restore', '--list', '--json');
    expect(JSON.parse(ok(trash))).toEqual(trashOnline);
    expect(trash.stderr).toMatch(/roamd is not running/);
    const map = a.roam('map', '--json');
    expect(JSON.parse(ok(map))).toEqual(mapOnline);
    expect(map.stderr).toMatch(/roamd is not running/);
    const projects = a.roam('projects', '--json');
    const rows = JSON.parse(ok(projects)) as Array<{ folder: string; name: string; here: number; onPeers: number | null }>;
    expect(rows.map((r) => ({ folder: r.folder, name: r.name, here: r.here }))).toEqual(projectsOnline.map((r) => ({ folder: r.folder, name: r.name, here: r.here })));
    expect(rows.every((r) => r.onPeers === null)).toBe(true);
    expect(projects.stderr).toMatch(/roamd is not running/);
    // --only checks against what is on this disk, and is saved for roamd to apply.
    expect(a.roam('projects', '--only', '~/code/nope').status).toBe(2);
    const saved = a.roam('projects', '--only', '~/code/app');
    expect(saved.status, saved.stderr).toBe(0);
    expect(saved.stderr).toMatch(/applies it when it starts/);
  });

  it('doctor reports a corrupt config.json while roamd runs, measures clocks by round trips, and checks only current devices', async () => {
    const a = makeDaemon('alpha');
    const b = makeDaemon('beta');
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);
    await until(() => (JSON.parse(a.roam('status', '--json').stdout) as { peers: { name: string; connected: boolean }[] }).peers.some((p) => p.name === 'beta' && p.connected), { timeoutMs: 30_000, what: 'alpha to connect to beta' });
    // A device no longer in the group left its shared state behind, written 13 s before it arrived here.
    const shared = join(a.roamHome, 'state', 'shared');
    mkdirSync(shared, { recursive: true });
    writeFileSync(join(shared, 'GONEGONE.json'), JSON.stringify({ v: 1, device: 'GONEGONE', name: 'gone', updatedAt: Date.now() - 13_000, leases: [], projects: {} }));
    writeFileSync(join(a.roamHome, 'config.json'), '{ "only": ');
    const r = a.roam('doctor', '--json');
    expect(r.status).toBe(1);
    const { checks } = JSON.parse(r.stdout) as { checks: { check: string; level: string; detail: string }[] };
    expect(checks.find((c) => c.check === 'daemon')?.level).toBe('ok');
    expect(checks.find((c) => c.check === 'config')).toMatchObject({ level: 'error', detail: expect.stringMatching(/config\.json is not valid JSON/) });
    expect(checks.filter((c) => /gone/.test(c.check))).toEqual([]);
    // Two daemons on one host share a clock: the round trip says so.
    expect(checks.find((c) => c.check === 'clock beta')).toMatchObject({ level: 'ok', detail: expect.stringMatching(/^within \d+ ms \(± \d+ ms\) of this one$/) });
    expect(r.stderr).toBe('ROAM_DOCTOR: doctor found problems (see above)\n');
  });

  it('rm right after an import: nothing is writing it; a declined prompt removes nothing and is no usage error', async () => {
    // The bundle: a session shared from another machine (no daemon needed).
    const src = mkdtempSync(join(tmpdir(), 'roam-e2e-src-'));
    temps.push(src);
    const srcHome = join(src, 'home');
    const srcCwd = session(join(srcHome, '.claude', 'projects'), srcHome);
    const bundle = join(src, 'bundle.json.gz');
    const shared = runRoamSync(['share', SID, '--out', bundle], { cwd: srcCwd, env: { PATH: process.env.PATH, HOME: srcHome, ROAM_HOME: join(src, 'roam') } });
    expect(shared.code, shared.stderr).toBe(0);

    const a = makeDaemon('alpha');
    await a.start();
    const cwd = join(a.home, 'code', 'app');
    mkdirSync(cwd, { recursive: true });
    ok(roamIn(a, cwd, 'import', bundle));
    ok(a.roam('sync')); // roamd looks at the disk now: the imported file is known to it
    const dry = roamIn(a, cwd, 'rm', SID, '--dry-run');
    expect(dry.stderr).toBe('');
    expect(dry.status).toBe(0);
    expect(dry.stdout).toMatch(new RegExp(`^would remove session ${SID} \\(claude\\) on every device: 1 file`));

    if (spawnSync('script', ['--version']).status === 0) {
      const quote = (x: string) => `'${x.replace(/'/g, `'\\''`)}'`;
      const tty = spawnSync('script', ['-qfec', [process.execPath, ROAM, 'rm', SID].map(quote).join(' '), '/dev/null'], { cwd, env: a.env, input: 'n\n', encoding: 'utf8', timeout: 60_000 });
      expect(tty.stdout).toContain(`Delete session ${SID} on every device? [y/N]`);
      expect(tty.stdout).toContain(`ROAM_DECLINED: nothing removed: session ${SID} stays on every device`);
      expect(tty.status).toBe(1);
      expect(existsSync(join(a.projects, claudeProjectKey(realpathSync(cwd)), `${SID}.jsonl`))).toBe(true);
    }
  });
});
