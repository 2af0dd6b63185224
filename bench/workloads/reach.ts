/**
 * W7, append latency across NATs: the W1 measurement on the three paths a group meets, in one run,
 * in the NAT lab (test/harness/topology.ts: network namespaces, nftables masquerade; root only,
 * skipped otherwise). A sits behind NAT 1; L beside it on the same LAN (the LAN figure); B behind
 * NAT 2, a fully random NAT, so that A and B meet only through R, a relay-only device in the public
 * namespace (the relayed figure); P, a member in the public namespace that A reaches through its
 * NAT (the direct figure). Every device is given only R's address: the rest comes from the
 * address book. Each append on A is timed until each of L, B and P holds the file byte for byte
 * (polled together every millisecond): the same appends, the same moment, three paths.
 */
import { appendFileSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { createTopology, type Topology } from '#harness/topology.js';
import { untilOk } from '#harness/poll.js';
import { appendLines } from '../lib/corpus.js';
import { corpus, type Ctx, type WorkloadResult } from '../lib/context.js';
import { Arrivals, linkTree } from '../lib/fsutil.js';
import { scratch } from '../lib/pairs.js';
import { RoamNode } from '../lib/roam.js';
import { log, sleep, summarize } from '../lib/util.js';

const PORT = 4001;
const LANES = [
  { id: 'lan', node: 'L', label: 'A → L on the same LAN (direct)', via: 'direct' },
  { id: 'relay', node: 'B', label: 'A → B, both behind NAT, through relay R', via: 'relay' },
  { id: 'direct', node: 'P', label: 'A → P, a public member, direct through A\'s NAT', via: 'direct' },
] as const;

export async function reachLatency(ctx: Ctx, res: WorkloadResult): Promise<void> {
  const made = createTopology({ homes: 2, randomPorts: [false, true] });
  if (!made.ok) {
    res.status = 'skipped';
    res.notes.push(`needs root, iproute2 and nftables (network namespaces): ${made.reason}`);
    log(`W7 skipped: ${made.reason}`);
    return;
  }
  const t: Topology = made.topology;
  const nodes: RoamNode[] = [];
  try {
    const s = ctx.sizes;
    const c = await corpus(ctx, 'append', { kind: 'corpus', files: s.appendCorpusFiles, bytes: s.appendCorpusBytes });
    const mains = c.manifest.files.filter((f) => /^[^/]+\/[^/]+\.jsonl$/.test(f.path));
    const target = [...mains].sort((x, y) => Math.abs(x.size - 200_000) - Math.abs(y.size - 200_000))[0]!;
    const lines = appendLines(ctx.seed, s.appends, path.basename(target.path, '.jsonl')).map((l) => Buffer.from(l));
    res.sizes = { corpus: `${c.manifest.files.length} files, ${(c.manifest.totalBytes / 1e6).toFixed(1)} MB`, log: `${target.path} (${target.size} B at start)`, appends: s.appends, gapMs: s.appendGapMs };

    const root = scratch(ctx, 'n');
    const host = { r: t.addHost('r', 'public'), a: t.addHost('a', 1), l: t.addHost('l', 1), b: t.addHost('b', 2), p: t.addHost('p', 'public') };
    const make = (name: keyof typeof host, args?: string[]): RoamNode => {
      const n = new RoamNode(path.join(root, name), name.toUpperCase(), { nodeArgs: ctx.roamdNodeArgs, netns: { ns: host[name].ns, listen: `/ip4/0.0.0.0/tcp/${PORT}` }, ...(args ? { args } : {}) });
      nodes.push(n);
      return n;
    };
    const r = make('r', ['--relay']);
    await r.start();
    const rAddr = `/ip4/${host.r.address}/tcp/${PORT}/p2p/${r.peerId}`;
    const a = make('a');
    await linkTree(c.dir, a.projects, c.manifest.files, true);
    const [l, b, p] = [make('l'), make('b'), make('p')];
    await Promise.all([a, l, b, p].map((n) => n.start([rAddr])));
    const peers = { L: l, B: b, P: p };
    for (const n of [l, b, p]) {
      const arrivals = new Arrivals(n.projects, c.manifest.files);
      await untilOk(() => arrivals.poll(), { what: `${n.name} to sync the corpus`, timeoutMs: 300_000, everyMs: 100 });
    }
    // Each path as it should be: L and P direct, B through the relay.
    await untilOk(async () => {
      const st = await a.status();
      for (const lane of LANES) {
        const peer = st.peers.find((x) => x.peerId === peers[lane.node].peerId);
        if (!peer?.connected || peer.via !== lane.via || !peer.inSync) return `${lane.node}: ${peer ? `${peer.via ?? 'not connected'}${peer.inSync ? '' : ', not in sync'}` : 'unknown'}`;
      }
      return undefined;
    }, { what: 'A to reach L and P directly and B through R, in sync', timeoutMs: 120_000, everyMs: 200 });

    const aFile = path.join(a.projects, target.path);
    let expected = readFileSync(aFile);
    const samples = new Map<string, number[]>(LANES.map((x) => [x.id, []]));
    const timeouts = new Map<string, number>(LANES.map((x) => [x.id, 0]));
    const t0 = Date.now();
    for (let i = 0; i < lines.length; i++) {
      expected = Buffer.concat([expected, lines[i]!]);
      appendFileSync(aFile, lines[i]!);
      const start = performance.now();
      const pending = new Set<string>(LANES.map((x) => x.id));
      const deadline = start + 30_000;
      while (pending.size && performance.now() < deadline) {
        for (const lane of LANES) {
          if (!pending.has(lane.id)) continue;
          const f = path.join(peers[lane.node].projects, target.path);
          let size = -1;
          try {
            size = statSync(f).size;
          } catch {
            // not there yet
          }
          if (size === expected.length && readFileSync(f).equals(expected)) {
            samples.get(lane.id)!.push(performance.now() - start);
            pending.delete(lane.id);
          }
        }
        if (pending.size) await sleep(1);
      }
      for (const id of pending) timeouts.set(id, timeouts.get(id)! + 1);
      if (pending.size) res.status = 'partial';
      await sleep(s.appendGapMs);
      if ((i + 1) % 25 === 0 || i + 1 === lines.length) log(`W7 round ${i + 1}/${lines.length} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    }
    for (const lane of LANES) {
      const xs = samples.get(lane.id)!;
      const n = timeouts.get(lane.id)!;
      res.figures.push({
        id: `reach.${lane.id}`, label: `append → identical, ${lane.label}`, unit: 'ms',
        summary: summarize(xs), samples: xs.map((x) => Math.round(x * 100) / 100),
        ...(n ? { note: `${n} timed out` } : {}),
      });
    }
    const lan = res.figures.find((f) => f.id === 'reach.lan')!;
    for (const id of ['relay', 'direct']) {
      const f = res.figures.find((x) => x.id === `reach.${id}`)!;
      res.comparisons.push({ label: `append latency p50, ${id === 'relay' ? 'through the relay' : 'direct across NAT'} vs the LAN`, figure: f.id, reference: lan.id, ratio: f.summary.median / lan.summary.median, sense: 'above 1: slower than the LAN' });
    }
    res.notes.push('veth links inside one machine: no added delay (the kernel has no netem), so the figures are the cost of the path\'s hops and of roam on each, not of distance');
  } finally {
    await Promise.allSettled(nodes.map((n) => n.stop()));
    const left = t.remove();
    if (left.length) log(`W7: namespaces left behind: ${left.join(', ')}`);
  }
}
