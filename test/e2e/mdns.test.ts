/**
 * mDNS end to end: two real roamd processes, each in its own network namespace created here and
 * joined by a veth pair (addresses in a private /24 that exists only inside the namespaces, a
 * route for 224.0.0.0/4 in each), find each other with no `--peer` and converge. mDNS never runs on
 * the host's interfaces. The `roam` CLI runs on the host: the control socket is a file, so it
 * reaches a daemon in any namespace.
 *
 * Needs root and iproute2. When `ip netns add` fails the test is skipped with a loud notice, except
 * under CI=true, where it fails.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { Status } from '../../packages/cli/src/control/protocol.js';
import { until } from '../../packages/core/test/support/poll.js';
import { replicatedTree } from '../support/tree.js';
import { makeDaemon, stopAll, type DaemonHandle } from '../support/daemons.js';
import { createVethPair, listNamespaces, type Namespace, type VethPair } from '../support/netns.js';

const SID = '1af7fc5e-8455-4414-9ccd-011d40f70b2a';
const FIXTURE = fileURLToPath(new URL(`../../examples/two-node/fixtures/${SID}.jsonl`, import.meta.url));
/** SIGTERM, then SIGKILL after this long. */
const GRACE_MS = 5_000;

// ------------------------------------------------------------------ cleanup, whatever happens

let pair: VethPair | null = null;
const procs = new Set<ChildProcess>();

const alive = (p: ChildProcess): boolean => p.exitCode === null && p.signalCode === null;

