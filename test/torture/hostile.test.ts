/**
 * Torture: a hostile paired peer. It holds the group key (so it passes the private network and
 * Noise) and speaks the sync protocol badly on purpose, at a live roamd (the target), while an
 * honest daemon keeps syncing with the target in both directions:
 *
 * 1. fuzzed frames, one stream after another (random bytes, valid frames with random edits,
 *    msgpack values of any shape, hostile names), some after a proper handshake;
 * 2. oversize frames: a length over 2 MiB, a length prefix that never ends, a 2 MiB msgpack
 *    bomb (an array header of 2^32 - 1 elements, arrays nested 2 million deep), a bin claiming 1 GB;
 * 3. a flood of tiny valid frames (full run: a million; quick: 20,000);
 * 4. well-formed frames that try to escape the folder or exhaust the target: items whose names
 *    reach through symlinks in the target's folder (to a directory and a file outside it), a
 *    claim of a 1 TB file (served for a while, never finished), logs of one endless line each,
 *    served a MiB at a time across many items at once.
 *
 * The target must stay up (same process throughout), write nothing outside its folder and state
 * directory, keep its memory bounded (RSS sampled twice a second), and keep syncing with the honest
 * daemon (every line both write arrives; lag reported).
 */
import { createHash, randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode } from '@msgpack/msgpack';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_DATA_BYTES, MAX_FRAME_BYTES, MESSAGE_TYPES, encodeMessage, type Message } from '../../packages/core/src/protocol/index.js';
import { until } from '../../packages/core/test/support/poll.js';
import { TEST_GROUP_KEY } from '../support/daemons.js';
import { cleanupAll, onCleanup, tempDir } from './support/cleanup.js';
import { TortureDaemon, meshConnected } from './support/daemon.js';
import { HostilePeer, varint, type RawStream } from './support/hostile.js';
import { LagSampler, RssSampler } from './support/lag.js';
import { Ledger, Writer, sizesMatch, startWriting, verifyExact } from './support/lines.js';
import { SEED, sized } from './support/profile.js';
import { percentile, report, saveLogs } from './support/report.js';
import { Rng } from './support/rng.js';

afterEach(cleanupAll);

const FUZZ_STREAMS = sized(200, 10_000);
const TINY_FRAMES = sized(20_000, 1_000_000);
/** 1 TB claimed; this much actually served before the peer stops. */
const TB_SERVED = sized(16, 256) * 1024 * 1024;
/** Items with one endless line each, and the MiB chunks sent for each. */
const FLOOD_ITEMS = sized(24, 64);
const FLOOD_CHUNKS = sized(4, 16);
const MiB = 1024 * 1024;

const H32 = (fill: number) => new Uint8Array(32).fill(fill);
const GENESIS = { offset: 0, line: 0, hash: new Uint8Array(32) };

