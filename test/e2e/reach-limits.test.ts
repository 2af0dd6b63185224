/**
 * Limits before authentication, end to end: an outsider holding idle TCP sockets open against a
 * member (50 from one address, reopened as soon as the member drops them, plus a burst from 20
 * other addresses) cannot keep another member from connecting. Real roamd processes, paired for
 * real (no ROAM_GROUP_KEY), on 127.0.0.0/8: the outsider binds 127.0.0.2..22, the members talk
 * from 127.0.0.1.
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../packages/core/test/support/poll.js';
import { stopAll, type DaemonHandle } from '../support/daemons.js';
import { Pairing } from '../support/pair.js';

const paired = new Pairing();
let attack: Flood | null = null;

afterEach(async () => {
  attack?.stop();
  attack = null;
  paired.killAll();
  await stopAll();
});


/**
 * Idle raw TCP sockets (they never send a byte) held open against `port`: `perAddress` sockets
 * from each source address, each reopened shortly after the other side closes it.
 */
class Flood {
  private readonly sockets = new Set<Socket>();
  private stopped = false;
  opened = 0;

  constructor(private readonly port: number) {}

  hold(localAddress: string, perAddress: number): void {
    for (let i = 0; i < perAddress; i++) this.open(localAddress);
  }

  private open(localAddress: string): void {
    if (this.stopped) return;
    const s = connect({ host: '127.0.0.1', port: this.port, localAddress });
    this.opened++;
    this.sockets.add(s);
    s.on('error', () => undefined);
    s.on('data', () => undefined);
    s.on('close', () => {
      this.sockets.delete(s);
      // Reopen at once (a little later, so a refused socket does not spin the machine).
      if (!this.stopped) setTimeout(() => this.open(localAddress), 50).unref();
    });
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }
}

const portOf = (addr: string): number => Number(/\/tcp\/(\d+)/.exec(addr)![1]);

const connectedTo = (d: DaemonHandle, name: string): boolean => {
  const r = d.roam('status', '--json');
  if (r.status !== 0) return false;
  const s = JSON.parse(r.stdout) as { peers: Array<{ name: string; connected: boolean }> };
  return s.peers.some((p) => p.name === name && p.connected);
};

const rssKiB = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);

describe('limits before authentication', () => {
  it('50 idle sockets from one address and a burst from 20 others do not keep a member from connecting within 5 s', { timeout: 120_000 }, async () => {
    const a = paired.device('alpha');
    const b = paired.device('beta');
    await a.start();
    await b.start();
    await paired.pair(a, b);
    await until(() => connectedTo(a, 'beta'), { timeoutMs: 20_000, what: 'the pair to connect' });
    await b.kill();
    await until(() => !connectedTo(a, 'beta'), { timeoutMs: 20_000, what: 'alpha to see beta gone' });

    attack = new Flood(portOf(a.addresses[0]!));
    attack.hold('127.0.0.2', 50);
    for (let i = 3; i <= 22; i++) attack.hold(`127.0.0.${i}`, 1);
    // Let the flood fill every slot the member would need.
    await new Promise((r) => setTimeout(r, 2_000));
    const rssBefore = rssKiB(a.proc!.pid!);

    await b.start();
    const t0 = Date.now();
    await until(() => connectedTo(a, 'beta') && connectedTo(b, 'alpha'), { timeoutMs: 5_000, what: 'beta to connect to alpha through the flood', detail: () => ({ opened: attack?.opened, alpha: a.output.slice(-2000) }) });
    const took = Date.now() - t0;

    // The member keeps serving, and its memory stays bounded while the flood goes on.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(connectedTo(a, 'beta')).toBe(true);
    const rssAfter = rssKiB(a.proc!.pid!);
    console.log(`connected through the flood in ${took} ms; ${attack.opened} outsider sockets opened; alpha RSS ${rssBefore} → ${rssAfter} KiB`);
    expect(rssAfter - rssBefore).toBeLessThan(64 * 1024);
  });
});
