/**
 * roam demo: two real `roamd` daemons on this machine, one Claude Code session, replicated line
 * by line.
 *
 * Two daemons (the built `packages/cli/dist/roamd.js`) run as child processes, a "laptop" and a
 * "desktop", each in a temporary home of its own (its ~/.claude/projects and its ROAM_HOME),
 * listening on 127.0.0.1 only, with LAN discovery off and a group key made for this run. The
 * desktop is told the laptop's address and joins it over libp2p (TCP, Noise, Yamux, the group's
 * private network). A real Claude Code session is then written onto the laptop one line at a
 * time, as Claude Code writes it; the laptop's daemon notices each write through its file watcher.
 * The desktop's copy is watched from the outside (by polling the file) and every line is printed
 * as it arrives there, with the time since it was written on the laptop. One line is written in
 * two halves with a pause between them, to show that a peer never holds half a line. Then
 * `roam sync --wait` confirms the two are in sync, and both daemons are stopped with SIGTERM.
 *
 *   npm run demo                                       (builds, then runs this)
 *   node examples/dist/two-node/demo.js [--quiet]      (--quiet: the summary alone)
 *
 * ROAM_DEMO_TMP, if set, is the directory the temporary homes are made in (default: the OS temp
 * dir). The daemons are stopped and the homes removed when the demo ends, however it ends.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
// The launcher, CLI runner and polling helper the tests use too (test/harness/).
import { runRoam, type CliResult } from '#harness/cli.js';
import { until } from '#harness/poll.js';
import { ROAM, ROAMD, Roamd } from '#harness/roamd.js';

const quiet = process.argv.includes('--quiet');
/** Set by Ctrl-C (or SIGTERM): from then on the demo only cleans up, and prints nothing more. */
let interrupted = false;
/** The story, line by line (not with --quiet). */
const say = (line = '') => {
  if (!quiet && !interrupted) console.log(line);
};
/** The summary. */
const report = (line: string) => {
  if (!interrupted) console.log(line);
};

const SESSION_ID = '1af7fc5e-8455-4414-9ccd-011d40f70b2a';
/** Where Claude Code keeps this session, relative to ~/.claude/projects (the folder roam syncs). */
const SESSION = `-home-demo-app/${SESSION_ID}.jsonl`;
/** The session's content (see fixtures/SOURCES.md), found from examples/dist/two-node/. */
const FIXTURE = fileURLToPath(new URL(`../../two-node/fixtures/${SESSION_ID}.jsonl`, import.meta.url));
/** Pause between two lines written on the laptop. */
const LINE_GAP_MS = 15;
/** How long the laptop waits between the two halves of the line it writes in two. */
const HALF_PAUSE_MS = 500;
/** How long the laptop waits before writing the first half of that line. */
const QUIET_MS = 150;
/** How long a daemon gets to stop after SIGTERM before it is killed. */
const STOP_GRACE_MS = 10_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- daemons and their homes

interface Daemon {
  readonly name: string;
  /** Its temporary HOME; ROAM_HOME is `<home>/.roam`. */
  readonly home: string;
  /** ~/.claude/projects: the folder roamd syncs (Claude Code's sessions). */
  readonly projects: string;
  readonly env: NodeJS.ProcessEnv;
  /** The running roamd: its process, everything it printed, its peer id and addresses. */
  readonly roamd: Roamd;
}

const homes: string[] = [];
const daemons: Daemon[] = [];

/** SIGTERM, then SIGKILL if it has not exited after the grace period. Resolves with its exit code. */
const stopDaemon = (d: Daemon): Promise<number | null> => d.roamd.stop(STOP_GRACE_MS);

function removeHomes(): void {
  for (const home of homes.splice(0)) fs.rmSync(home, { recursive: true, force: true });
}

let cleaning: Promise<Array<number | null>> | undefined;
/** Stops every daemon, then removes the homes. Safe to call more than once. */
function cleanUp(): Promise<Array<number | null>> {
  cleaning ??= Promise.all(daemons.map(stopDaemon)).finally(removeHomes);
  return cleaning;
}

// Whatever happens (success, an error, Ctrl-C), the daemons stop and the temporary homes go.
// Ctrl-C: the daemons are stopped in order; a second Ctrl-C does not wait for them.
process.once('exit', () => {
  for (const d of daemons) if (d.roamd.running) d.roamd.proc.kill('SIGKILL');
  removeHomes();
});
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(code);
    say(`\n${signal}: stopping the daemons…`);
    interrupted = true;
    void cleanUp().finally(() => process.exit(code));
  });
}

