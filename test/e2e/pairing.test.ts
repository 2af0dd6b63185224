/**
 * Pairing and trust end to end: real roamd processes on 127.0.0.1 with no ROAM_GROUP_KEY (real
 * pairing), the real `roam pair`, `roam devices`, `roam unpair`, real folders. Outsiders (another
 * group, a stolen peer id, a wrong code) are refused and never receive a byte; a removed device
 * cannot come back; a member that was offline during the rotation catches up.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../packages/core/test/support/poll.js';
import type { DeviceInfo } from '../../packages/cli/src/control/pairing.js';
import { base32, decodeCode, encodeCode } from '../../packages/cli/src/machine/pair-code.js';
import { readTree } from '../conformance/driver.js';
import { makeDaemon, stopAll, type DaemonHandle } from '../support/daemons.js';
import { invite as inviteOn, pair as pairOn, type Invite } from '../support/pair.js';
import { createVethPair, type VethPair } from '../support/netns.js';

const procs = new Set<ChildProcess>();
let veth: VethPair | null = null;
const scratch: string[] = [];

const alive = (p: ChildProcess): boolean => p.exitCode === null && p.signalCode === null;

async function stopProc(p: ChildProcess): Promise<void> {
  if (!alive(p)) return;
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGTERM');
  const timer = setTimeout(() => p.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** If the worker exits before the hooks ran: kill what runs in the namespaces, delete them. */
function lastResort(): void {
  for (const p of procs) if (alive(p)) p.kill('SIGKILL');
  if (veth) for (const n of [veth.a.name, veth.b.name]) spawnSync('ip', ['netns', 'del', n], { timeout: 5_000 });
}

