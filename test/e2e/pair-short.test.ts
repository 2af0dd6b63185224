/**
 * Short pairing codes end to end (docs/TRUST.md §2.1): real roamd processes with no
 * ROAM_GROUP_KEY, the real `roam pair --short` and `roam pair <words>`. The joiner finds the
 * inviter with `--peer` on 127.0.0.1 (the code carries no address); the mDNS way is in
 * pair-short-mdns.test.ts. A wrong guess uses the code up: the right code fails afterwards too.
 */
import type { ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../harness/poll.js';
import { makeDaemon, stopAll, type DaemonHandle } from '../support/daemons.js';
import { invite, type Invite } from '../support/pair.js';

const procs = new Set<ChildProcess>();
const track = (c: ChildProcess): void => void procs.add(c);

afterEach(async () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  procs.clear();
  await stopAll();
});

const device = (name: string): DaemonHandle => makeDaemon(name, { env: { ROAM_GROUP_KEY: '' } });
const SHORT = /^\d{1,3}(-[a-z]+){3}$/;

interface CodeEvent {
  event: 'code';
  code: string;
  expiresAt: number;
  addresses: string[];
}

async function shortInvite(d: DaemonHandle): Promise<{ inv: Invite; ev: CodeEvent; peer: string }> {
  const inv = await invite(d, ['--short', '--json', '--timeout', '60'], track);
  const ev = JSON.parse(inv.code) as CodeEvent;
  expect(ev.code).toMatch(SHORT);
  const peer = ev.addresses.find((a) => a.startsWith('/ip4/127.0.0.1/tcp/'));
  expect(peer, JSON.stringify(ev)).toBeDefined();
  return { inv, ev, peer: peer! };
}

/** A code with the same number and other words. */
function wrong(code: string): string {
  const [n, ...words] = code.split('-');
  return [n, ...words.map((w) => (w === 'acid' ? 'acorn' : 'acid'))].join('-');
}

describe('roam pair --short', () => {
  it('pairs two daemons with a few words, through --peer', { timeout: 60_000 }, async () => {
    const a = device('alpha');
    const b = device('beta');
    await Promise.all([a.start(), b.start()]);
    // Plain human output: the words alone on stdout, the --peer addresses on stderr.
    const inv = await invite(a, ['--short', '--timeout', '60'], track);
    expect(inv.code).toMatch(SHORT);
    await until(() => /--peer \/ip4\/127/.test(inv.stderr()), { timeoutMs: 10_000, what: 'roam pair --short to show its --peer addresses', detail: () => inv.stderr() });
    const peer = inv.stderr().match(/--peer (\/ip4\/127\.0\.0\.1\/tcp\/\d+)/)![1]!;
    const r = b.roam('pair', inv.code, '--peer', peer);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^paired with alpha \\(${a.peerId}\\)`));
    const done = await inv.exit;
    expect(done.status, done.stderr).toBe(0);
    expect(done.stdout).toBe(`${inv.code}\n`);
    const devices = JSON.parse(b.roam('devices', '--json').stdout) as { peerId: string }[];
    expect(devices.map((d) => d.peerId).sort()).toEqual([a.peerId, b.peerId].sort());
    // The words go to the user only, never to a log.
    const words = inv.code.split('-').slice(1).join('-');
    expect(a.output).not.toContain(words);
    expect(b.output).not.toContain(words);
  });

  it('a wrong guess uses the code up: the right code then fails too, with a clear error', { timeout: 60_000 }, async () => {
    const a = device('alpha');
    const b = device('beta');
    await Promise.all([a.start(), b.start()]);
    const { inv, ev, peer } = await shortInvite(a);
    const guess = b.roam('pair', wrong(ev.code), '--peer', peer);
    expect(guess.status, guess.stderr).toBe(1);
    expect(guess.stderr).toContain('ROAM_PAIR_PROOF');
    expect(guess.stderr).toMatch(/wrong/);
    const right = b.roam('pair', ev.code, '--peer', peer);
    expect(right.status, right.stderr).toBe(1);
    expect(right.stderr).toContain('ROAM_PAIR_EXPIRED');
    expect(right.stderr).toMatch(/used/);
    const done = await inv.exit;
    expect(done.status).toBe(1);
    expect(done.stderr).toMatch(/wrong code.*run `roam pair --short` again/s);
    const devices = JSON.parse(a.roam('devices', '--json').stdout) as { peerId: string }[];
    expect(devices.map((d) => d.peerId)).toEqual([a.peerId]);
  });

  it('the short-code listener is not keyed from the code: it speaks libp2p before any key', { timeout: 30_000 }, async () => {
    const a = device('alpha');
    await a.start();
    const { peer } = await shortInvite(a);
    const port = Number(peer.split('/')[4]);
    // multistream-select's header, as a libp2p dialer sends it first; a private network keyed
    // from the code would answer with its own preamble ("rgk1" + nonce), never with this.
    const first = await new Promise<string>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => s.write(Buffer.concat([Buffer.of(19), Buffer.from('/multistream/1.0.0\n')])));
      let got = Buffer.alloc(0);
      s.on('data', (d: Buffer) => {
        got = Buffer.concat([got, d]);
        if (got.length >= 20) {
          s.destroy();
          resolve(got.toString('latin1'));
        }
      });
      s.on('error', reject);
      setTimeout(() => reject(new Error(`no answer: ${JSON.stringify(got.toString('latin1'))}`)), 5_000).unref();
    });
    expect(first).toContain('/multistream/1.0.0');
    expect(first).not.toContain('rgk1');
  });
});
