/**
 * What `roam pair` prints while it waits (the time left: one line redrawn on a terminal, a line now
 * and then elsewhere) and the refusal texts both sides print (cause and fix).
 */
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { signEntry, type Entry } from '../src/pairing/members.js';
import { WaitProgress, timeLeft } from '../src/commands/helpers/pair-progress.js';
import { JOINER_FIX, nameIn, printable, refusalForInviter, refusalForJoiner, removalOf, utcMinute } from '../src/pairing/refusal.js';

describe('roam pair progress', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-12-08T00:00:00Z'));
  });
  afterEach(() => vi.useRealTimers());

  const sink = () => {
    const lines: string[] = [];
    const raw: string[] = [];
    return { lines, raw, line: (l: string) => void lines.push(l), write: (s: string) => void raw.push(s) };
  };

  it('formats the time left in minutes and seconds', () => {
    expect(timeLeft(600_000)).toBe('10 min 00 s');
    expect(timeLeft(61_500)).toBe('1 min 02 s');
    expect(timeLeft(42_000)).toBe('42 s');
    expect(timeLeft(-5)).toBe('0 s');
  });

  it('off a terminal: a line at the start, then one every tenth of the timeout (at most every minute), none after expiry; nothing raw', () => {
    const s = sink();
    const p = new WaitProgress({ expiresAt: Date.now() + 600_000, tty: false, raw: s.write, line: s.line });
    p.start();
    expect(s.lines).toHaveLength(1);
    expect(s.lines[0]).toMatch(/^waiting for a device to join: run `roam pair <the code>` on it; the code works once, 10 min 00 s left \(until .+\)$/);
    vi.advanceTimersByTime(59_000);
    expect(s.lines).toHaveLength(1);
    vi.advanceTimersByTime(1_000);
    expect(s.lines).toHaveLength(2);
    expect(s.lines[1]).toMatch(/^still waiting for a device to join: .* 9 min 00 s left/);
    vi.advanceTimersByTime(600_000);
    expect(s.lines).toHaveLength(10);
    p.say('refused: something');
    expect(s.lines.at(-1)).toBe('refused: something');
    p.stop();
    expect(s.raw).toEqual([]);

    // A short timeout: every 10 s, not more often.
    const t = sink();
    const q = new WaitProgress({ expiresAt: Date.now() + 30_000, tty: false, raw: t.write, line: t.line });
    q.start();
    vi.advanceTimersByTime(31_000);
    q.stop();
    expect(t.lines.map((l) => /(\d+) s left/.exec(l)![1])).toEqual(['30', '20', '10']);
  });

  it('on a terminal: one status line redrawn every second, cleared before another line and at the end', () => {
    const s = sink();
    const p = new WaitProgress({ expiresAt: Date.now() + 30_000, tty: true, raw: s.write, line: s.line });
    p.start();
    vi.advanceTimersByTime(3_000);
    expect(s.raw).toHaveLength(4);
    expect(s.raw.every((r) => r.startsWith('\r\x1b[2K') && !r.includes('\n'))).toBe(true);
    expect(s.raw.at(-1)).toMatch(/27 s left/);
    p.say('refused: beta');
    expect(s.raw.at(-2)).toBe('\r\x1b[2K');
    expect(s.lines).toEqual(['refused: beta']);
    expect(s.raw.at(-1)).toMatch(/^\r\x1b\[2Kwaiting for a device to join/);
    p.stop();
    expect(s.raw.at(-1)).toBe('\r\x1b[2K');
    const n = s.raw.length;
    vi.advanceTimersByTime(5_000);
    expect(s.raw).toHaveLength(n);
  });
});

describe('refusals name the cause and the fix', () => {
  it('says when and by whom the identity was removed, or that it left, on both sides; the joiner is told to run roam leave', async () => {
    const [ka, kb] = [await generateKeyPair('Ed25519'), await generateKeyPair('Ed25519')];
    const [a, b] = [peerIdFromPrivateKey(ka).toString(), peerIdFromPrivateKey(kb).toString()];
    const group = 'ab'.repeat(16);
    const at = Date.parse('2026-12-07T23:58:31Z');
    const log: Entry[] = [
      await signEntry(ka, { group, op: 'add', peer: a, name: 'alpha', by: a, at: at - 9_000 }),
      await signEntry(ka, { group, op: 'add', peer: b, name: 'beta', by: a, at: at - 5_000 }),
      await signEntry(ka, { group, op: 'remove', peer: b, by: a, at, keep: [] }),
    ];
    const removal = removalOf(log, b);
    expect(removal).toEqual({ at, by: a });
    expect(utcMinute(at)).toBe('2026-12-07 23:58 UTC');
    expect(nameIn(log, b)).toBe('beta');
    const nameOf = (p: string) => nameIn(log, p);
    expect(refusalForJoiner('alpha', b, removal, nameOf)).toBe(`alpha refused this device: its identity (${b}) was removed from the group on 2026-12-07 23:58 UTC by alpha`);
    expect(refusalForInviter({ peerId: b, name: 'beta' }, removal, nameOf)).toBe(
      `beta (${b}) tried to join but was removed from the group on 2026-12-07 23:58 UTC by alpha: a removed identity never joins again. ` +
        'To let it in, run `roam leave` on beta (it takes a new identity), then `roam pair <the code>` on it again',
    );
    // It left on its own.
    const left = [log[0]!, log[1]!, await signEntry(kb, { group, op: 'remove', peer: b, by: b, at, keep: [] })];
    expect(refusalForInviter({ peerId: b, name: 'beta' }, removalOf(left, b), (p) => nameIn(left, p))).toMatch(/was removed from the group on 2026-12-07 23:58 UTC \(it left\): /);
    expect(JOINER_FIX).toMatch(/run `roam leave` on this device/);
    // What came over the wire cannot move the cursor or clear the joiner's terminal.
    expect(printable('alpha\x1b[2J refused\r\nyou')).toBe('alpha [2J refused  you');
  });
});