/** Every path under `root` (relative), except those under `skip` (relative prefixes). */
function snapshot(root: string, skip: string[], rel = ''): string[] {
  const out: string[] = [];
  for (const d of readdirSync(join(root, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${d.name}` : d.name;
    if (skip.some((s) => r === s || r.startsWith(`${s}/`))) continue;
    out.push(d.isSymbolicLink() ? `${r} -> ${readlinkSync(join(root, r))}` : r);
    if (d.isDirectory()) out.push(...snapshot(root, skip, r));
  }
  return out.sort();
}

/** Chain hash of complete lines (docs/PROTOCOL.md §2). */
function chain(data: Buffer): { size: number; lines: number; hash: Uint8Array } {
  let h: Uint8Array = new Uint8Array(32);
  let lines = 0;
  let start = 0;
  for (let i = data.indexOf(0x0a); i >= 0; i = data.indexOf(0x0a, start)) {
    h = createHash('sha256').update(h).update(data.subarray(start, i + 1)).digest();
    lines++;
    start = i + 1;
  }
  return { size: start, lines, hash: h };
}

describe('torture: a hostile paired peer', () => {
  it('fuzzed, oversize, flooding and escaping frames: the daemon stays up, writes nothing outside its folder, keeps its memory bounded and keeps serving its honest peer', { timeout: sized(300_000, 3_600_000) }, async () => {
    const rng = new Rng(SEED ^ 0xbad);
    // The target's folder holds symlinks a peer might try to write through.
    const outside = tempDir('outside');
    mkdirSync(join(outside, 'dir'));
    writeFileSync(join(outside, 'victim.jsonl'), '{"untouched":true}\n');
    const outsideBefore = snapshot(outside, []);
    const victimBefore = readFileSync(join(outside, 'victim.jsonl'));

    const d = await TortureDaemon.create({ name: 'target' });
    const h = await TortureDaemon.create({ name: 'honest', peers: [] });
    h.peers.push(d.address);
    symlinkSync(join(outside, 'dir'), join(d.folder, 'escape'));
    symlinkSync(join(outside, 'victim.jsonl'), join(d.folder, 'link.jsonl'));
    mkdirSync(join(d.folder, 'sub'));
    symlinkSync(outside, join(d.folder, 'sub', 'out'));
    await d.start();
    await h.start();
    await meshConnected([d, h]);
    const pid = d.pid;
    const rootBefore = snapshot(d.root, ['folder', 'roam/state', 'roam/roamd.sock']);

    // The honest traffic, both ways, all along.
    const ledger = new Ledger();
    const sessionsH = Array.from({ length: 4 }, (_, i) => `-home-me-h/h${i}.jsonl`);
    const sessionsD = Array.from({ length: 4 }, (_, i) => `-home-me-d/d${i}.jsonl`);
    const writing = startWriting(
      [
        { writer: new Writer('wh', ledger, rng.fork(1)), root: () => h.folder, files: () => sessionsH, bytesPerSec: 20_000 },
        { writer: new Writer('wd', ledger, rng.fork(2)), root: () => d.folder, files: () => sessionsD, bytesPerSec: 20_000 },
      ],
      rng.fork(3),
    );
    const lag = new LagSampler([...sessionsH.map((f) => join(d.folder, f)), ...sessionsD.map((f) => join(h.folder, f))], 50);
    const rss = new RssSampler(() => [{ name: 'target', rssKiB: () => d.rssKiB() }], 500);
    await new Promise((r) => setTimeout(r, 2000));
    const baselineKiB = d.rssKiB()!;

    const x = await HostilePeer.create(TEST_GROUP_KEY, (await d.status()).deviceId);
    onCleanup(() => x.stop());
    await x.dial(d.address);
    const figures: Record<string, unknown> = {};
    let failed = true;
    try {
      // ---------------------------------------------------------------- 1. fuzzed frames
      const samples: Message[] = [
        x.hello(),
        x.folders(),
        { t: 'index', folder: 'torture', indexId: x.indexId, items: [], upTo: 0 },
        { t: 'want', folder: 'torture', name: 'p/a.jsonl', wantId: 1, version: { [x.deviceId]: 1 }, kind: 'log', from: GENESIS, hash: H32(1) },
        { t: 'logData', folder: 'torture', name: 'p/a.jsonl', wantId: 1, version: { [x.deviceId]: 1 }, start: GENESIS, chunk: 0, data: Buffer.from('{"x":1}\n'), end: { offset: 8, line: 1, hash: H32(2) }, mtimeMs: 1 },
        { t: 'fileData', folder: 'torture', name: 'p/b.md', wantId: 2, version: { [x.deviceId]: 1 }, offset: 0, data: Buffer.from('hi'), size: 2, hash: H32(3), lines: 0, mtimeMs: 1, mode: 0o644, done: true },
        { t: 'cancel', folder: 'torture', wantId: 7 },
        { t: 'gone', folder: 'torture', name: 'p/a.jsonl', wantId: 1, reason: 'missing' },
      ];
      const frames = samples.map((m) => encodeMessage(m));
      const hostileNames = ['../../etc/passwd', '/etc/passwd', 'a/../../b.jsonl', 'a\u0000b.jsonl', 'x'.repeat(300), 'y/'.repeat(3000), 'a\\b', '.', 'escape/../../x'];
      const fuzzFrame = fc.oneof(
        fc.uint8Array({ maxLength: 2048 }),
        fc.tuple(fc.constantFrom(...frames), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 5 })).map(([f, edits]) => {
          const b = Uint8Array.from(f);
          for (const [at, v] of edits) b[at % b.length] = v;
          return b;
        }),
        fc.tuple(fc.constantFrom(...MESSAGE_TYPES), fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 8 })).map(([t, rest]) => encode({ ...rest, t })),
        fc.tuple(fc.constantFrom(...samples.filter((m) => 'name' in m && m.t !== 'hello')), fc.constantFrom(...hostileNames)).map(([m, name]) => encode({ ...m, name })),
      );
      const cases = fc.sample(fc.tuple(fc.boolean(), fc.array(fuzzFrame, { minLength: 1, maxLength: 3 })), { numRuns: FUZZ_STREAMS, seed: SEED });
      let fuzzFrames = 0;
      let closedByTarget = 0;
      const t1 = Date.now();
      for (const [handshake, fs] of cases) {
        if (!x.connected) await x.dial(d.address);
        const s = await x.open();
        if (handshake) await x.handshake(s);
        for (const f of fs) {
          fuzzFrames++;
          if (!(await s.sendFrame(f))) break;
        }
        await s.closeWrite();
        if (await s.waitClosed(5000)) closedByTarget++;
        s.abort();
      }
      figures.fuzz = { streams: cases.length, frames: fuzzFrames, closedByTarget, seconds: Math.round((Date.now() - t1) / 1000) };
      expect(d.pid).toBe(pid);

      // ---------------------------------------------------------------- 2. oversize frames
      const oversize: Array<[string, Uint8Array]> = [
        ['length over 2 MiB', Buffer.concat([varint(MAX_FRAME_BYTES + 1), Buffer.alloc(64 * 1024, 1)])],
        ['length of 4 GiB', Buffer.concat([varint(2 ** 32), Buffer.alloc(1024, 1)])],
        ['a length prefix that never ends', Buffer.alloc(64, 0xff)],
        ['an array of 2^32-1 elements', Buffer.concat([varint(MAX_FRAME_BYTES), Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]), Buffer.alloc(MAX_FRAME_BYTES - 5, 0xc0)])],
        ['arrays nested 2 million deep', Buffer.concat([varint(MAX_FRAME_BYTES), Buffer.alloc(MAX_FRAME_BYTES, 0x91)])],
        ['a bin claiming 1 GB', Buffer.concat([varint(1024), Buffer.from([0x81, 0xa1, 0x74, 0xc6, 0x40, 0x00, 0x00, 0x00]), Buffer.alloc(1024 - 8, 0)])],
        ['a map of 2^32-1 keys', Buffer.concat([varint(16), Buffer.from([0xdf, 0xff, 0xff, 0xff, 0xff]), Buffer.alloc(11, 0)])],
      ];
      const oversizeOutcome: Record<string, string> = {};
      for (const [what, bytes] of oversize) {
        if (!x.connected) await x.dial(d.address);
        const s = await x.open();
        await x.handshake(s);
        await s.sendRaw(bytes);
        oversizeOutcome[what] = (await s.waitClosed(10_000)) ? 'stream closed by the target' : 'still open';
        s.abort();
      }
      figures.oversize = oversizeOutcome;
      for (const v of Object.values(oversizeOutcome)) expect(v).toBe('stream closed by the target');
      expect(d.pid).toBe(pid);

      // ---------------------------------------------------------------- 3. a flood of tiny frames
      {
        if (!x.connected) await x.dial(d.address);
        const s = await x.open();
        await x.handshake(s);
        const t3 = Date.now();
        const batch = 1000;
        let sent = 0;
        while (sent < TINY_FRAMES && !s.closed) {
          const parts: Uint8Array[] = [];
          for (let i = 0; i < batch && sent < TINY_FRAMES; i++, sent++) {
            const f = encodeMessage({ t: 'cancel', folder: 'torture', wantId: 1 + (sent % 100_000) });
            parts.push(varint(f.length), f);
          }
          if (!(await s.sendRaw(Buffer.concat(parts)))) break;
        }
        // The target has read them all once it answers a frame sent after them: ask for an item
        // it does not have, and wait for its `gone`.
        await s.send({ t: 'want', folder: 'torture', name: 'no/such.jsonl', wantId: 424242, version: {}, kind: 'log', from: GENESIS, hash: H32(0) });
        await s.waitFor((m) => m.t === 'gone' && m.wantId === 424242, sized(120_000, 1_200_000), 'the target to get through the flood');
        figures.tinyFrames = { frames: sent, seconds: +((Date.now() - t3) / 1000).toFixed(1), framesPerSecond: Math.round(sent / ((Date.now() - t3) / 1000)), streamStayedOpen: !s.closed };
        expect(sent).toBe(TINY_FRAMES);
        s.abort();
      }
      expect(d.pid).toBe(pid);

      // ---------------------------------------------------------------- 4. escaping and exhausting
      {
        if (!x.connected) await x.dial(d.address);
        const s = await x.open();
        await x.handshake(s, 1000);
        const version = { [x.deviceId]: 1 };
        const lines = Buffer.from('{"pwned":1}\n{"pwned":2}\n');
        const lc = chain(lines);
        const fileBody = Buffer.from('pwned\n');
        const fileHash = createHash('sha256').update(fileBody).digest();
        const item = (name: string, kind: 'log' | 'file', size: number, nLines: number, hash: Uint8Array, seq: number) => ({
          name, kind, deleted: false, size, lines: nLines, hash, mtimeMs: Date.now(), mode: 0o644, version, seq, modifiedBy: x.deviceId,
        });
        const escapes = ['escape/pwn.jsonl', 'link.jsonl', 'sub/out/dir/pwn.jsonl', 'sub/out/victim.jsonl'];
        const items = [
          ...escapes.map((n, i) => item(n, 'log', lc.size, lc.lines, lc.hash, i + 1)),
          item('escape/pwn.txt', 'file', fileBody.length, 0, fileHash, 10),
          item('sub/out/pwn.txt', 'file', fileBody.length, 0, fileHash, 11),
          item('big/terabyte.bin', 'file', 1e12, 0, randomBytes(32), 12),
          ...Array.from({ length: FLOOD_ITEMS }, (_, i) => item(`flood/line-${i}.jsonl`, 'log', 200 * MiB, 1, randomBytes(32), 100 + i)),
        ];
        const wants = new Map<string, Extract<Message, { t: 'want' }>>();
        const off = s.onMessage((m) => {
          if (m.t === 'want') wants.set(m.name, m);
        });
        await s.send({ t: 'index', folder: 'torture', indexId: x.indexId, items, upTo: 1000 });
        await until(() => items.every((i) => wants.has(i.name)) || s.closed, { timeoutMs: 30_000, everyMs: 20, what: 'the target to ask for the items', detail: () => [...wants.keys()] });
        // Serve what it asked for: the escaping items whole and correct…
        for (const n of escapes) {
          const w = wants.get(n);
          if (w) await s.send({ t: 'logData', folder: 'torture', name: n, wantId: w.wantId, version, start: GENESIS, chunk: 0, data: lines, end: { offset: lc.size, line: lc.lines, hash: lc.hash }, mtimeMs: Date.now() });
        }
        for (const n of ['escape/pwn.txt', 'sub/out/pwn.txt']) {
          const w = wants.get(n);
          if (w) await s.send({ t: 'fileData', folder: 'torture', name: n, wantId: w.wantId, version, offset: 0, data: fileBody, size: fileBody.length, hash: fileHash, lines: 0, mtimeMs: Date.now(), mode: 0o644, done: true });
        }
        // …the terabyte for a while…
        const tb = wants.get('big/terabyte.bin');
        const chunk = Buffer.alloc(MAX_DATA_BYTES, 0x42);
        let tbSent = 0;
        if (tb) {
          for (; tbSent < TB_SERVED && !s.closed; tbSent += chunk.length) {
            await s.send({ t: 'fileData', folder: 'torture', name: 'big/terabyte.bin', wantId: tb.wantId, version, offset: tbSent, data: chunk, size: 1e12, hash: items.find((i) => i.name === 'big/terabyte.bin')!.hash, lines: 0, mtimeMs: Date.now(), mode: 0o644, done: false });
          }
        }
        // …and endless lines, a MiB at a time, across every flood item at once.
        const noNewline = Buffer.alloc(MAX_DATA_BYTES, 0x61);
        let floodSent = 0;
        for (let c = 0; c < FLOOD_CHUNKS && !s.closed; c++) {
          for (let i = 0; i < FLOOD_ITEMS && !s.closed; i++) {
            const w = wants.get(`flood/line-${i}.jsonl`);
            if (!w) continue;
            if (await s.send({ t: 'logData', folder: 'torture', name: w.name, wantId: w.wantId, version, start: GENESIS, chunk: c, data: noNewline, end: null, mtimeMs: Date.now() })) floodSent += noNewline.length;
          }
        }
        // Let the target take it all in (it answers a want once it got through), then look.
        if (!s.closed) {
          await s.send({ t: 'want', folder: 'torture', name: 'no/such.jsonl', wantId: 434343, version: {}, kind: 'log', from: GENESIS, hash: H32(0) });
          await s.waitFor((m) => (m.t === 'gone' && m.wantId === 434343) || m.t === 'error', 120_000, 'the target to take in the flood').catch(() => undefined);
        }
        rss.sample();
        const peakKiB = rss.max.get('target') ?? 0;
        const tmpWhileOpen = findTemps(d.folder);
        const refusedByTarget = s.received.filter((m) => m.t === 'error').map((m) => (m.t === 'error' ? `${m.code}: ${m.message.slice(0, 160)}` : ''));
        off();
        s.abort();
        await x.stop();
        // Once the peer is gone, nothing it sent stays half-written.
        await until(() => findTemps(d.folder).length === 0, { timeoutMs: 30_000, everyMs: 100, what: 'the target to drop the unfinished transfers', detail: () => findTemps(d.folder) });
        const outsideNow = snapshot(outside, []);
        figures.escapes = {
          served: escapes.length + 2,
          writtenThroughASymlink: outsideNow.filter((p) => !outsideBefore.includes(p)).length + (readFileSync(join(outside, 'victim.jsonl')).equals(victimBefore) ? 0 : 1),
          refusedInTargetLog: (d.log().match(/ROAM_PATH_ESCAPE/g) ?? []).length,
        };
        figures.terabyteClaim = { claimedBytes: 1e12, servedMB: tbSent / MiB, tempFilesWhileOpen: tmpWhileOpen.length, tempFilesAfter: findTemps(d.folder).length };
        figures.endlessLines = { items: FLOOD_ITEMS, servedMB: floodSent / MiB, refusedByTarget };
        figures.rssDuringFloodsMB = { baseline: Math.round((baselineKiB * 1024) / 1e6), peak: Math.round((peakKiB * 1024) / 1e6) };
      }
      expect(d.pid).toBe(pid);
      expect(d.running).toBe(true);

      // ---------------------------------------------------------------- the aftermath
      await writing.stop();
      await until(() => sizesMatch(d.folder, ledger) && sizesMatch(h.folder, ledger), { timeoutMs: 120_000, everyMs: 250, what: 'the honest traffic to converge' });
      const { lags } = await lag.stop();
      rss.stop();
      // (Only the honest writers write lines: every session file in either folder must be theirs.)
      const vd = verifyExact(d.folder, ledger);
      const vh = verifyExact(h.folder, ledger);
      // Nothing outside the folder and the state directory changed; nothing written through a symlink.
      expect(snapshot(outside, [])).toEqual(outsideBefore);
      expect(readFileSync(join(outside, 'victim.jsonl'))).toEqual(victimBefore);
      expect(snapshot(d.root, ['folder', 'roam/state', 'roam/roamd.sock'])).toEqual(rootBefore);
      for (const l of ['escape', 'link.jsonl', 'sub/out']) expect(lstatSync(join(d.folder, l)).isSymbolicLink(), l).toBe(true);
      const peakMB = Math.round(((rss.max.get('target') ?? 0) * 1024) / 1e6);
      report('hostile', {
        ...figures,
        honest: { linesWritten: ledger.count, linesChecked: vd.lines + vh.lines, lost: vd.lost + vh.lost, torn: vd.torn + vh.torn, corrupt: vd.corrupt + vh.corrupt, lagMs: { p50: percentile(lags, 50), p99: percentile(lags, 99), max: percentile(lags, 100) } },
        targetRssMB: { baseline: Math.round((baselineKiB * 1024) / 1e6), peak: peakMB, end: rss.lastMB().target },
        targetRestarts: 0,
        outsideChanged: 0,
        targetLogRefusals: (d.log().match(/refused a frame from|closing session with/g) ?? []).length,
      });
      expect(vd.problems).toEqual([]);
      expect(vh.problems).toEqual([]);
      expect(figures.escapes).toMatchObject({ writtenThroughASymlink: 0 });
      // Memory stays bounded: what the floods could have made it hold is far more than this.
      expect(peakMB - Math.round((baselineKiB * 1024) / 1e6)).toBeLessThan(300);
      await d.stop();
      expect(d.proc!.exitCode, d.output.slice(-2000)).toBe(0);
      failed = false;
    } finally {
      rss.stop();
      if (failed) {
        await writing.stop().catch(() => undefined);
        await lag.stop().catch(() => undefined);
        console.error(`[torture] hostile failed (${JSON.stringify(figures)}): daemon logs in ${saveLogs('hostile', { target: d.history, targetLog: d.log(), honest: h.history })}`);
      }
    }
  });
});

/** roam's temp files (`.roam-tmp-*`) anywhere under `root`. */
function findTemps(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...findTemps(root, r));
    else if (e.name.startsWith('.roam-tmp-')) out.push(r);
  }
  return out;
}
