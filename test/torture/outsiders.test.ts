/**
 * Torture: outsiders. Two paired members (real `roam pair`, no ROAM_GROUP_KEY) keep syncing
 * sessions while outsiders try to get at them, each through a counting proxy that sees exactly
 * what the outsider's socket receives:
 *
 * - an unpaired peer: a libp2p node with no group secret at all, and a raw TCP client sending junk;
 * - a wrong-key peer: a roamd in a group of its own, dialing the members;
 * - a revoked peer: a member removed with `roam unpair`, its old group file put back (it still
 *   holds the previous secret, which members accept during the rotation's grace period), dialing
 *   both members;
 * - replayed proofs: the bytes a member sent when it connected, recorded and replayed at the
 *   member it connected to; the bytes a device sent when it paired, replayed at the same (used)
 *   invitation and at a new one.
 *
 * Each must receive 0 bytes of session data, as the members' own counters show (`roam status
 * --json`, traffic.peers): no connection passed their gater, no sync or members stream came up with an outsider, no frame, no index
 * entry, no index byte went to it; and nothing lands in its folder. (The bytes the proxies saw are
 * ciphertext: a scan of them for session text could not fail; they are reported, not asserted.)
 * A replayed proof gets only handshake bytes, fewer than the smallest session line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import '../../packages/cli/src/polyfill.js';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { tcp } from '@libp2p/tcp';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import { afterEach, describe, expect, it } from 'vitest';
import type { PeerTraffic, Status } from '../../packages/cli/src/control/protocol.js';
import { decodeCode, encodeCode } from '../../packages/cli/src/machine/pair-code.js';
import { until } from '../../packages/core/test/support/poll.js';
import { ROAM } from '../support/daemons.js';
import { cleanupAll, onCleanup, trackProcess } from './support/cleanup.js';
import { TortureDaemon } from './support/daemon.js';
import { Ledger, Writer, fileKeys, listFiles, sizesMatch, startWriting } from './support/lines.js';
import { CountingProxy, replay } from './support/proxy.js';
import { SEED, sized } from './support/profile.js';
import { report, saveLogs } from './support/report.js';
import { Rng } from './support/rng.js';

afterEach(cleanupAll);

const ATTACK_MS = sized(10_000, 60_000);
/** Session lines are at least this long: a connection that received fewer bytes got none. */
const MIN_LINE = 2_000;

interface Invite {
  code: string;
  proc: ChildProcess;
  exit: Promise<number | null>;
}