/** A device: a temporary HOME with an empty ~/.claude/projects and its own ROAM_HOME. */
function makeHome(name: string, groupKey: string): Omit<Daemon, 'roamd'> {
  const home = fs.mkdtempSync(path.join(process.env.ROAM_DEMO_TMP || os.tmpdir(), `roam-demo-${name}-`));
  homes.push(home);
  const projects = path.join(home, '.claude', 'projects');
  fs.mkdirSync(projects, { recursive: true });
  // Only what roamd needs: none of this shell's CLAUDE_CONFIG_DIR, CODEX_HOME and the like, which
  // would point the daemon at this machine's real session folders.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, ROAM_HOME: path.join(home, '.roam'), ROAM_GROUP_KEY: groupKey };
  return { name, home, projects, env };
}

/**
 * Starts roamd on 127.0.0.1, without mDNS, dialing `peers`; resolves once it listens (its peer id
 * and addresses are then known).
 */
async function startDaemon(name: string, groupKey: string, peers: string[] = []): Promise<Daemon> {
  if (interrupted) throw new Error('interrupted');
  const h = makeHome(name, groupKey);
  // detached: a process group of its own, so that Ctrl-C reaches the demo alone, which then stops
  // the daemons in order.
  const d: Daemon = { ...h, roamd: Roamd.spawn({ name, env: h.env, cwd: h.home, peers, detached: true, startTimeoutMs: 20_000 }) };
  daemons.push(d);
  await d.roamd.ready();
  return d;
}

/** Runs `roam <args>` (the built CLI) against a daemon, through its control socket; code null: killed on timeout. */
function roam(d: Daemon, args: string[], timeoutMs = 60_000): Promise<CliResult> {
  return runRoam(args, { env: d.env, cwd: d.home, timeoutMs });
}

/** The part of `roam status --json` this demo reads. */
interface Status {
  name: string;
  version: string;
  peers: Array<{ name: string; connected: boolean; paused: boolean; inSync: boolean; need: { items: number }; peerNeeds: { items: number } }>;
  folders: Array<{ id: string; items: number; bytes: number }>;
}

