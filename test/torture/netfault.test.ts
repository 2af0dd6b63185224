/**
 * Torture: network faults. Two roamd daemons, each in a network namespace this test creates,
 * reach each other only through a third namespace where a fault-injecting proxy runs (this
 * kernel has no `tc netem`: see netemAvailable and docs/RELIABILITY.md): 5 % segment loss, 100 ms
 * ± 50 ms delay each way, jitter and random re-segmentation. Both sides write sessions
 * throughout; then the link is cut for real (`ip link set down`) for 30 s (quick: 8 s) while both
 * sides go on writing, including to the same sessions; then it heals. Both must converge to the
 * same files, each session that both sides extended must end as documented (fork mode: the
 * winner's continuation under the name, the other in one `.fork-<hash>.jsonl`), sessions written
 * on one side only fast-forward, and every line written anywhere must be in some file on both.
 *
 * Needs root and iproute2; skipped with a notice without them (fails under CI=true).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../packages/core/test/support/poll.js';
import { cleanupAll, listNamespaces } from './support/cleanup.js';
import { TortureDaemon, meshConnected } from './support/daemon.js';
import { Ledger, Writer, fileKeys, sizesMatch, startWriting, treeDigest, verifyUnion } from './support/lines.js';
import { FaultProxy, createTriple, netemAvailable, setLink } from './support/netem.js';
import { SEED, STRICT, sized } from './support/profile.js';
import { report, saveLogs } from './support/report.js';
import { Rng } from './support/rng.js';

afterEach(cleanupAll);

const FAULTS = { delayMs: 100, jitterMs: 50, loss: 0.05 };
const BEFORE_MS = sized(5_000, 60_000);
const PARTITION_MS = sized(6_000, 30_000);
const AFTER_MS = sized(3_000, 15_000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('torture: network faults', () => {
  it(`loss 5 %, delay 100 ± 50 ms and a ${PARTITION_MS / 1000} s partition with writes on both sides: all converge, forks as documented, no line lost`, { timeout: sized(240_000, 900_000) }, async ({ skip }) => {
    const made = createTriple();
    if (!made.ok) {
      if (STRICT) throw new Error(`the network-fault test needs network namespaces (root and iproute2): ${made.reason}`);
      console.warn(`\nnetwork-fault torture test SKIPPED: cannot create network namespaces: ${made.reason}\n`);
      return skip(made.reason);
    }
    const t = made.triple;
    const netem = netemAvailable();
    const rng = new Rng(SEED ^ 0x9e7);
    const PORT = 4001;
    const PROXY_PORT = 4101;
    const proxy = await FaultProxy.start(
      t.router,
      [
        { listen: `${t.a.gateway}:${PROXY_PORT}`, target: `${t.b.address}:${PORT}` },
        { listen: `${t.b.gateway}:${PROXY_PORT}`, target: `${t.a.address}:${PORT}` },
      ],
      FAULTS,
      SEED,
    );
    const a = await TortureDaemon.create({ name: 'alpha', netns: t.a.ns, host: t.a.address, port: PORT, peers: [`/ip4/${t.a.gateway}/tcp/${PROXY_PORT}`] });
    const b = await TortureDaemon.create({ name: 'beta', netns: t.b.ns, host: t.b.address, port: PORT, peers: [`/ip4/${t.b.gateway}/tcp/${PROXY_PORT}`] });
    await Promise.all([a.start(), b.start()]);
    await meshConnected([a, b], 60_000);

    // Sessions: each side's own, three that both extend during the partition, and one each
    // that only A, or only B, extends then (fast-forwards).
    const ledger = new Ledger();
    const own = (p: string) => Array.from({ length: 4 }, (_, i) => `-home-me-${p}/${p}-own-${i}.jsonl`);
    const both = Array.from({ length: 3 }, (_, i) => `-home-me-shared/both-${i}.jsonl`);
    const onlyA = ['-home-me-shared/only-a.jsonl'];
    const onlyB = ['-home-me-shared/only-b.jsonl'];
    const opts = { split: 0.1, large: 0.003, medium: 0.04 };
    const wa = new Writer('wa', ledger, rng.fork(1), opts);
    const wb = new Writer('wb', ledger, rng.fork(2), opts);
    // Shared sessions exist on both sides before anything else happens.
    for (const f of [...both, ...onlyA, ...onlyB]) await wa.append(a.folder, f, 400);
    await until(() => sizesMatch(b.folder, ledger), { timeoutMs: 60_000, everyMs: 200, what: 'the shared sessions to reach beta' });

    let phase: 'before' | 'partition' | 'after' = 'before';
    const writing = startWriting(
      [
        { writer: wa, root: () => a.folder, files: () => own('a'), bytesPerSec: 20_000 },
        { writer: wb, root: () => b.folder, files: () => own('b'), bytesPerSec: 20_000 },
        // Before the partition only A writes the shared sessions (B receives them), except
        // only-b, which B alone extends during the partition (a fast-forward: B holds all of it
        // by then); during it both write; after it nobody does (a tool writing at the moment its
        // session is replaced by the winner is not covered here: see docs/RELIABILITY.md).
        { writer: wa, root: () => a.folder, files: () => (phase === 'after' ? [] : [...both, ...onlyA]), bytesPerSec: 8_000 },
        { writer: wb, root: () => b.folder, files: () => (phase === 'partition' ? [...both, ...onlyB] : []), bytesPerSec: 8_000 },
      ],
      rng.fork(3),
    );
    let failed = true;
    try {
      await sleep(BEFORE_MS);
      const beforePartition = ledger.count;
      // The partition: R's end of A's link goes down.
      setLink(t, t.a, false);
      phase = 'partition';
      const partitionAt = Date.now();
      // Both sides extend every `both` session at least once while apart.
      for (const f of both) await Promise.all([wa.append(a.folder, f), wb.append(b.folder, f)]);
      await sleep(PARTITION_MS);
      const duringPartition = ledger.count - beforePartition;
      phase = 'after';
      setLink(t, t.a, true);
      const healedAt = Date.now();
      await sleep(AFTER_MS);
      await writing.stop();

      // Converged: the same files on both sides (content), and every line somewhere.
      let last = '';
      await until(
        () => {
          const [da, db] = [treeDigest(a.folder), treeDigest(b.folder)];
          last = `${da}\n----\n${db}`;
          return da === db && verifyUnion(a.folder, ledger).lost === 0;
        },
        { timeoutMs: sized(150_000, 400_000), everyMs: 500, what: 'alpha and beta to converge after the partition', detail: () => ({ trees: last.slice(0, 3000), a: a.output.slice(-2000), b: b.output.slice(-2000) }) },
      );
      const convergeMs = Date.now() - healedAt;
      const va = verifyUnion(a.folder, ledger);
      const vb = verifyUnion(b.folder, ledger);
      const stats = await proxy.stats();

      // Sessions both sides extended: one fork each, named after the losing continuation.
      const forkOf = (f: string) => va.forks.filter((x) => x.startsWith(f.replace(/\.jsonl$/, '.fork-')));
      const extendedByBoth = both;
      report('netfault', {
        netem: netem.detail,
        faults: { ...FAULTS, reorder: 'jitter + re-segmentation (in-order delivery, as TCP does)' },
        partitionSeconds: PARTITION_MS / 1000,
        partitionReal: 'ip link set down on the router side of A',
        proxy: stats,
        linesBeforePartition: beforePartition,
        linesDuringPartition: duringPartition,
        linesWritten: ledger.count,
        megabytesWritten: +(ledger.bytes / 1e6).toFixed(2),
        linesChecked: va.lines + vb.lines,
        filesChecked: va.files + vb.files,
        forks: va.forks.length,
        sessionsExtendedByBoth: extendedByBoth.length,
        torn: va.torn + vb.torn,
        corrupt: va.corrupt + vb.corrupt,
        unknown: va.unknown + vb.unknown,
        duplicatedWithinAFile: va.duplicated + vb.duplicated,
        reordered: va.reordered + vb.reordered,
        lost: va.lost + vb.lost,
        convergeAfterHealMs: convergeMs,
        partitionMeasuredMs: healedAt - partitionAt,
      });

      for (const v of [va, vb]) {
        expect(v.problems).toEqual([]);
        expect(v.lost).toBe(0);
      }
      expect(duringPartition).toBeGreaterThan(0);
      // Every session both sides extended ends with exactly one fork; the others with none.
      for (const f of extendedByBoth) expect(forkOf(f), f).toHaveLength(1);
      for (const f of [...onlyA, ...onlyB, ...own('a'), ...own('b')]) expect(forkOf(f), f).toEqual([]);
      expect(va.forks.length).toBe(extendedByBoth.length);
      // The name holds one continuation, the fork the other: each holds lines of one writer
      // after their common prefix, and together every line.
      for (const f of extendedByBoth) {
        const main = fileKeys(a.folder, f);
        const fork = fileKeys(a.folder, forkOf(f)[0]!);
        const inMain = new Set(main);
        const inFork = new Set(fork);
        for (const k of ledger.files.get(f)!) expect(inMain.has(k) || inFork.has(k), `${f}: ${k}`).toBe(true);
        // After their common prefix, each holds the lines of one side only.
        let common = 0;
        while (common < main.length && main[common] === fork[common]) common++;
        const writersAfter = (keys: string[]) => new Set(keys.slice(common).map((k) => k.split(':')[0]));
        expect(writersAfter(main).size, `${f}: the name's continuation`).toBe(1);
        expect(writersAfter(fork).size, `${f}: the fork's continuation`).toBe(1);
        expect([...writersAfter(main), ...writersAfter(fork)].sort(), f).toEqual(['wa', 'wb']);
      }
      failed = false;
    } finally {
      if (failed) {
        await writing.stop().catch(() => undefined);
        const where = saveLogs('netfault', { alpha: a.history, beta: b.history, status: JSON.stringify(await Promise.all([a, b].map((d) => d.status().catch(String))), null, 2) });
        console.error(`[torture] netfault failed: daemon logs in ${where}`);
      }
    }
    await cleanupAll();
    expect(listNamespaces().filter((n) => [t.a.ns, t.b.ns, t.router].includes(n))).toEqual([]);
  });
});
