/**
 * roamd end to end: real daemons as child processes on 127.0.0.1, each with its own HOME and
 * ROAM_HOME, real libp2p (TCP, Noise, Yamux, pnet through ROAM_GROUP_KEY), real folders, the real
 * `roam` CLI talking to them over the control socket.
 */
import { appendFileSync, copyFileSync, mkdirSync, openSync, closeSync, readFileSync, statSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../packages/core/test/support/poll.js';
import { readTree } from '../conformance/driver.js';
import { makeDaemon, stopAll, type DaemonHandle } from '../support/daemons.js';
import { asReplicated, type Tree } from '../support/tree.js';

afterEach(stopAll);

const SID = '1af7fc5e-8455-4414-9ccd-011d40f70b2a';
const FIXTURE = fileURLToPath(new URL(`../../examples/two-node/fixtures/${SID}.jsonl`, import.meta.url));

/** A Claude Code project as the CLI lays it out: a session, its sub-agent and tool results. */
function claudeProject(projects: string, key = '-home-alice-code-app'): string {
  const dir = join(projects, key);
  mkdirSync(join(dir, SID, 'subagents'), { recursive: true });
  mkdirSync(join(dir, SID, 'tool-results'), { recursive: true });
  copyFileSync(FIXTURE, join(dir, `${SID}.jsonl`));
  const agent = Array.from({ length: 40 }, (_, i) => JSON.stringify({ type: i % 2 ? 'assistant' : 'user', isSidechain: true, sessionId: SID, uuid: `a-${i}`, message: { content: 'x'.repeat(i * 10) } })).join('\n');
  writeFileSync(join(dir, SID, 'subagents', 'agent-a3f9c2e.jsonl'), `${agent}\n`);
  writeFileSync(join(dir, SID, 'subagents', 'agent-a3f9c2e.meta.json'), JSON.stringify({ agentType: 'general-purpose', description: 'look around' }));
  writeFileSync(join(dir, SID, 'tool-results', 'toolu_01.txt'), 'result line\n'.repeat(30_000));
  return dir;
}

const line = (i: number, pad = 200) => `${JSON.stringify({ type: 'user', uuid: `u-${i}`, sessionId: SID, message: { content: `line ${i} ${'.'.repeat(pad)}` } })}\n`;


async function sameTree(a: DaemonHandle, b: DaemonHandle, timeoutMs = 30_000): Promise<void> {
  // Whole entries, mtime and (owner) mode included: a receiver sets the mtime just after the content.
  const strip = (t: Tree) => asReplicated(t).map(({ path, type, size, sha256, mtimeMs, mode }) => ({ path, type, size, sha256, mtimeMs, mode }));
  let last: unknown;
  await until(
    async () => {
      const [ta, tb] = [strip(await readTree(a.projects)), strip(await readTree(b.projects))];
      last = { a: ta.length, b: tb.length, differ: ta.filter((x, i) => JSON.stringify(x) !== JSON.stringify(tb[i])).map((x) => x.path).slice(0, 5) };
      return JSON.stringify(ta) === JSON.stringify(tb);
    },
    { timeoutMs, everyMs: 50, what: `${b.name}'s folder to equal ${a.name}'s`, detail: () => last },
  );
}

describe('roamd', () => {
  it('replicates a real project folder, streams appends, and catches up after a SIGKILL', async () => {
    const a = makeDaemon('alpha');
    const b = makeDaemon('beta');
    const dir = claudeProject(a.projects);
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);
    await sameTree(a, b);
    // Byte-identical, mtimes and owner modes kept.
    const [ta, tb] = [asReplicated(await readTree(a.projects)), asReplicated(await readTree(b.projects))];
    expect(tb).toEqual(ta);

    const session = join(dir, `${SID}.jsonl`);
    for (let i = 0; i < 20; i++) appendFileSync(session, line(i));
    await sameTree(a, b);

    await b.kill('SIGKILL');
    for (let i = 20; i < 1020; i++) appendFileSync(session, line(i));
    await b.start(['--peer', a.addresses[0]!]);
    await sameTree(a, b);
    expect(readFileSync(join(b.projects, '-home-alice-code-app', `${SID}.jsonl`))).toEqual(readFileSync(session));

    for (const d of [a, b]) {
      await d.kill('SIGTERM');
      expect(d.proc!.exitCode).toBe(0);
      expect(d.output).toContain('roamd stopped');
    }
  });

  it('picks up every line of a quick burst from the watcher alone, no rescan asked', async () => {
    const a = makeDaemon('alpha');
    const b = makeDaemon('beta');
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);
    const file = join(a.projects, '-home-a', 'burst.jsonl');
    mkdirSync(dirname(file), { recursive: true });
    let expected = '';
    for (let i = 0; i < 12; i++) {
      expected += line(i, 50);
      appendFileSync(file, line(i, 50));
      await new Promise((r) => setTimeout(r, 15)); // a tool writing lines 15 ms apart, then stopping
    }
    const onB = join(b.projects, '-home-a', 'burst.jsonl');
    await until(() => { try { return readFileSync(onB, 'utf8') === expected; } catch { return false; } }, { timeoutMs: 5000, what: 'the whole burst on beta' });
  });

  it('picks up files written into directories created a moment before (a new project)', async () => {
    const a = makeDaemon('alpha');
    const b = makeDaemon('beta');
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);
    // As a tool starting projects: mkdir, then the first session file at once. A new directory is
    // watched only after its event arrives, so without a look into it some of these go unseen.
    for (let i = 0; i < 30; i++) {
      const dir = join(a.projects, `-home-a-new-${i}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'first.jsonl'), line(i));
    }
    await sameTree(a, b);
    expect((await readTree(b.projects)).filter((e) => e.type === 'file')).toHaveLength(30);
  });

  it('converges three daemons in a line (A-B-C, A and C never connected)', async () => {
    const a = makeDaemon('alpha');
    const b = makeDaemon('beta');
    const c = makeDaemon('gamma');
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);
    await c.start(['--peer', b.addresses[0]!]);
    const fromA = join(a.projects, '-home-a', 'from-a.jsonl');
    mkdirSync(dirname(fromA), { recursive: true });
    writeFileSync(fromA, line(1));
    const fromC = join(c.projects, '-home-c', 'from-c.jsonl');
    mkdirSync(dirname(fromC), { recursive: true });
    writeFileSync(fromC, line(2));
    await sameTree(a, c);
    await sameTree(a, b);
    const status = JSON.parse(a.roam('status', '--json').stdout) as { peers: Array<{ name: string; connected: boolean }> };
    expect(status.peers.filter((p) => p.connected).map((p) => p.name)).toEqual(['beta']);
  });

  it('keeps its connection through a 14 s stall of the peer (SIGSTOP) and syncs what was written meanwhile', async () => {
    const a = makeDaemon('alpha');
    const b = makeDaemon('beta');
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);
    await until(() => /syncing with/.test(a.output) && /syncing with/.test(b.output), { timeoutMs: 20_000, what: 'the sync stream' });
    const [markA, markB] = [a.output.length, b.output.length];
    const file = join(a.projects, '-home-a', 'during-stall.jsonl');
    mkdirSync(dirname(file), { recursive: true });
    b.proc!.kill('SIGSTOP');
    try {
      for (let i = 0; i < 20; i++) appendFileSync(file, line(i));
      // The stall itself: longer than libp2p's default ping timeout (5 s) plus its 10 s interval's worst case.
      await new Promise((r) => setTimeout(r, 14_000));
    } finally {
      b.proc!.kill('SIGCONT');
    }
    await sameTree(a, b);
    for (const out of [a.output.slice(markA), b.output.slice(markB)]) expect(out).not.toMatch(/disconnected from|sync with \S+ ended/);
  });

  it('roam sync --wait fails while connected to nobody, and returns only once the peer holds every byte', async () => {
    const a = makeDaemon('alpha');
    const b = makeDaemon('beta');
    const big = join(a.projects, '-home-a', 'big.jsonl');
    mkdirSync(dirname(big), { recursive: true });
    const chunk = Array.from({ length: 1000 }, (_, i) => line(i, 900)).join('');
    for (let i = 0; i < 40; i++) appendFileSync(big, chunk); // ~40 MB
    await a.start();

    const alone = a.roam('sync', '--wait', '--timeout', '1');
    expect(alone.status).toBe(1);
    expect(alone.stderr).toMatch(/^ROAM_SYNC_TIMEOUT: .*connected to no device/m);

    await b.start(['--peer', a.addresses[0]!]);
    const r = a.roam('sync', '--wait', '--timeout', '120');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/in sync with beta/);
    // Checked at once, no polling: when sync --wait said so, B held every byte.
    const onB = join(b.projects, '-home-a', 'big.jsonl');
    expect(statSync(onB).size).toBe(statSync(big).size);
    expect(readFileSync(onB).equals(readFileSync(big))).toBe(true);
  });

  it('sees a log rewritten in place to a greater length as a rewrite, not an append', async () => {
    const a = makeDaemon('alpha');
    const b = makeDaemon('beta');
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);
    const file = join(a.projects, '-home-a', 'r.jsonl');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, line(1) + line(2));
    expect(a.roam('sync', '--wait', '--timeout', '30').status).toBe(0);
    const ino = statSync(file).ino;
    const rewritten = line(7, 150) + line(8, 250) + line(9);
    const fd = openSync(file, 'r+');
    writeSync(fd, rewritten, 0);
    closeSync(fd);
    expect(statSync(file).ino).toBe(ino);
    expect(a.roam('sync', '--wait', '--timeout', '30').status).toBe(0);
    expect(readFileSync(join(b.projects, '-home-a', 'r.jsonl'), 'utf8')).toBe(rewritten);
    expect((await readTree(b.projects)).map((e) => e.path)).toEqual(['-home-a', '-home-a/r.jsonl']);
  });

  it('joins a folder Syncthing already kept identical with no transfer and no conflict; doctor warns', async () => {
    const a = makeDaemon('alpha');
    const b = makeDaemon('beta');
    const dirA = claudeProject(a.projects);
    const dirB = claudeProject(b.projects);
    for (let i = 0; i < 300; i++) {
      appendFileSync(join(dirA, `${SID}.jsonl`), line(i));
      appendFileSync(join(dirB, `${SID}.jsonl`), line(i));
    }
    // As Syncthing leaves them: same bytes, same mtimes, and its folder marker.
    const when = Math.floor(Date.now() / 1000) - 3600;
    for (const e of await readTree(a.projects)) {
      if (e.type === 'file') for (const root of [a.projects, b.projects]) utimesSync(join(root, e.path), when, when);
    }
    writeFileSync(join(a.projects, '.stfolder'), '');
    writeFileSync(join(b.projects, '.stfolder'), '');
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);
    expect(a.roam('sync', '--wait', '--timeout', '30').status).toBe(0);
    const total = (await readTree(a.projects)).reduce((n, e) => n + e.size, 0);
    for (const d of [a, b]) {
      const s = JSON.parse(d.roam('status', '--json').stdout) as { traffic: { bytesIn: number } };
      // Indexes only: a few hundred bytes per item, nothing like the 700 KB of content.
      expect(s.traffic.bytesIn).toBeLessThan(total / 20);
    }
    expect(await readTree(b.projects)).toEqual(await readTree(a.projects));
    const doctor = JSON.parse(a.roam('doctor', '--json').stdout) as { ok: boolean; checks: Array<{ check: string; level: string; detail: string }> };
    expect(doctor.checks.find((c) => c.check === 'folder claude')).toMatchObject({ level: 'warn', detail: expect.stringMatching(/Syncthing still shares/) });
    expect(doctor.checks.find((c) => c.check === 'devices')).toMatchObject({ level: 'ok', detail: 'connected to beta' });
  });

  it('syncs only the projects a device chose, and the rest once it asks for all', async () => {
    const a = makeDaemon('alpha');
    const b = makeDaemon('beta');
    for (const p of ['-home-a-work', '-home-a-scratch']) {
      mkdirSync(join(a.projects, p), { recursive: true });
      writeFileSync(join(a.projects, p, 's.jsonl'), line(1));
    }
    await b.start();
    // B chooses before it has seen any project: a name no device has shown is refused unless --force.
    expect(b.roam('projects', '--only', '-home-a-work').stderr).toMatch(/^ROAM_USAGE: no project .*--force/);
    const only = b.roam('projects', '--only', '-home-a-work', '--force');
    expect(only.status).toBe(0);
    await a.start(['--peer', b.addresses[0]!]);
    expect(a.roam('sync', '--wait', '--timeout', '30').status).toBe(0);
    expect(b.roam('sync', '--wait', '--timeout', '30').status).toBe(0);
    expect((await readTree(b.projects)).map((e) => e.path)).toEqual(['-home-a-work', '-home-a-work/s.jsonl']);
    const listed = JSON.parse(b.roam('projects', '--json').stdout) as Array<{ name: string; synced: boolean; onPeers: number }>;
    expect(listed.map((p) => [p.name, p.synced, p.onPeers])).toEqual([['-home-a-scratch', false, 1], ['-home-a-work', true, 1]]);
    expect(b.roam('projects', '--all').status).toBe(0);
    await sameTree(a, b);
  });

  it('applies an edited .roamignore at once, and tells the peer, so sync --wait still settles', async () => {
    const a = makeDaemon('alpha');
    const b = makeDaemon('beta');
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);
    writeFileSync(join(b.projects, '.roamignore'), '*.log\n');
    await until(() => b.output.includes('reloaded ignore rules'), { timeoutMs: 10_000, what: 'beta to reload its rules' });
    mkdirSync(join(a.projects, '-home-a'), { recursive: true });
    writeFileSync(join(a.projects, '-home-a', 'debug.log'), 'noise\n');
    writeFileSync(join(a.projects, '-home-a', 's.jsonl'), line(1));
    expect(a.roam('sync', '--wait', '--timeout', '30').status).toBe(0);
    expect((await readTree(b.projects)).filter((e) => e.type === 'file').map((e) => e.path)).toEqual(['-home-a/s.jsonl']);
  });

  it('answers roam commands with a clear error when no daemon runs', () => {
    const a = makeDaemon('alpha');
    const r = a.roam('status');
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^ROAM_NOT_RUNNING: roamd is not running/);
  });
});
