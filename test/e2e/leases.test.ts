/**
 * Leases come from writing, not from finding: a daemon that indexes a folder full of old sessions
 * (its first start, or what changed while it was down) leases none of them; a line appended now
 * leases that session.
 */
import { appendFileSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../packages/core/test/support/poll.js';
import { call } from '../../packages/cli/src/control/client.js';
import { roamPaths } from '../../packages/cli/src/daemon/home.js';
import { makeDaemon, stopAll } from '../support/daemons.js';

afterEach(stopAll);

const OLD = '0b7c1a52-0000-4000-8000-000000000001';
const NEW = '0b7c1a52-0000-4000-8000-000000000002';
const line = (s: string, i: number) => `${JSON.stringify({ type: 'user', sessionId: s, uuid: `u-${i}`, message: { content: `line ${i}` } })}\n`;

describe('leases', () => {
  it('are not taken for the sessions a first index finds, only for those written now', async () => {
    const a = makeDaemon('alpha');
    const dir = join(a.projects, '-home-alice-code-app');
    mkdirSync(dir, { recursive: true });
    const old = join(dir, `${OLD}.jsonl`);
    writeFileSync(old, line(OLD, 0));
    const day = Date.now() / 1000 - 86_400;
    utimesSync(old, day, day);
    await a.start();
    const socket = roamPaths(a.env).socket;
    const sessions = async () => (await call<{ leases: Array<{ session: string; self: boolean }> }>(socket, 'leases', {})).leases.filter((l) => l.self).map((l) => l.session).sort();

    writeFileSync(join(dir, `${NEW}.jsonl`), line(NEW, 0));
    await until(async () => (await sessions()).includes(NEW), { timeoutMs: 10_000, what: 'the new session to be leased' });
    expect(await sessions()).toEqual([NEW]);

    appendFileSync(old, line(OLD, 1));
    await until(async () => (await sessions()).includes(OLD), { timeoutMs: 10_000, what: 'the old session, written now, to be leased' });
    expect(await sessions()).toEqual([OLD, NEW].sort());
  });
});