async function invite(d: TortureDaemon, timeoutS = 60): Promise<Invite> {
  const proc = trackProcess(spawn(process.execPath, [ROAM, 'pair', '--timeout', String(timeoutS)], { env: d.env, stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exit = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  await until(() => out.includes('\n') || proc.exitCode !== null, { timeoutMs: 20_000, what: `${d.name}'s roam pair to print a code`, detail: () => err });
  return { code: out.split('\n')[0]!, proc, exit };
}

async function pair(inviter: TortureDaemon, joiner: TortureDaemon, rewrite?: (code: string) => string): Promise<void> {
  const inv = await invite(inviter);
  const r = await joiner.roam('pair', rewrite ? rewrite(inv.code) : inv.code);
  if (r.status !== 0) throw new Error(`roam pair on ${joiner.name} failed: ${r.stderr}`);
  expect(await inv.exit).toBe(0);
}

const portOf = (addr: string) => Number(/\/tcp\/(\d+)/.exec(addr)![1]);

/** What the client sent on the connection where it sent the most (the one that got through). */
function longestSent(p: CountingProxy): Buffer {
  let best: Buffer = Buffer.alloc(0);
  for (const x of p.connections) if (x.sent.length > best.length) best = x.sent;
  return best;
}

describe('torture: outsiders', () => {
  it('unpaired, wrong-key, revoked and replayed-proof peers receive 0 bytes of session data', { timeout: sized(240_000, 600_000) }, async () => {
    const rng = new Rng(SEED ^ 0x0575);
    const [a, b, c, w] = await Promise.all(['alpha', 'beta', 'gamma', 'outsider'].map((name) => TortureDaemon.create({ name, groupKey: null })));
    await Promise.all([a, b, c, w].map((d) => d!.start()));

    // beta pairs with alpha; gamma too, through a recording proxy in front of alpha's pairing
    // listener (the code's address rewritten): what gamma sent to pair is kept for a replay.
    await pair(a!, b!);
    const inv = await invite(a!);
    const parsed = decodeCode(inv.code);
    const pairingPort = portOf(parsed.addresses[0]!);
    const pairingRecorder = await CountingProxy.start('127.0.0.1', pairingPort);
    const viaProxy = encodeCode({ ...parsed, addresses: [pairingRecorder.address] });
    const joined = await c!.roam('pair', viaProxy);
    expect(joined.status, joined.stderr).toBe(0);
    expect(await inv.exit).toBe(0);
    const pairingBytes = longestSent(pairingRecorder);
    expect(pairingBytes.length).toBeGreaterThan(100);

    // Secret sessions on alpha, lines of 2–6 KB; beta and gamma receive them.
    const ledger = new Ledger();
    const wa = new Writer('secret', ledger, rng.fork(1), { min: MIN_LINE });
    const sessions = Array.from({ length: 3 }, (_, i) => `-home-me-secret/s${i}.jsonl`);
    for (let i = 0; i < 6; i++) await wa.append(a!.folder, sessions[i % 3]!, rng.int(MIN_LINE, 6_000));
    await until(() => sizesMatch(b!.folder, ledger) && sizesMatch(c!.folder, ledger), { timeoutMs: 60_000, everyMs: 200, what: 'beta and gamma to hold the sessions' });

    // gamma connects to alpha once more, through a recorder: its handshake bytes, for a replay.
    await c!.stop();
    const memberRecorder = await CountingProxy.start('127.0.0.1', portOf(a!.address));
    const groupFile = join(c!.roamHome, 'group.json');
    const group = JSON.parse(readFileSync(groupFile, 'utf8')) as { directory: Record<string, string[]> };
    group.directory = { [a!.peerId]: [`${memberRecorder.address}/p2p/${a!.peerId}`] };
    writeFileSync(groupFile, JSON.stringify(group), { mode: 0o600 });
    const stolen = join(c!.root, 'stolen-group.json');
    copyFileSync(groupFile, stolen);
    await c!.start();
    await until(() => memberRecorder.connections.some((x) => x.fromClient > 1000 && x.toClient > 1000), { timeoutMs: 30_000, everyMs: 100, what: 'gamma to connect to alpha through the recorder' });
    await c!.stop();
    const memberBytes = longestSent(memberRecorder);

    // alpha removes gamma (gamma is off and does not hear of it).
    const un = await a!.roam('unpair', 'gamma');
    expect(un.status, un.stderr).toBe(0);
    await until(async () => (await b!.roam('devices', '--json')).stdout.includes('gamma') === false, { timeoutMs: 20_000, everyMs: 200, what: 'beta to learn of the removal' });

    // The members' counters before any outsider starts (gamma synced while it was a member).
    const countersBefore = await Promise.all([a!, b!].map((m) => m.status()));
    // The outsiders, each through counting proxies in front of the two members.
    const proxies = {
      revoked: [await CountingProxy.start('127.0.0.1', portOf(a!.address)), await CountingProxy.start('127.0.0.1', portOf(b!.address))],
      wrongKey: [await CountingProxy.start('127.0.0.1', portOf(a!.address)), await CountingProxy.start('127.0.0.1', portOf(b!.address))],
      unpairedLibp2p: [await CountingProxy.start('127.0.0.1', portOf(a!.address))],
      rawJunk: [await CountingProxy.start('127.0.0.1', portOf(a!.address))],
    };
    // Revoked: gamma's old group file (the previous secret, the old member list), dialing both.
    const old = JSON.parse(readFileSync(stolen, 'utf8')) as { directory: Record<string, string[]> };
    old.directory = { [a!.peerId]: [`${proxies.revoked[0]!.address}/p2p/${a!.peerId}`], [b!.peerId]: [`${proxies.revoked[1]!.address}/p2p/${b!.peerId}`] };
    writeFileSync(groupFile, JSON.stringify(old), { mode: 0o600 });
    await c!.start();
    // Wrong key: a group of its own (it invited nobody in time), dialing both members.
    const own = await invite(w!, 1);
    expect(await own.exit).toBe(1);
    await w!.stop();
    w!.peers.push(proxies.wrongKey[0]!.address, proxies.wrongKey[1]!.address);
    await w!.start();
    // Unpaired: a libp2p node with no group secret.
    const bare = await createLibp2p({ addresses: { listen: [] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()], services: {} });
    onCleanup(async () => bare.stop());
    const outsiders = { revoked: c!.peerId, wrongKey: w!.peerId, unpairedLibp2p: bare.peerId.toString() };

    // Alpha keeps writing secret lines all along; beta keeps receiving them.
    const writing = startWriting([{ writer: wa, root: () => a!.folder, files: () => sessions, bytesPerSec: 10_000 }], rng.fork(2));
    let failed = true;
    try {
      const t0 = Date.now();
      let bareAttempts = 0;
      let junkAttempts = 0;
      const replays: Record<string, Array<{ bytes: number; closedByServer: boolean; text: string }>> = { memberHandshake: [], pairingUsedCode: [], pairingNewCode: [] };
      const fresh = await invite(a!, 600);
      const freshPort = portOf(decodeCode(fresh.code).addresses[0]!);
      while (Date.now() - t0 < ATTACK_MS) {
        bareAttempts++;
        await bare.dial(multiaddr(proxies.unpairedLibp2p[0]!.address), { signal: AbortSignal.timeout(5000) }).then(
          (conn) => conn.close(),
          () => undefined,
        );
        junkAttempts++;
        await replay('127.0.0.1', proxies.rawJunk[0]!.port, randomBytes(rng.int(1, 4096)), 5000);
        for (const [what, port, bytes] of [
          ['memberHandshake', portOf(a!.address), memberBytes],
          ['pairingUsedCode', pairingPort, pairingBytes],
          ['pairingNewCode', freshPort, pairingBytes],
        ] as const) {
          const r = await replay('127.0.0.1', port, bytes, 5000);
          replays[what]!.push({ bytes: r.received.length, closedByServer: r.closedByServer, text: r.received.toString('latin1') });
        }
        await new Promise((r) => setTimeout(r, 500));
      }
      fresh.proc.kill('SIGTERM');
      await writing.stop();
      await until(() => sizesMatch(b!.folder, ledger), { timeoutMs: 60_000, everyMs: 200, what: 'beta to keep receiving during the attacks' });

      // What each outsider's sockets received.
      const secretTexts = [...ledger.lines.keys()].map((k) => `"uuid":"${k.replace(':', '-')}"`);
      const leaks = (buf: Buffer | string) => secretTexts.filter((t) => buf.toString('latin1').includes(t)).length + (buf.toString('latin1').includes('sessionId') ? 1 : 0);
      const per = (ps: CountingProxy[]) => {
        const all = ps.flatMap((p) => p.connections);
        return {
          connections: all.length,
          maxBytesPerConnection: Math.max(0, ...all.map((x) => x.toClient)),
          totalBytes: all.reduce((n, x) => n + x.toClient, 0),
          sessionTextFound: all.reduce((n, x) => n + leaks(x.received), 0),
        };
      };
      const outcome = {
        revoked: per(proxies.revoked),
        wrongKey: per(proxies.wrongKey),
        unpairedLibp2p: { ...per(proxies.unpairedLibp2p), attempts: bareAttempts },
        rawJunk: { ...per(proxies.rawJunk), attempts: junkAttempts },
        ...Object.fromEntries(
          Object.entries(replays).map(([k, rs]) => [
            `replayed_${k}`,
            { connections: rs.length, maxBytesPerConnection: Math.max(0, ...rs.map((r) => r.bytes)), totalBytes: rs.reduce((n, r) => n + r.bytes, 0), sessionTextFound: rs.reduce((n, r) => n + leaks(r.text), 0), closedByServer: rs.filter((r) => r.closedByServer).length },
          ]),
        ),
      };
      const statusA = await a!.status();
      report('outsiders', {
        attackSeconds: ATTACK_MS / 1000,
        sessionLinesWritten: ledger.count,
        smallestSessionLineBytes: Math.min(...[...ledger.lines.values()].map((l) => l.bytes)),
        ...outcome,
        outsiderFiles: { revoked: listFiles(c!.folder).length, wrongKey: listFiles(w!.folder).length },
        alphaConnectedTo: statusA.peers.filter((p) => p.connected).map((p) => p.name),
        refusalsInAlphaLog: (a!.log().match(/refused a connection/g) ?? []).length,
      });

      // What each member itself opened to and sent each outsider during the attacks: nothing.
      const countersAfter = await Promise.all([a!, b!].map((m) => m.status()));
      const sentToOutsiders = [a!, b!].flatMap((m, i) =>
        Object.entries(outsiders).map(([who, peerId]) => {
          const at = (s: Status) => s.traffic.peers.find((p) => p.peerId === peerId);
          const before = at(countersBefore[i]!);
          const after = at(countersAfter[i]!);
          const delta = (k: keyof PeerTraffic) => (after?.[k] as number | undefined ?? 0) - (before?.[k] as number | undefined ?? 0);
          return { member: m.name, outsider: who, connections: delta('connections'), syncStreams: delta('syncStreams'), membersStreams: delta('membersStreams'), otherStreams: delta('otherStreams'), framesSent: delta('framesSent'), itemsSent: delta('itemsSent'), indexBytesSent: delta('indexBytesSent'), dataFrames: delta('dataFrames') };
        }),
      );
      report('outsiders-counters', { sentToOutsiders, alphaToBeta: countersAfter[0]!.traffic.peers.find((p) => p.peerId === b!.peerId) ?? null });
      for (const x of sentToOutsiders) {
        expect(x, `${x.member} → ${x.outsider}`).toEqual({ member: x.member, outsider: x.outsider, connections: 0, syncStreams: 0, membersStreams: 0, otherStreams: 0, framesSent: 0, itemsSent: 0, indexBytesSent: 0, dataFrames: 0 });
      }
      // The counters count: alpha sent beta index entries and data over its sync stream.
      const toBeta = countersAfter[0]!.traffic.peers.find((p) => p.peerId === b!.peerId);
      expect(toBeta?.syncStreams).toBeGreaterThan(0);
      expect(toBeta?.itemsSent).toBeGreaterThan(0);
      expect(toBeta?.indexBytesSent).toBeGreaterThan(0);
      for (const [k, v] of Object.entries(outcome)) {
        expect(v.connections, k).toBeGreaterThan(0);
        if (!k.startsWith('replayed_')) continue;
        expect(v.sessionTextFound, k).toBe(0);
        // Handshake bytes only: never as much as one session line.
        expect(v.maxBytesPerConnection, k).toBeLessThan(MIN_LINE);
      }
      // The revoked device holds only the 6 lines it had before its removal; the outsider nothing.
      expect(listFiles(w!.folder)).toEqual([]);
      for (const f of listFiles(c!.folder)) {
        expect(fileKeys(c!.folder, f).every((k) => Number(k.split(':')[1]) < 6), `${f} on the revoked device`).toBe(true);
      }
      expect(statusA.peers.filter((p) => p.connected).map((p) => p.name)).toEqual(['beta']);
      failed = false;
    } finally {
      if (failed) {
        await writing.stop().catch(() => undefined);
        console.error(`[torture] outsiders failed: logs in ${saveLogs('outsiders', { alpha: a!.log(), beta: b!.log(), gamma: c!.log(), outsider: w!.log() })}`);
      }
    }
  });
});
