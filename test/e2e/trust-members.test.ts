/**
 * Membership trust end to end, with real roamd processes pairing for real on 127.0.0.1:
 * - a device that leaves knows the group secret: the remaining members rotate it and converge on
 *   one new secret, and stop accepting the old one once every remaining member is on the new one;
 * - a device one member adds is shown to the others as new, with who added it, until someone
 *   acknowledges it; with `trust.approve` on, a new device gets no data until a second member
 *   approves it.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../packages/core/test/support/poll.js';
import { stopAll, type DaemonHandle } from '../support/daemons.js';
import { Pairing } from '../support/pair.js';

const pairing = new Pairing();

afterEach(async () => {
  pairing.killAll();
  await stopAll();
});

interface GroupJson {
  secret: { gen: number; key: string; by: string };
  previous: Array<{ gen: number; key: string; until: number }>;
}

function groupOf(d: DaemonHandle): GroupJson | null {
  const file = join(d.roamHome, 'group.json');
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as GroupJson;
  } catch {
    return null; // caught mid-rename: read again
  }
}

const logOf = (d: DaemonHandle): string => {
  const file = join(d.roamHome, 'state', 'roamd.log');
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
};

describe('a device leaves', () => {
  it('the remaining members rotate the group secret it knew and converge on one; the old one is dropped once both are on the new one', async () => {
    const [a, b, c] = [pairing.device('alpha'), pairing.device('beta'), pairing.device('gamma')];
    await Promise.all([a.start(), b.start(), c.start()]);
    await pairing.pair(a, b);
    await pairing.pair(a, c);
    await until(() => [a, b, c].every((d) => (JSON.parse(d.roam('devices', '--json').stdout) as unknown[]).length === 3), { timeoutMs: 20_000, what: 'all three to know each other' });
    const old = groupOf(a)!.secret;
    expect(groupOf(c)!.secret.key).toBe(old.key);

    const left = c.roam('leave', '--json');
    expect(left.status, left.stderr).toBe(0);
    // Both remaining members end on one new secret (generation above the one gamma held).
    await until(
      () => {
        const [ga, gb] = [groupOf(a), groupOf(b)];
        return !!ga && !!gb && ga.secret.gen > old.gen && ga.secret.key === gb.secret.key;
      },
      { timeoutMs: 20_000, what: 'alpha and beta to rotate the secret gamma knew and agree on the new one', detail: () => ({ a: groupOf(a)?.secret, b: groupOf(b)?.secret, alog: logOf(a).slice(-1500), blog: logOf(b).slice(-1500) }) },
    );
    expect(groupOf(a)!.secret.key).not.toBe(old.key);
    // Every remaining member was seen on the new secret: the old one is accepted no more.
    await until(() => [a, b].every((d) => !groupOf(d)!.previous.some((p) => p.key === old.key)), {
      timeoutMs: 20_000,
      what: 'the old secret to leave both members’ accepted keys',
      detail: () => ({ a: groupOf(a)?.previous, b: groupOf(b)?.previous }),
    });
  });
});

interface Device {
  name: string;
  peerId: string;
  self: boolean;
  addedBy: { peerId: string; name: string } | null;
  new: boolean;
  pending: boolean;
}

function devicesOf(d: DaemonHandle): Device[] {
  const r = d.roam('devices', '--json');
  if (r.status !== 0) throw new Error(`roam devices on ${d.name}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Device[];
}
const named = (d: DaemonHandle, name: string): Device | undefined => devicesOf(d).find((x) => x.name === name);

function session(d: DaemonHandle, name: string): string {
  const file = join(d.projects, '-home-me-app', name);
  mkdirSync(dirname(file), { recursive: true });
  for (let i = 0; i < 3; i++) appendFileSync(file, `${JSON.stringify({ type: 'user', uuid: `u-${i}`, message: { content: `line ${i}` } })}\n`);
  return file;
}

describe('a device one member adds', () => {
  it('is shown to the other members as new, with who added it, in devices, status and doctor, until one of them acknowledges it', async () => {
    const [a, b, c] = [pairing.device('alpha'), pairing.device('beta'), pairing.device('gamma')];
    await Promise.all([a.start(), b.start(), c.start()]);
    await pairing.pair(a, b);
    await pairing.pair(b, c); // beta adds gamma: alpha did not
    await until(() => devicesOf(a).length === 3, { timeoutMs: 20_000, what: 'alpha to learn of gamma' });
    const g = named(a, 'gamma')!;
    expect(g.new).toBe(true);
    expect(g.addedBy).toEqual({ peerId: b.peerId, name: 'beta' });
    expect(named(a, 'beta')!.new).toBe(false); // alpha added beta itself
    // beta added gamma: not new to it; gamma joined after both: neither is new to it.
    expect(devicesOf(b).filter((x) => x.new)).toEqual([]);
    expect(devicesOf(c).filter((x) => x.new)).toEqual([]);
    expect(a.roam('devices').stdout).toMatch(/^gamma {2}\S+ {2}.*new: added by beta, not acknowledged \(roam devices --ack gamma\)/m);
    const st = JSON.parse(a.roam('status', '--json').stdout) as { newDevices: Array<{ name: string; addedBy: { name: string } }> };
    expect(st.newDevices.map((x) => [x.name, x.addedBy.name])).toEqual([['gamma', 'beta']]);
    expect(a.roam('status').stdout).toMatch(/gamma .*was added by beta and not acknowledged: `roam devices --ack gamma`/);
    const doc = JSON.parse(a.roam('doctor', '--json').stdout) as { checks: Array<{ check: string; level: string; detail: string }> };
    expect(doc.checks.find((x) => x.check === 'new devices')).toMatchObject({ level: 'warn', detail: 'gamma was added by beta, not acknowledged' });

    const ack = a.roam('devices', '--ack', 'gamma', '--json');
    expect(ack.status, ack.stderr).toBe(0);
    expect(JSON.parse(ack.stdout)).toMatchObject({ acknowledged: { name: 'gamma', peerId: c.peerId } });
    expect(named(a, 'gamma')!.new).toBe(false);
    expect((JSON.parse(a.roam('status', '--json').stdout) as { newDevices: unknown[] }).newDevices).toEqual([]);
    // Acknowledged for the group: the acknowledgement travels (signed) to the others.
    await until(() => /acknowledged by alpha/.test(logOf(b)), { timeoutMs: 15_000, what: 'beta to hear of the acknowledgement', detail: () => logOf(b).slice(-1500) });
  });

  it('with trust.approve on, gets no data until a second member (not the one that added it) approves it', async () => {
    const [a, b, c] = [pairing.device('alpha'), pairing.device('beta'), pairing.device('gamma')];
    await Promise.all([a.start(), b.start(), c.start()]);
    await pairing.pair(a, b);
    const on = a.roam('devices', '--require-approval', 'on', '--json');
    expect(on.status, on.stderr).toBe(0);
    expect(JSON.parse(on.stdout)).toMatchObject({ approve: true });
    await until(() => /trust.approve is now on \(set by alpha\)/.test(logOf(b)), { timeoutMs: 15_000, what: 'beta to learn that approval is on', detail: () => logOf(b).slice(-1500) });
    const secret = session(a, 'secret.jsonl');
    const onC = join(c.projects, '-home-me-app', 'secret.jsonl');

    await pairing.pair(b, c); // beta adds gamma
    // Both members hold gamma back, and gamma knows it waits.
    for (const d of [a, b]) await until(() => named(d, 'gamma')?.pending === true, { timeoutMs: 15_000, what: `${d.name} to list gamma as waiting for approval` });
    await until(() => [a, b].every((d) => /not syncing with gamma: it waits for approval/.test(logOf(d))), { timeoutMs: 15_000, what: 'alpha and beta to refuse to sync with gamma', detail: () => ({ a: logOf(a).slice(-1500), b: logOf(b).slice(-1500) }) });
    expect(existsSync(onC)).toBe(false);
    expect(c.roam('status').stdout).toMatch(/this device waits for approval/);
    // The member that added it cannot approve it alone.
    const self = b.roam('devices', '--approve', 'gamma');
    expect(self.status).toBe(1);
    expect(self.stderr).toMatch(/^ROAM_APPROVAL_REFUSED: beta added gamma: another member must approve it/);
    expect(existsSync(onC)).toBe(false);

    const ok = a.roam('devices', '--approve', 'gamma', '--json');
    expect(ok.status, ok.stderr).toBe(0);
    await until(() => existsSync(onC) && readFileSync(onC).equals(readFileSync(secret)), { timeoutMs: 30_000, what: 'gamma to get the session once approved', detail: () => ({ a: logOf(a).slice(-1500), c: logOf(c).slice(-1500) }) });
    expect(named(c, 'gamma')!.pending).toBe(false);
  });
});
