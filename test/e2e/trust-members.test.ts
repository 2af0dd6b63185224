/**
 * Membership trust end to end, with real roamd processes pairing for real on 127.0.0.1:
 * - a device that leaves knows the group secret: the remaining members rotate it and converge on
 *   one new secret, and stop accepting the old one once every remaining member is on the new one;
 * - a device one member adds is shown to the others as new, with who added it, until someone
 *   acknowledges it; with `trust.approve` on, a new device gets no data until a second member
 *   approves it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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