async function status(d: Daemon): Promise<Status> {
  const r = await roam(d, ['status', '--json']);
  if (r.code !== 0) throw new Error(`roam status (${d.name}) exited with ${r.code}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as Status;
}

/** `roam status`, as one line. */
function statusLine(s: Status): string {
  const peers = s.peers.map((p) => `${p.name} ${p.connected ? `connected${p.paused ? ', paused' : p.inSync ? ', in sync' : `, ${p.need.items} item(s) to receive, ${p.peerNeeds.items} to send`}` : 'offline'}`);
  const folders = s.folders.map((f) => `folder ${f.id}: ${f.items} item(s), ${f.bytes} bytes`);
  return [`${s.name} (roam ${s.version})`, ...peers, ...folders].join('; ');
}


// ---------------------------------------------------------------- watching the desktop's copy

/**
 * Polls a file every 5 ms, from the outside, and calls `onLine` for each complete line that has
 * appeared since the last look. `poll()` looks right away; `size` is the size last seen.
 */
function watchLines(file: string, onLine: (n: number, line: Buffer) => void): { poll(): void; stop(): void; readonly size: number } {
  let offset = 0;
  let size = 0;
  let n = 0;
  const poll = () => {
    size = fs.existsSync(file) ? fs.statSync(file).size : 0;
    if (size <= offset) return;
    const buf = Buffer.alloc(size - offset);
    const fd = fs.openSync(file, 'r');
    try {
      fs.readSync(fd, buf, 0, buf.length, offset);
    } finally {
      fs.closeSync(fd);
    }
    // Report complete lines only; anything after the last newline is looked at again next time.
    for (let from = 0, nl = buf.indexOf(0x0a); nl !== -1; from = nl + 1, nl = buf.indexOf(0x0a, from)) {
      onLine(++n, buf.subarray(from, nl + 1));
      offset += nl + 1 - from;
    }
  };
  const timer = setInterval(poll, 5);
  return {
    poll,
    stop: () => clearInterval(timer),
    get size() {
      return size;
    },
  };
}

function splitLines(content: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  for (let from = 0; from < content.length; ) {
    const nl = content.indexOf(0x0a, from);
    const end = nl === -1 ? content.length : nl + 1;
    lines.push(content.subarray(from, end));
    from = end;
  }
  return lines;
}

/** What a Claude Code line is, for display only: its `type`, and a glimpse of its content. */
function describe(text: string): { kind: string; gist: string } {
  let line: { type?: unknown; message?: { content?: unknown } };
  try {
    line = JSON.parse(text) as typeof line;
  } catch {
    return { kind: '?', gist: text };
  }
  const kind = typeof line.type === 'string' ? line.type : '?';
  const flat = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v) ?? '');
  const content = line.message?.content;
  const first = (Array.isArray(content) ? content[0] : content) as { type?: string; text?: unknown; name?: unknown; input?: unknown; content?: unknown } | string | undefined;
  let gist: string;
  if (first === undefined) gist = text;
  else if (typeof first === 'string') gist = first;
  else if (first.type === 'text') gist = flat(first.text);
  else if (first.type === 'tool_use') gist = `${flat(first.name)} ${flat(first.input)}`;
  else if (first.type === 'tool_result') gist = `→ ${flat(Array.isArray(first.content) ? (first.content[0] as { text?: unknown } | undefined)?.text : first.content)}`;
  else gist = flat(first);
  return { kind, gist: gist.replace(/\s+/g, ' ').trim() };
}

const short = (peerId: string) => `${peerId.slice(0, 8)}…${peerId.slice(-4)}`;

// ---------------------------------------------------------------- the demo

async function main(): Promise<boolean> {
  for (const file of [ROAMD, ROAM]) if (!fs.existsSync(file)) throw new Error(`${file} is missing: build first (npm run build)`);
  const content = fs.readFileSync(FIXTURE);
  const lines = splitLines(content);
  const t0 = Date.now();

  say('roam demo: two real roamd daemons on this machine, one Claude Code session, replicated line by line');
  say();
  say('Starting two daemons, each in a temporary home of its own, listening on 127.0.0.1 only');
  say('(no LAN discovery), sharing a group key made for this run:');
  const groupKey = randomBytes(32).toString('hex');
  const laptop = await startDaemon('laptop', groupKey);
  say(`  laptop   peer ${short(laptop.roamd.peerId)}  listening on ${laptop.roamd.addresses[0]!.replace(/\/p2p\/.*$/, '')}   HOME=${laptop.home}`);
  const desktop = await startDaemon('desktop', groupKey, [laptop.roamd.addresses[0]!]);
  say(`  desktop  peer ${short(desktop.roamd.peerId)}  listening on ${desktop.roamd.addresses[0]!.replace(/\/p2p\/.*$/, '')}   HOME=${desktop.home}`);
  say(`  both up in ${Date.now() - t0} ms; the desktop was given the laptop's address (--peer) and dials it`);

  // Joined: the desktop reports the laptop connected and in sync (both folders empty).
  const joinedFrom = Date.now();
  await until(
    async () => {
      for (const d of daemons) if (!d.roamd.running) throw new Error(`roamd ${d.name} exited with code ${d.roamd.proc.exitCode}`);
      return (await status(desktop)).peers.some((p) => p.name === 'laptop' && p.connected && p.inSync);
    },
    { timeoutMs: 20_000, what: 'the desktop to connect to the laptop' },
  );
  say(`  joined: \`roam status\` on the desktop shows the laptop connected, in sync, after ${Date.now() - joinedFrom} ms`);
  say();

  const onA = path.join(laptop.projects, SESSION);
  const onB = path.join(desktop.projects, SESSION);
  say(`Claude Code on the laptop writes a session, one line every ${LINE_GAP_MS} ms; roamd's watcher sees each write:`);
  say(`  ~/.claude/projects/${SESSION}  (${lines.length} lines, ${content.length} bytes)`);
  say("The desktop's copy, watched from outside: each line as it arrives there, and how long after it was written.");
  say();

  // When each line was completed on the laptop, and how long it took to show up on the desktop.
  const writtenAt: number[] = [];
  const latency: number[] = [];
  const watcher = watchLines(onB, (n, line) => {
    const after = Date.now() - (writtenAt[n - 1] ?? Date.now());
    latency.push(after);
    const { kind, gist } = describe(line.toString('utf8'));
    say(`  desktop ← line ${String(n).padStart(2)}  +${String(after).padStart(3)} ms  ${String(line.length).padStart(4)} bytes  ${kind.padEnd(9)} ${gist.length > 48 ? `${gist.slice(0, 47)}…` : gist}`);
  });

  fs.mkdirSync(path.dirname(onA), { recursive: true });
  // This line is written in two halves, as a tool flushing a long line might do.
  const split = Math.floor(lines.length / 2);
  let heldBack = false;
  for (const [i, line] of lines.entries()) {
    if (i === split) {
      // A moment of quiet first: the watcher gathers a burst of changes before it looks, and this
      // write must reach the daemon while the file ends in half a line. Lines 1 to i then reach the desktop; for the whole pause its copy must not grow.
      await sleep(QUIET_MS);
      const complete = lines.slice(0, i).reduce((sum, l) => sum + l.length, 0);
      const cut = Math.floor(line.length / 2);
      fs.appendFileSync(onA, line.subarray(0, cut));
      say(`  laptop ✎ line ${i + 1}: first ${cut} of ${line.length} bytes written, no newline yet; pausing ${HALF_PAUSE_MS} ms`);
      await until(() => (watcher.poll(), watcher.size >= complete), { timeoutMs: 10_000, what: `lines 1-${i} to reach the desktop` });
      let most = watcher.size;
      for (const end = Date.now() + HALF_PAUSE_MS; Date.now() < end; await sleep(5)) {
        watcher.poll();
        most = Math.max(most, watcher.size);
      }
      const onBNow = fs.readFileSync(onB);
      heldBack = most === complete && onBNow.length === complete && onBNow[onBNow.length - 1] === 0x0a;
      say(
        heldBack
          ? `    meanwhile the desktop's copy stayed at ${complete} bytes, lines 1-${i} exactly: the half line was not sent`
          : `    UNEXPECTED: the desktop's copy reached ${most} bytes, but lines 1-${i} are ${complete} bytes`,
      );
      fs.appendFileSync(onA, line.subarray(cut));
      say(`  laptop ✎ line ${i + 1}: the other ${line.length - cut} bytes written, newline included`);
    } else {
      fs.appendFileSync(onA, line);
    }
    writtenAt[i] = Date.now();
    await sleep(LINE_GAP_MS);
  }
  const written = writtenAt[lines.length - 1]!;

  // `roam sync --wait` on the laptop: exits 0 once the desktop holds everything the laptop holds.
  const synced = await roam(laptop, ['sync', '--wait', '--timeout', '30']);
  if (synced.code !== 0) throw new Error(`roam sync --wait on the laptop exited with ${synced.code}: ${synced.stderr.trim()}`);
  const syncedAfter = Date.now() - written;
  // The last lines may still be on their way to this process's poll of the file.
  await until(() => (watcher.poll(), latency.length >= lines.length), { timeoutMs: 10_000, what: 'the desktop to show every line' });
  watcher.stop();
  say(`  laptop $ roam sync --wait --timeout 30   →  ${synced.stdout.trim()} (${syncedAfter} ms after the last write)`);

  const copy = fs.readFileSync(onB);
  const identical = fs.readFileSync(onA).equals(content) && copy.equals(content);
  const sorted = [...latency].sort((a, b) => a - b);
  const p50 = sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
  const max = sorted[sorted.length - 1] ?? 0;
  const desktopStatus = statusLine(await status(desktop));
  const ok = identical && heldBack && latency.length === lines.length;

  report(quiet ? 'roam demo (two roamd daemons, one Claude Code session)' : '\nSummary');
  report(`  lines: ${splitLines(copy).length} on the desktop (line ${split + 1} was written in two halves; half line held back: ${heldBack ? 'yes' : 'NO'})`);
  report(`  bytes: ${copy.length}`);
  report(`  arrival latency: p50 ${p50} ms, max ${max} ms (from the write on the laptop to the whole line on the desktop)`);
  report(`  roam sync --wait on the laptop: ${synced.stdout.trim()}, ${syncedAfter} ms after the last write`);
  report(`  byte-identical: ${identical ? 'yes' : 'NO'}`);
  report(`  roam status on the desktop: ${desktopStatus}`);

  const codes = await cleanUp();
  const clean = codes.every((c) => c === 0);
  const shown = codes.map((c) => c ?? 'none (killed)').join(' and ');
  if (!clean && !interrupted) console.error(`roam demo: after SIGTERM the daemons exited with code ${shown}, expected 0 and 0`);
  say(`\nBoth daemons stopped (SIGTERM, exit code ${shown}), temporary homes removed.`);
  return ok && clean;
}

main().then(
  (ok) => {
    process.exitCode = ok ? 0 : 1;
  },
  async (err: unknown) => {
    // Interrupted: the daemons stopping under it is what made it fail; the handler exits.
    if (interrupted) return;
    console.error('roam demo failed:', err instanceof Error ? err.message : err);
    for (const d of daemons) if (d.roamd.output) console.error(`\n--- roamd ${d.name} output ---\n${d.roamd.output.trimEnd()}`);
    await cleanUp().catch(() => undefined);
    process.exit(1);
  },
);
