/**
 * Leaving and pairing again, refusals told on both sides, and what `roam pair`, `roam unpair` and
 * `roam leave` print (human and --json): real roamd processes on 127.0.0.1 pairing for real (no
 * ROAM_GROUP_KEY), the real `roam` CLI.
 */
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../packages/core/test/support/poll.js';
import type { DeviceInfo } from '../../packages/cli/src/control/pairing.js';
import { decodeCode, encodeCode } from '../../packages/cli/src/machine/pair-code.js';
import { readTree } from '../conformance/driver.js';
import { makeDaemon, stopAll, type DaemonHandle } from '../support/daemons.js';
import { invite as inviteOn, pair as pairOn, type Invite } from '../support/pair.js';

const procs = new Set<ChildProcess>();

afterEach(async () => {
  await Promise.all(
    [...procs].map(async (p) => {
      if (p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill('SIGKILL');
      await exited;
    }),
  );
  procs.clear();
  await stopAll();
});

/** A daemon without ROAM_GROUP_KEY: it pairs for real. */
const device = (name: string): DaemonHandle => makeDaemon(name, { env: { ROAM_GROUP_KEY: '' } });

/** `roam pair [args]` in the background until it printed its first stdout line (`.code`). */
const invite = (d: DaemonHandle, ...args: string[]): Promise<Invite> => inviteOn(d, args, (c) => procs.add(c));
const pair = async (inviter: DaemonHandle, joiner: DaemonHandle): Promise<void> => {
  await pairOn(inviter, joiner, (c) => procs.add(c));
};

function devicesOf(d: DaemonHandle): DeviceInfo[] {
  const r = d.roam('devices', '--json');
  if (r.status !== 0) throw new Error(`roam devices on ${d.name}: ${r.stderr}`);
  return JSON.parse(r.stdout) as DeviceInfo[];
}

const statusOf = (d: DaemonHandle): { peerId: string } => JSON.parse(d.roam('status', '--json').stdout) as { peerId: string };

const logOf = (d: DaemonHandle): string => {
  const file = join(d.roamHome, 'state', 'roamd.log');
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
};

const line = (i: number) => `${JSON.stringify({ type: 'user', uuid: `r-${i}`, message: { content: `line ${i} ${'.'.repeat(100)}` } })}\n`;

function session(d: DaemonHandle, name: string): string {
  const file = join(d.projects, '-home-me-app', name);
  mkdirSync(dirname(file), { recursive: true });
  for (let i = 0; i < 3; i++) appendFileSync(file, line(i));
  return file;
}

async function sameTree(a: DaemonHandle, b: DaemonHandle): Promise<void> {
  const view = async (d: DaemonHandle) => JSON.stringify((await readTree(d.projects)).map(({ path, size, sha256 }) => ({ path, size, sha256 })));
  await until(async () => (await view(a)) === (await view(b)), {
    timeoutMs: 20_000, everyMs: 50, what: `${b.name}'s folder to equal ${a.name}'s`, detail: () => ({ a: logOf(a).slice(-1500), b: logOf(b).slice(-1500) }),
  });
}

interface GroupLog {
  log: Array<{ op: 'add' | 'remove'; peer: string; by: string }>;
}

describe('leave, then pair again', () => {
  it('A pairs B; B leaves and takes a new identity (roamd runs with it at once); B pairs again with a new code: A lists the new id, the old one stays removed, sync goes on', async () => {
    const [a, b] = [device('alpha'), device('beta')];
    await Promise.all([a.start(), b.start()]);
    await pair(a, b);
    const oldB = b.peerId;
    const file = session(a, 's.jsonl');
    await sameTree(a, b);

    const left = b.roam('leave', '--json');
    expect(left.status, left.stderr).toBe(0);
    const lj = JSON.parse(left.stdout) as { left: boolean; members: number; previousPeerId: string; peerId: string; restarted: boolean };
    expect(lj).toMatchObject({ left: true, members: 1, previousPeerId: oldB, restarted: true });
    expect(lj.peerId).toMatch(/^12D3Koo/);
    expect(lj.peerId).not.toBe(oldB);
    // When `roam leave` returns, roamd already runs as the new identity.
    expect(statusOf(b).peerId).toBe(lj.peerId);
    b.peerId = lj.peerId;
    await until(() => devicesOf(a).length === 1, { timeoutMs: 10_000, everyMs: 100, what: 'alpha to drop beta' });

    await pair(a, b);
    await until(() => devicesOf(a).find((x) => x.peerId === b.peerId)?.connected === true, { timeoutMs: 15_000, everyMs: 100, what: 'alpha to reach the new beta' });
    const ids = devicesOf(a).map((x) => x.peerId).sort();
    expect(ids).toEqual([a.peerId, b.peerId].sort());
    expect(ids).not.toContain(oldB);
    // The old identity stays removed for good, in alpha's log and on the new beta's too.
    for (const d of [a, b]) {
      const g = JSON.parse(readFileSync(join(d.roamHome, 'group.json'), 'utf8')) as GroupLog;
      expect(g.log.some((e) => e.op === 'remove' && e.peer === oldB && e.by === oldB), d.name).toBe(true);
      expect(g.log.some((e) => e.op === 'add' && e.peer === b.peerId), d.name).toBe(true);
    }
    expect(a.roam('unpair', oldB).stderr).toMatch(/^ROAM_UNKNOWN_DEVICE: .*was removed from the group already/);
    appendFileSync(file, line(50));
    session(b, 'from-new-b.jsonl');
    await sameTree(a, b);
  });

  it('a removed device that tries to join is refused, and both sides print the cause and the fix; after `roam leave` the same code lets it in', async () => {
    const [a, b] = [device('alpha'), device('beta')];
    await Promise.all([a.start(), b.start()]);
    await pair(a, b);
    const oldB = b.peerId;
    expect(a.roam('unpair', 'beta').status).toBe(0);
    await until(() => /this device was removed from the group by alpha/.test(logOf(b)), { timeoutMs: 10_000, what: 'beta to learn its removal', detail: () => logOf(b).slice(-1500) });

    const inv = await invite(a, '--timeout', '60');
    const refused = b.roam('pair', inv.code);
    expect(refused.status).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(
      new RegExp(`^ROAM_PAIR_REFUSED: alpha refused this device: its identity \\(${oldB}\\) was removed from the group on \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC by alpha.*run \`roam leave\` on this device`),
    );
    await until(() => new RegExp(`beta \\(${oldB}\\) tried to join but was removed from the group on \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC by alpha.*\`roam leave\` on beta`).test(inv.stderr()), {
      timeoutMs: 10_000, what: "alpha's roam pair to say why beta was refused", detail: () => inv.stderr(),
    });
    // The code is not used up by a refusal: the fix, then the same code.
    const left = b.roam('leave');
    expect(left.status, left.stderr).toBe(0);
    expect(left.stdout).toMatch(/new identity/);
    const newB = statusOf(b).peerId;
    expect(newB).not.toBe(oldB);
    const ok = b.roam('pair', inv.code);
    expect(ok.status, ok.stderr).toBe(0);
    const done = await inv.exit;
    expect(done.status, done.stderr).toBe(0);
    expect(done.stderr).toContain(`paired with beta (${newB})`);
    expect(devicesOf(a).map((x) => x.peerId).sort()).toEqual([a.peerId, newB].sort());
  });
});

describe('what pair, unpair and leave print', () => {
  it('pair shows what it waits for and the time left on stderr (stdout: the code alone), says that sync started; --json on pair (both sides), unpair and leave', async () => {
    const [a, b, c] = [device('alpha'), device('beta'), device('gamma')];
    await Promise.all([a.start(), b.start(), c.start()]);

    // Human: the code alone on stdout; waiting and time left on stderr.
    const human = await invite(a, '--timeout', '40');
    expect(human.code).toMatch(/^roam1-[0-9a-z]+$/);
    await until(() => /waiting for a device to join.*\b\d+ s left\b/.test(human.stderr()), { timeoutMs: 5_000, what: 'the waiting line', detail: () => human.stderr() });
    const joined = b.roam('pair', human.code);
    expect(joined.status, joined.stderr).toBe(0);
    expect(joined.stdout).toMatch(/^joined group [0-9a-f]{8} with alpha; sync started: watch it with `roam status` or wait with `roam sync --wait`$/m);
    const done = await human.exit;
    expect(done.status, done.stderr).toBe(0);
    expect(done.stdout).toBe(`${human.code}\n`);
    expect(done.stderr).toMatch(/sync started: watch it with `roam status` or wait with `roam sync --wait`/);

    // --json, inviter: JSON lines on stdout (the code first), progress still on stderr.
    const inv = await invite(a, '--timeout', '40', '--json');
    const first = JSON.parse(inv.code) as { event: string; code: string; expiresAt: number };
    expect(first.event).toBe('code');
    expect(first.code).toMatch(/^roam1-[0-9a-z]+$/);
    expect(first.expiresAt).toBeGreaterThan(Date.now());
    await until(() => /waiting for a device to join/.test(inv.stderr()), { timeoutMs: 5_000, what: 'the waiting line (--json)', detail: () => inv.stderr() });
    // A wrong code (checksum right, secret wrong): the joiner is told to use the inviter's code,
    // the inviter that someone came with another code (a JSON line too), and it keeps waiting.
    const c0 = decodeCode(first.code);
    const wrong = c.roam('pair', encodeCode({ ...c0, secret: c0.secret.map((x) => x ^ 0x5a) }));
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/^ROAM_PAIR_PROOF: the inviter did not accept this code: .*use its new code/);
    await until(() => /refused: a device at \/ip4\/127\.0\.0\.1\/tcp\/\d+ tried to join with another code.*still waiting/.test(inv.stderr()), {
      timeoutMs: 10_000, what: "alpha's roam pair to report the wrong code", detail: () => inv.stderr(),
    });
    // --json, joiner: the group, its members, what happens next.
    const cj = c.roam('pair', first.code, '--json');
    expect(cj.status, cj.stderr).toBe(0);
    const cr = JSON.parse(cj.stdout) as { group: { id: string }; inviter: { peerId: string; name: string }; devices: DeviceInfo[]; next: { sync: string; watch: string[] } };
    expect(cr.group.id).toMatch(/^[0-9a-f]{32}$/);
    expect(cr.inviter).toEqual({ peerId: a.peerId, name: 'alpha' });
    expect(cr.devices.map((x) => x.name).sort()).toEqual(['alpha', 'beta', 'gamma']);
    expect(cr.next.sync).toBe('started');
    expect(cr.next.watch).toEqual(['roam status', 'roam sync --wait']);
    const end = await inv.exit;
    expect(end.status, end.stderr).toBe(0);
    const lines = end.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; reason?: string; peerId?: string | null; group?: { id: string }; joined?: { peerId: string } });
    expect(lines.map((l) => l.event)).toEqual(['code', 'refused', 'joined']);
    expect(lines[1]).toMatchObject({ reason: 'wrong-code', peerId: null });
    expect(lines[2]!.joined!.peerId).toBe(c.peerId);
    expect(lines[2]!.group!.id).toBe(cr.group.id);

    // unpair --json
    const un = a.roam('unpair', 'gamma', '--json');
    expect(un.status, un.stderr).toBe(0);
    const ur = JSON.parse(un.stdout) as { removed: { peerId: string; name: string }; generation: number; devices: DeviceInfo[] };
    expect(ur.removed).toEqual({ peerId: c.peerId, name: 'gamma' });
    expect(ur.generation).toBe(1);
    expect(ur.devices.map((x) => x.name).sort()).toEqual(['alpha', 'beta']);

    // leave, human: it says that this device has a new identity and the old one stays removed.
    const left = b.roam('leave');
    expect(left.status, left.stderr).toBe(0);
    expect(left.stdout).toMatch(new RegExp(`^left the group \\(1 other device\\(s\\) in it\\)`));
    expect(left.stdout).toMatch(new RegExp(`new identity \\S+ \\(the old one, ${b.peerId}, stays removed from the group\\)`));
    // leave --json outside a group: nothing left, still a fresh identity (a removed one could not pair again).
    const again = JSON.parse(b.roam('leave', '--json').stdout) as { left: boolean; previousPeerId: string; peerId: string };
    expect(again.left).toBe(false);
    expect(again.peerId).not.toBe(again.previousPeerId);
    expect(statusOf(b).peerId).toBe(again.peerId);
  });
});
