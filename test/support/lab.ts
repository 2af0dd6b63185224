/**
 * What the tests over the NAT topology share (reach, relay): the session fixture they sync, roamd
 * started inside a host's namespace, status and waiting with a readable account of every daemon's
 * peers, and a topology that is removed after the file's tests, even when one fails.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect } from 'vitest';
import type { PeerStatus, Status } from '../../packages/cli/src/control/protocol.js';
import { until } from '../harness/poll.js';
import { stopAll, type DaemonHandle } from './daemons.js';
import { listNamespaces } from './netns.js';
import { createTopology, type Host, type Topology, type TopologyResult } from './topology.js';

export const SID = '1af7fc5e-8455-4414-9ccd-011d40f70b2a';
export const FIXTURE = fileURLToPath(new URL(`../../examples/two-node/fixtures/${SID}.jsonl`, import.meta.url));
/** Every host listens on this port on 0.0.0.0 of its namespace (so a move changes its addresses). */
export const PORT = 4001;

/**
 * A topology for this test file: made by `make` (null with the reason when namespaces cannot be
 * made), and removed with every daemon after the file's tests, checked to leave no namespace behind.
 */
export function labTopology(): { make(opts: Parameters<typeof createTopology>[0]): TopologyResult } {
  let topo: Topology | null = null;
  afterAll(async () => {
    await stopAll();
    if (topo) {
      const prefix = topo.prefix;
      const left = topo.remove();
      topo = null;
      expect(left).toEqual([]);
      expect(listNamespaces().filter((n) => n.startsWith(prefix))).toEqual([]);
    }
  });
  return {
    make(opts) {
      const made = createTopology(opts);
      if (made.ok) topo = made.topology;
      return made;
    },
  };
}

/** Starts roamd inside the host's namespace on 0.0.0.0, mDNS off. */
export async function startIn(host: Host, d: DaemonHandle, extra: string[] = []): Promise<void> {
  await d.start(extra, { netns: host.ns, listen: `/ip4/0.0.0.0/tcp/${PORT}` });
}

export function status(d: DaemonHandle): Status {
  const r = d.roam('status', '--json');
  if (r.status !== 0) throw new Error(`roam status on ${d.name} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Status;
}

export const peerOf = (s: Status, d: DaemonHandle): PeerStatus | undefined => s.peers.find((p) => p.peerId === d.peerId);

/** Polls `fn`; on a timeout, says what each daemon's status showed of its peers (`pick`) and the end of its log. */
export async function waitFor(what: string, ds: DaemonHandle[], fn: () => boolean, pick: (p: PeerStatus) => unknown, timeoutMs = 30_000): Promise<void> {
  await until(fn, {
    timeoutMs, everyMs: 200, what,
    detail: () => Object.fromEntries(ds.map((d) => {
      let peers: unknown;
      try {
        peers = status(d).peers.map(pick);
      } catch (err) {
        peers = String(err);
      }
      return [d.name, { peers, log: d.output.slice(-2500) }];
    })),
  });
}

/** Every file under `dir` whose bytes contain one of `needles`. */
export function filesContaining(dir: string, needles: readonly Buffer[]): string[] {
  const found: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) {
        const bytes = readFileSync(p);
        if (needles.some((n) => bytes.includes(n))) found.push(p);
      }
    }
  };
  if (existsSync(dir)) walk(dir);
  return found;
}