afterEach(async () => {
  await Promise.all([...procs].map(stopProc));
  procs.clear();
  await stopAll();
  if (veth) {
    const left = veth.remove();
    veth = null;
    process.off('exit', lastResort);
    if (left.length) throw new Error(`network namespaces left behind: ${left.join(', ')}`);
  }
  for (const d of scratch.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A daemon without ROAM_GROUP_KEY: it pairs for real. */
const device = (name: string): DaemonHandle => makeDaemon(name, { env: { ROAM_GROUP_KEY: '' } });

/** `roam pair` in the background (its code: `.code`), tracked for cleanup. */
const invite = (d: DaemonHandle, timeoutS = 30): Promise<Invite> => inviteOn(d, ['--timeout', String(timeoutS)], (c) => procs.add(c));

/** `inviter` runs `roam pair`, `joiner` runs `roam pair <code>`: both exit 0, nothing else said on the joiner's stderr. */
async function pair(inviter: DaemonHandle, joiner: DaemonHandle): Promise<string> {
  const done = await pairOn(inviter, joiner, (c) => procs.add(c));
  expect(done.joiner.stderr, `roam pair <code> on ${joiner.name}`).toBe('');
  expect(done.inviter.stderr).toContain(`paired with ${joiner.name} (${joiner.peerId})`);
  return done.code;
}

function devicesOf(d: DaemonHandle): DeviceInfo[] {
  const r = d.roam('devices', '--json');
  if (r.status !== 0) throw new Error(`roam devices on ${d.name}: ${r.stderr}`);
  return JSON.parse(r.stdout) as DeviceInfo[];
}

const logOf = (d: DaemonHandle): string => {
  const file = join(d.roamHome, 'state', 'roamd.log');
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
};

const line = (i: number) => `${JSON.stringify({ type: 'user', uuid: `p-${i}`, message: { content: `line ${i} ${'.'.repeat(120)}` } })}\n`;

function session(d: DaemonHandle, name = 's.jsonl', lines = 3): string {
  const file = join(d.projects, '-home-me-app', name);
  mkdirSync(dirname(file), { recursive: true });
  for (let i = 0; i < lines; i++) appendFileSync(file, line(i));
  return file;
}

async function sameTree(a: DaemonHandle, b: DaemonHandle, timeoutMs = 20_000): Promise<void> {
  const view = async (d: DaemonHandle) => JSON.stringify((await readTree(d.projects)).map(({ path, type, size, sha256 }) => ({ path, type, size, sha256 })));
  await until(async () => (await view(a)) === (await view(b)), {
    timeoutMs,
    everyMs: 50,
    what: `${b.name}'s folder to equal ${a.name}'s`,
    detail: () => ({ a: logOf(a).slice(-1500), b: logOf(b).slice(-1500) }),
  });
}

const mode = (file: string): number => statSync(file).mode & 0o777;

/** The code with its secret replaced, checksum recomputed: well-formed, but wrong. */
function wrongCode(code: string): string {
  const c = decodeCode(code);
  return encodeCode({ ...c, secret: c.secret.map((b) => b ^ 0xa5) });
}

/** The code with one character changed (to another valid one). */
function typo(code: string): string {
  const i = 20;
  const ch = code[i] === 'x' ? 'y' : 'x';
  return code.slice(0, i) + ch + code.slice(i + 1);
}

describe('pairing', () => {
  it('A pairs B with the printed code, then B pairs C: all three converge and list each other; keys stay 0600, the code stays out of logs', async () => {
    const [a, b, c] = [device('alpha'), device('beta'), device('gamma')];
    await Promise.all([a.start(), b.start(), c.start()]);
    const fromA = session(a, 'from-a.jsonl');
    const codes = [await pair(a, b), await pair(b, c)];
    const fromC = session(c, 'from-c.jsonl');
    await sameTree(a, b);
    await sameTree(a, c);
    expect(readFileSync(join(c.projects, '-home-me-app', 'from-a.jsonl'))).toEqual(readFileSync(fromA));
    expect(readFileSync(join(a.projects, '-home-me-app', 'from-c.jsonl'))).toEqual(readFileSync(fromC));

    // Every device lists all three, itself once; C learned A from B and reached it directly.
    const all = [a, b, c];
    let lists: DeviceInfo[][] = [];
    await until(
      () => {
        lists = all.map(devicesOf);
        return lists.every((list) => list.length === 3 && list.every((x) => x.connected));
      },
      { timeoutMs: 15_000, everyMs: 100, what: 'every device to list and reach all three', detail: () => lists.map((l) => l.map((x) => `${x.name}${x.self ? '*' : ''}${x.connected ? '+' : ''}`)) },
    );
    for (const [i, d] of all.entries()) {
      const list = lists[i]!;
      expect(list.map((x) => x.name).sort()).toEqual(['alpha', 'beta', 'gamma']);
      expect(list.filter((x) => x.self).map((x) => x.peerId)).toEqual([d.peerId]);
      expect(list.map((x) => x.peerId).sort()).toEqual(all.map((x) => x.peerId).sort());
      for (const x of list) {
        expect(x.deviceId).toMatch(/^[0-9a-f]{16}$/);
        expect(x.addresses.length).toBeGreaterThan(0);
        expect(typeof x.lastSeen).toBe('number');
      }
      // Files holding keys are 0600.
      expect(mode(join(d.roamHome, 'group.json'))).toBe(0o600);
      expect(mode(join(d.roamHome, 'identity.key'))).toBe(0o600);
      // The codes and their secrets never reach a log or the daemon's output.
      for (const code of codes) {
        const secret = decodeCode(code).secret;
        for (const text of [logOf(d), d.output]) {
          expect(text).not.toContain(code);
          expect(text).not.toContain(code.slice(6, 40));
          expect(text).not.toContain(Buffer.from(secret).toString('hex'));
          expect(text).not.toContain(base32(secret));
        }
      }
    }
    const human = a.roam('devices');
    expect(human.status).toBe(0);
    expect(human.stdout).toMatch(/^alpha {2}\S+ {2}this device$/m);
    // beta added gamma: alpha shows it as new until a member acknowledges it.
    expect(human.stdout).toMatch(/^gamma {2}\S+ {2}connected {2}new: added by beta, not acknowledged \(roam devices --ack gamma\)$/m);

    // gamma leaves: the others learn it, it forgets the group.
    const left = c.roam('leave');
    expect(left.status, left.stderr).toBe(0);
    expect(left.stdout).toMatch(/^left the group/);
    expect(existsSync(join(c.roamHome, 'group.json'))).toBe(false);
    expect(devicesOf(c).map((x) => x.name)).toEqual(['gamma']);
    await until(() => [a, b].every((d) => devicesOf(d).length === 2), { timeoutMs: 10_000, everyMs: 100, what: 'alpha and beta to drop gamma' });
    expect(c.roam('leave').stdout).toMatch(/not in a group/);
  });

  it('refuses an outsider with its own group, a stolen peer id without the secret, a wrong code, a used code, an expired code and a typo; none gets a byte', async () => {
    const [a, b] = [device('alpha'), device('beta')];
    const [other, thief, guesser] = [device('other'), device('thief'), device('guesser')];
    await Promise.all([a.start(), b.start()]);
    // The thief has beta's identity (its peer id is a member's) but not the group secret.
    mkdirSync(thief.roamHome, { recursive: true, mode: 0o700 });
    copyFileSync(join(b.roamHome, 'identity.key'), join(thief.roamHome, 'identity.key'));
    // The outsider and the thief dial alpha and beta (by address: by peer id they would not even
    // dial devices outside their own groups). Unpaired, they dial nobody yet.
    const bare = (addr: string) => addr.replace(/\/p2p\/.*$/, '');
    const dialBoth = ['--peer', bare(a.addresses[0]!), '--peer', bare(b.addresses[0]!)];
    await Promise.all([other.start(dialBoth), thief.start(dialBoth), guesser.start()]);
    expect(thief.peerId).toBe(b.peerId);
    const secretFile = session(a, 'secret.jsonl', 5);

    // A wrong code (valid checksum, wrong secret): refused with the proof error; the invitation survives.
    const inv = await invite(a);
    const wrong = guesser.roam('pair', wrongCode(inv.code));
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/^ROAM_PAIR_PROOF: /);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    // One character changed: the checksum error, before anything is dialed.
    const typoed = guesser.roam('pair', typo(inv.code));
    expect(typoed.status).toBe(1);
    expect(typoed.stderr).toMatch(/^ROAM_PAIR_CODE_CHECKSUM: the pairing code has a typo/);
    expect(guesser.roam('pair', 'hello').stderr).toMatch(/^ROAM_PAIR_CODE_INVALID: /);
    // The right device pairs with the same code.
    const ok = b.roam('pair', inv.code);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect((await inv.exit).status).toBe(0);
    await sameTree(a, b);
    // Beta is paired now: it does not join another group before `roam leave`.
    expect(b.roam('pair', inv.code).stderr).toMatch(/^ROAM_ALREADY_PAIRED: this device is already paired \(with alpha\)/);
    // Used: refused.
    const used = guesser.roam('pair', inv.code);
    expect(used.status).toBe(1);
    expect(used.stderr).toMatch(/^ROAM_PAIR_EXPIRED: this code was used already/);
    // Expired: `roam pair` gives up at its timeout (exit 1), and its code is refused afterwards.
    const short = await invite(other, 1);
    const gaveUp = await short.exit;
    expect(gaveUp.status).toBe(1);
    expect(gaveUp.stderr).toMatch(/^ROAM_PAIR_EXPIRED: /m);
    const late = guesser.roam('pair', short.code);
    expect(late.status).toBe(1);
    expect(late.stderr).toMatch(/^ROAM_PAIR_EXPIRED: this code has expired/);
    // (`other` founded its own group by inviting.) The thief founds one too: any secret but the group's.
    expect((await (await invite(thief, 1)).exit).status).toBe(1);
    for (const d of [other, thief]) {
      await until(() => /cannot connect to \S+: the peer is not in this group: it holds another group secret/.test(logOf(d)), {
        timeoutMs: 15_000, what: `${d.name}'s log to show the refusal`, detail: () => logOf(d).slice(-2000),
      });
    }
    await until(() => (logOf(a).match(/refused a connection from .*: not in this group \(it does not hold the group secret\)/g) ?? []).length >= 2, {
      timeoutMs: 15_000, what: "alpha's log to show both refusals", detail: () => logOf(a).slice(-2000),
    });
    expect(logOf(guesser)).toMatch(/pairing failed: the inviter did not accept this code/);

    // More lines keep flowing to beta, and not a byte to the others.
    appendFileSync(secretFile, line(99));
    await sameTree(a, b);
    for (const d of [other, thief, guesser]) {
      expect(await readTree(d.projects), `${d.name}'s folder`).toEqual([]);
      expect(devicesOf(d).map((x) => x.name)).toEqual([d.name]);
    }
    expect(devicesOf(a).map((x) => x.name)).toEqual(['alpha', 'beta']);
    const status = JSON.parse(a.roam('status', '--json').stdout) as { peers: Array<{ peerId: string; connected: boolean }> };
    expect(status.peers.filter((p) => p.connected).map((p) => p.peerId)).toEqual([b.peerId]);
    // The real beta is still connected (the thief's copy of its id got nowhere).
    expect(devicesOf(b).find((x) => x.peerId === a.peerId)?.connected).toBe(true);
  });

  it('after roam unpair C, C cannot reconnect to A or B even with its old secret and new lines do not reach it; B, offline during the rotation, catches up', async () => {
    const [a, b, c] = [device('alpha'), device('beta'), device('gamma')];
    await Promise.all([a.start(), b.start(), c.start()]);
    await pair(a, b);
    await pair(a, c);
    const file = session(a, 's.jsonl', 5);
    await sameTree(a, b);
    await sameTree(a, c);
    const onC = join(c.projects, '-home-me-app', 's.jsonl');
    const before = readFileSync(onC);
    // What a stolen C would keep: its group file from before the removal (old secret, old members).
    const stolen = readFileSync(join(c.roamHome, 'group.json'));

    await b.kill(); // beta is offline during the rotation
    const r = a.roam('unpair', 'gamma');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^removed gamma \\(${c.peerId}\\) from the group; the group secret was replaced \\(generation 1\\)`));
    expect(devicesOf(a).map((x) => x.name)).toEqual(['alpha', 'beta']);
    // An honest gamma is told, and forgets the group.
    await until(() => /this device was removed from the group by alpha/.test(logOf(c)), { timeoutMs: 10_000, what: 'gamma to learn its removal', detail: () => logOf(c).slice(-1500) });
    expect(devicesOf(c).map((x) => x.name)).toEqual(['gamma']);
    expect(existsSync(join(c.roamHome, 'group.json'))).toBe(false);
    expect(a.roam('unpair', 'gamma').stderr).toMatch(/^ROAM_UNKNOWN_DEVICE: /);

    await c.kill();
    appendFileSync(file, line(100));
    appendFileSync(file, line(101));

    // Beta comes back: it reaches alpha with the previous secret, gets the new one and the removal, catches up.
    await b.start();
    await until(() => /received the group secret \(generation 1, made by alpha\) from alpha/.test(logOf(b)), { timeoutMs: 15_000, what: 'beta to get the new secret', detail: () => ({ a: logOf(a).slice(-1500), b: logOf(b).slice(-1500) }) });
    await sameTree(a, b);
    expect(devicesOf(b).map((x) => x.name).sort()).toEqual(['alpha', 'beta']);
    const groupOf = (d: DaemonHandle) => JSON.parse(readFileSync(join(d.roamHome, 'group.json'), 'utf8')) as { secret: { gen: number }; previous: Array<{ gen: number }> };
    expect(groupOf(b).secret.gen).toBe(1);
    // Both remaining members are on generation 1 now: the previous secret is accepted no more
    // (while beta was offline alpha still accepted it: that is how beta came back).
    await until(() => [a, b].every((d) => groupOf(d).previous.length === 0), { timeoutMs: 15_000, what: 'alpha and beta to drop the previous secret', detail: () => [groupOf(a).previous, groupOf(b).previous] });

    // A gamma that ignores its removal: its old group file back (old secret, old members), it dials
    // alpha (at the address it knew) and beta (at its new one).
    writeFileSync(join(c.roamHome, 'group.json'), stolen, { mode: 0o600 });
    await c.start(['--peer', b.addresses[0]!.replace(/\/p2p\/.*$/, '')]);
    // Its secret is accepted no more: the group handshake refuses it before anything else.
    const refusedBy = (d: DaemonHandle) => /refused a connection from \S+: not in this group \(it does not hold the group secret/.test(logOf(d));
    for (const d of [a, b]) {
      await until(() => refusedBy(d), { timeoutMs: 15_000, what: `${d.name} to refuse gamma`, detail: () => ({ d: logOf(d).slice(-2000), c: logOf(c).slice(-1500) }) });
    }
    appendFileSync(file, line(102));
    await sameTree(a, b);
    expect(readFileSync(onC)).toEqual(before);
    const statusC = JSON.parse(c.roam('status', '--json').stdout) as { peers: Array<{ connected: boolean }> };
    expect(statusC.peers.filter((p) => p.connected)).toEqual([]);
  });

  it('an impostor that answers the joiner\'s mDNS query without the code gets nothing and pulls the joiner into nothing (network namespaces)', { timeout: 40_000 }, async ({ skip }) => {
    const made = createVethPair('roam-pair');
    if (!made.ok) {
      if (process.env.CI === 'true') throw new Error(`this test needs network namespaces (root and iproute2): ${made.reason}`);
      const notice = `mDNS impostor test SKIPPED: cannot create network namespaces (needs root and iproute2): ${made.reason}`;
      console.warn(`\n${notice}\n`);
      return skip(notice);
    }
    veth = made.pair;
    process.on('exit', lastResort);
    const { a: nsJoiner, b: nsImpostor } = made.pair;

    // A code from an inviter that is not there (nothing listens at its address): the joiner
    // falls back to mDNS, where only the impostor answers, claiming the inviter's peer id.
    const inviterKey = await generateKeyPair('Ed25519');
    const inviterId = peerIdFromPrivateKey(inviterKey).toString();
    const code = encodeCode({ secret: randomBytes(16), inviterKey: inviterKey.publicKey.raw, addresses: [`/ip4/${nsImpostor.address}/tcp/9`] });

    // The impostor: answers mDNS queries for the pairing service with the inviter's peer id and its
    // own TCP listener, which plays a group listener that does not know the code, and records
    // every byte it is sent.
    const dir = mkdtempSync(join(tmpdir(), 'roam-impostor-'));
    scratch.push(dir);
    const script = join(dir, 'impostor.cjs');
    writeFileSync(script, `
      const net = require('node:net');
      const { randomBytes } = require('node:crypto');
      const [mdnsPath, addr, inviterId, tag] = process.argv.slice(2);
      const say = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
      const server = net.createServer((sock) => {
        let got = 0;
        say({ connection: true });
        sock.on('error', () => {});
        sock.write(Buffer.concat([Buffer.from('rgk1'), randomBytes(16)]));
        sock.on('data', (d) => {
          got += d.length;
          say({ bytes: d.length });
          // After the joiner's hello (20 bytes) and its one tag (1 + 16): "accepted", with a made-up tag.
          if (got >= 37 && !sock.answered) { sock.answered = true; sock.write(Buffer.concat([Buffer.from([1, 0]), randomBytes(16)])); }
        });
      });
      server.listen(0, addr, () => {
        const port = server.address().port;
        const mdns = require(mdnsPath)();
        mdns.on('query', (q) => {
          if (!q.questions.some((x) => x.name === tag)) return;
          mdns.respond({ answers: [
            { name: tag, type: 'PTR', class: 'IN', ttl: 120, data: 'impostor.' + tag },
            { name: 'impostor.' + tag, type: 'TXT', class: 'IN', ttl: 120, data: 'dnsaddr=/ip4/' + addr + '/tcp/' + port + '/p2p/' + inviterId },
          ] });
          say({ answered: true });
        });
        say({ ready: port });
      });
    `);
    const mdnsPath = createRequire(import.meta.url).resolve('multicast-dns');
    const imp = spawn('ip', ['netns', 'exec', nsImpostor.name, process.execPath, script, mdnsPath, nsImpostor.address, inviterId, '_roam-pair._udp.local'], { stdio: ['ignore', 'pipe', 'pipe'] });
    procs.add(imp);
    let impOut = '';
    imp.stdout!.setEncoding('utf8').on('data', (t: string) => (impOut += t));
    imp.stderr!.setEncoding('utf8').on('data', (t: string) => (impOut += t));
    await until(() => impOut.includes('"ready"') || !alive(imp), { timeoutMs: 10_000, what: 'the impostor to listen', detail: () => impOut });

    // The joiner: a real roamd in its namespace, mDNS on.
    const j = device('joiner');
    const starting = j.start([], { netns: nsJoiner.name, listen: `/ip4/${nsJoiner.address}/tcp/0`, mdns: true });
    procs.add(j.proc!);
    await starting;

    const r = j.roam('pair', code, '--timeout', '3');
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^ROAM_PAIR_PROOF: the device that answered could not prove it knows the code/);
    // (spawnSync held the event loop: let the impostor's output in.)
    await until(() => impOut.includes('"answered"') && impOut.includes('"connection"'), { timeoutMs: 5_000, what: 'the impostor to report', detail: () => impOut });
    const events = impOut.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    // It was found by mDNS and dialed…
    expect(events.some((e) => e.answered)).toBe(true);
    expect(events.some((e) => e.connection)).toBe(true);
    // …and all it ever received were handshake nonces and tags: 37 bytes per connection at most.
    const connections = events.filter((e) => e.connection).length;
    const bytes = events.reduce((n, e) => n + (typeof e.bytes === 'number' ? e.bytes : 0), 0);
    expect(bytes).toBeLessThanOrEqual(37 * connections);
    // The joiner joined nothing.
    expect(existsSync(join(j.roamHome, 'group.json'))).toBe(false);
    expect(devicesOf(j).map((x) => x.peerId)).toEqual([peerIdFromString(/peer id: (\S+)/.exec(j.output)![1]!).toString()]);
    expect(logOf(j)).toMatch(/pairing failed: the device that answered could not prove it knows the code/);
    expect(logOf(j)).not.toContain(code);
  });
});