async function stopProc(p: ChildProcess): Promise<void> {
  if (!alive(p)) return;
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGTERM');
  const timer = setTimeout(() => p.kill('SIGKILL'), GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/** Stops the daemons, deletes the namespaces (with them the veth pair), removes the temp dirs. */
async function cleanup(): Promise<void> {
  await Promise.all([...procs].map(stopProc));
  procs.clear();
  await stopAll(); // removes the daemons' temp dirs (their processes are stopped above)
  if (pair) {
    const left = pair.remove();
    const names = [pair.a.name, pair.b.name];
    pair = null;
    process.off('exit', lastResort);
    if (left.length) throw new Error(`network namespaces left behind: ${left.join(', ')}`);
    const listed = listNamespaces().filter((n) => names.includes(n));
    if (listed.length) throw new Error(`ip netns list still shows ${listed.join(', ')}`);
  }
}

/** If the worker exits before the hooks ran (killed run): kill the daemons, delete the namespaces. */
function lastResort(): void {
  for (const p of procs) if (alive(p)) p.kill('SIGKILL');
  if (pair) {
    for (const n of [pair.a.name, pair.b.name]) spawnSync('ip', ['netns', 'del', n], { timeout: 5_000 });
  }
}

afterEach(cleanup);

// ------------------------------------------------------------------ daemons inside namespaces

/** Starts roamd inside `ns`, listening on its veth address only, mDNS on, no `--peer`. */
async function startIn(ns: Namespace, d: DaemonHandle): Promise<void> {
  // `ip netns exec` execs node in place: the child's pid is roamd's, signals reach it directly.
  const starting = d.start([], { netns: ns.name, listen: `/ip4/${ns.address}/tcp/0`, mdns: true });
  procs.add(d.proc!);
  await starting;
}

function status(d: DaemonHandle): Status {
  const r = d.roam('status', '--json');
  if (r.status !== 0) throw new Error(`roam status on ${d.name} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Status;
}

const connectedTo = (s: Status, peerId: string): boolean => s.peers.some((p) => p.peerId === peerId && p.connected);

/**
 * Waits until B's folder equals A's entry for entry: content, size, (owner) mode and mtime. (An append
 * lands before its mtime is set, so content alone can match a moment before the mtime does.)
 */
async function sameTree(a: DaemonHandle, b: DaemonHandle, timeoutMs = 20_000): Promise<void> {
  const entries = async (d: DaemonHandle) => new Map((await replicatedTree(d.projects)).map((e) => [e.path, JSON.stringify({ ...e, content: undefined })]));
  let last: unknown;
  await until(
    async () => {
      const [ta, tb] = [await entries(a), await entries(b)];
      const paths = [...new Set([...ta.keys(), ...tb.keys()])].sort();
      const differ = paths.filter((p) => ta.get(p) !== tb.get(p));
      last = { differ: differ.slice(0, 5).map((p) => ({ path: p, a: ta.get(p) ?? null, b: tb.get(p) ?? null })) };
      return differ.length === 0;
    },
    {
      timeoutMs,
      everyMs: 50,
      what: `${b.name}'s folder to equal ${a.name}'s`,
      detail: () => {
        const brief = (d: DaemonHandle) => {
          try {
            const s = status(d);
            return { folders: s.folders, peers: s.peers.map(({ name, connected, need, peerNeeds, inSync }) => ({ name, connected, need, peerNeeds, inSync })) };
          } catch (err) {
            return String(err);
          }
        };
        return { ...(last as object), statusA: brief(a), statusB: brief(b), logA: a.output.slice(-3000), logB: b.output.slice(-3000) };
      },
    },
  );
}

const line = (i: number) => `${JSON.stringify({ type: 'user', uuid: `m-${i}`, sessionId: SID, message: { content: `over mDNS ${i} ${'.'.repeat(200)}` } })}\n`;

// ------------------------------------------------------------------ the test

describe('roamd over mDNS', () => {
  it('two daemons in two network namespaces find each other with no --peer and converge', { timeout: 45_000 }, async ({ skip }) => {
    const made = createVethPair('roam-mdns');
    if (!made.ok) {
      if (process.env.CI === 'true') throw new Error(`the mDNS test needs network namespaces (root and iproute2): ${made.reason}`);
      const notice = `mDNS e2e test SKIPPED: cannot create network namespaces (needs root and iproute2): ${made.reason}`;
      console.warn(`\n${'!'.repeat(notice.length)}\n${notice}\n${'!'.repeat(notice.length)}\n`);
      return skip(notice);
    }
    pair = made.pair;
    process.on('exit', lastResort);
    const { a: nsA, b: nsB } = made.pair;
    let failed = false;
    try {
      const a = makeDaemon('alpha');
      const b = makeDaemon('beta');
      // The project's directories exist before the daemons start: a new directory is watched a
      // moment after it appears (a watcher race with a rescan behind it, not what this test is about).
      const dir = join(a.projects, '-home-alice-code-app');
      mkdirSync(join(dir, SID, 'subagents'), { recursive: true });
      await Promise.all([startIn(nsA, a), startIn(nsB, b)]);
      for (const [d, ns] of [[a, nsA], [b, nsB]] as const) {
        expect(d.addresses).toHaveLength(1);
        expect(d.addresses[0]).toMatch(new RegExp(`^/ip4/${ns.address.replaceAll('.', '\\.')}/tcp/\\d+/p2p/${d.peerId}$`));
      }

      // Connected with no --peer: each one's status (asked from the host) shows the other.
      let last: unknown;
      await until(
        () => {
          const [sa, sb] = [status(a), status(b)];
          last = { a: sa.peers, b: sb.peers };
          return connectedTo(sb, a.peerId) && connectedTo(sa, b.peerId);
        },
        { timeoutMs: 20_000, everyMs: 100, what: 'alpha and beta to connect over mDNS', detail: () => ({ last, logA: a.output, logB: b.output }) },
      );
      const seenByB = status(b).peers.find((p) => p.peerId === a.peerId)!;
      expect(seenByB).toMatchObject({ name: 'alpha', connected: true });
      expect(seenByB.addresses.some((x) => x.startsWith(`/ip4/${nsA.address}/tcp/`))).toBe(true);
      // Found on the local network (at least the one that started second finds the first). Polled:
      // the logs come through pipes, which may lag behind the control socket.
      const found = (d: DaemonHandle, other: DaemonHandle) => d.output.includes(`(${other.peerId}) on the local network`);
      await until(() => found(a, b) || found(b, a), { timeoutMs: 10_000, everyMs: 20, what: 'a daemon to log an mDNS find', detail: () => ({ logA: a.output, logB: b.output }) });

      // A session written on A arrives byte-identical on B.
      const session = join(dir, `${SID}.jsonl`);
      copyFileSync(FIXTURE, session);
      writeFileSync(join(dir, SID, 'subagents', 'agent-a3f9c2e.jsonl'), line(0));
      await sameTree(a, b);
      const onB = join(b.projects, '-home-alice-code-app', `${SID}.jsonl`);
      expect(readFileSync(onB).equals(readFileSync(session))).toBe(true);
      expect(await replicatedTree(b.projects)).toEqual(await replicatedTree(a.projects));

      // Appends stream over the same link.
      for (let i = 1; i <= 50; i++) appendFileSync(session, line(i));
      await sameTree(a, b);
      expect(readFileSync(onB).equals(readFileSync(session))).toBe(true);

      for (const d of [a, b]) {
        await stopProc(d.proc!);
        expect(d.proc!.exitCode, d.output).toBe(0);
        expect(d.output).toContain('roamd stopped');
      }
    } catch (err) {
      failed = true;
      throw err;
    } finally {
      // Clean up here too (afterEach does it again, idempotently); when the test already failed,
      // a cleanup error is logged rather than hiding the test's own.
      if (failed) await cleanup().catch((e: unknown) => console.error(`mDNS test cleanup failed too: ${String(e)}`));
      else await cleanup();
    }
    expect(listNamespaces().filter((n) => n === nsA.name || n === nsB.name)).toEqual([]);
  });
});
