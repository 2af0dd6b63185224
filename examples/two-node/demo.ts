/**
 * roam demo: two devices, one Claude Code session, replicated line by line.
 *
 * Two replication engines run in this process, each over a real folder in a temporary home (a
 * "laptop" and a "desktop"), joined by an in-process link that carries the real roam wire
 * protocol. A real Claude Code session is written onto the laptop one line at a time, as Claude
 * Code writes it; the desktop's copy is watched from the outside (by polling the file) and every
 * line is printed as it arrives there. One line is written in two halves, to show that a peer
 * only ever receives complete lines.
 *
 *   npm run demo                                       (builds, then runs this)
 *   node examples/dist/two-node/demo.js [--quiet]      (--quiet: the summary alone)
 *
 * ROAM_DEMO_TMP, if set, is the directory the temporary homes are made in (default: the OS temp
 * dir). They are removed when the demo ends, however it ends.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from '@roam/core';
import { FsFolderStore, nodeHasher } from '@roam/core/node';
import { linkPair, type LinkPair } from '@roam/core/testing';

const quiet = process.argv.includes('--quiet');
const say = (line = '') => {
  if (!quiet) console.log(line);
};

const SESSION_ID = '1af7fc5e-8455-4414-9ccd-011d40f70b2a';
/** Where Claude Code keeps this session, relative to ~/.claude (the folder roam syncs). */
const SESSION = `projects/-home-demo-app/${SESSION_ID}.jsonl`;
/** The session's content (see fixtures/SOURCES.md), found from examples/dist/two-node/. */
const FIXTURE = fileURLToPath(new URL(`../../two-node/fixtures/${SESSION_ID}.jsonl`, import.meta.url));
/** Pause between two lines written on the laptop. */
const LINE_GAP_MS = 15;

// ---------------------------------------------------------------- temporary homes

const homes: string[] = [];

function removeHomes(): void {
  for (const home of homes.splice(0)) fs.rmSync(home, { recursive: true, force: true });
}

// Whatever happens (success, an error, Ctrl-C), the temporary homes go.
process.once('exit', removeHomes);
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));

// ---------------------------------------------------------------- a device

interface Device {
  readonly name: string;
  readonly id: string;
  /** The synced folder: this device's ~/.claude. */
  readonly root: string;
  readonly engine: Engine;
}

/** A device: a temp home, its ~/.claude, and a roam engine over it (state kept in ~/.roam). */
async function openDevice(name: string, id: string): Promise<Device> {
  const home = fs.mkdtempSync(path.join(process.env.ROAM_DEMO_TMP || os.tmpdir(), `roam-demo-${name}-`));
  homes.push(home);
  const root = path.join(home, '.claude');
  fs.mkdirSync(root);
  const store = await FsFolderStore.create({ root, stateDir: path.join(home, '.roam', 'claude') });
  const engine = await Engine.open({
    device: id,
    name,
    software: 'roam-demo',
    // Claude Code's folder: divergent sessions become resumable forks; deleting an old session
    // on one machine does not delete it on the others.
    folders: [{ id: 'claude', conflict: 'fork', logDeletes: 'local' }],
    newIndexId: () => randomBytes(8).toString('hex'),
    stores: new Map([['claude', store]]),
    hasher: nodeHasher,
    clock: { now: Date.now },
    // Notes from the engine (refused frames, conflicts): none in a clean run.
    log: (line) => console.error(`  [${name}] ${line}`),
  });
  return { name, id, root, engine };
}

/** Resolves when both engines are idle and nothing is in flight on the link, either way. */
async function settle(pair: LinkPair, a: Device, b: Device): Promise<void> {
  for (;;) {
    const frames = pair.carried.frames;
    await a.engine.settled();
    await b.engine.settled();
    await pair.drained();
    await a.engine.settled();
    await b.engine.settled();
    if (pair.carried.frames === frames) return;
  }
}

// ---------------------------------------------------------------- watching the desktop's copy

/**
 * Polls a file every 10 ms, from the outside, and calls `onLine` for each complete line that has
 * appeared since the last look. `poll()` looks right away.
 */
function watchLines(file: string, onLine: (n: number, line: Buffer) => void): { poll(): void; stop(): void } {
  let offset = 0;
  let n = 0;
  const poll = () => {
    const size = fs.existsSync(file) ? fs.statSync(file).size : 0;
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
  const timer = setInterval(poll, 10);
  return { poll, stop: () => clearInterval(timer) };
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

/** A Claude Code line's `type` (user, assistant, summary, …), for display only. */
function kindOf(text: string): string {
  try {
    const type: unknown = (JSON.parse(text) as { type?: unknown }).type;
    return typeof type === 'string' ? type : '?';
  } catch {
    return '?';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- the demo

async function main(): Promise<boolean> {
  const laptop = await openDevice('laptop', '00000000000000a1');
  const desktop = await openDevice('desktop', '00000000000000b2');
  const pair = await linkPair({ id: laptop.id, engine: laptop.engine }, { id: desktop.id, engine: desktop.engine });

  const content = fs.readFileSync(FIXTURE);
  const lines = splitLines(content);
  const onA = path.join(laptop.root, SESSION);
  const onB = path.join(desktop.root, SESSION);

  say('roam demo: two devices, one Claude Code session, replicated line by line');
  say();
  say(`  laptop  (A, device ${laptop.id})   ${laptop.root}`);
  say(`  desktop (B, device ${desktop.id})   ${desktop.root}`);
  say('  joined in this process by a link that carries real roam protocol frames');
  say();
  say(`Claude Code on the laptop writes a session, one line every ${LINE_GAP_MS} ms:`);
  say(`  ~/.claude/${SESSION}  (${lines.length} lines, ${content.length} bytes)`);
  say('The desktop\'s copy, watched from outside: each line as it arrives there.');
  say();

  // When each line was completed on A, to show how long it took to reach B.
  const writtenAt: number[] = [];
  const watcher = watchLines(onB, (n, line) => {
    const after = Date.now() - (writtenAt[n - 1] ?? Date.now());
    const text = line.toString('utf8').trimEnd();
    say(`  B ← line ${String(n).padStart(2)} (${String(line.length).padStart(4)} bytes, ${kindOf(text).padEnd(10)}+${after} ms): ${text.slice(0, 80)}${text.length > 80 ? '…' : ''}`);
  });

  const started = Date.now();
  fs.mkdirSync(path.dirname(onA), { recursive: true });
  // This line is written in two halves, as a tool flushing a long line might do.
  const split = Math.floor(lines.length / 2);
  let heldBack = false;
  for (const [i, line] of lines.entries()) {
    if (i === split) {
      const cut = Math.floor(line.length / 2);
      fs.appendFileSync(onA, line.subarray(0, cut));
      // A looks at the file, then both engines and the link go idle: whatever A would send
      // about this half line would have reached B by now.
      await laptop.engine.scan('claude', [SESSION]);
      await settle(pair, laptop, desktop);
      watcher.poll();
      const complete = lines.slice(0, i).reduce((sum, l) => sum + l.length, 0);
      const onBNow = fs.existsSync(onB) ? fs.readFileSync(onB) : Buffer.alloc(0);
      heldBack = onBNow.length === complete && onBNow[onBNow.length - 1] === 0x0a;
      const verdict = heldBack ? 'the half line was not sent' : onBNow.length < complete ? 'UNEXPECTED: B is behind' : 'UNEXPECTED: B has part of it';
      say(`  A ✎ line ${i + 1}: first ${cut} of ${line.length} bytes written, no newline yet`);
      say(`    B holds ${onBNow.length} bytes (lines 1-${i} are ${complete} bytes): ${verdict}`);
      await sleep(LINE_GAP_MS);
      fs.appendFileSync(onA, line.subarray(cut));
      say(`  A ✎ line ${i + 1}: the other ${line.length - cut} bytes written, newline included`);
    } else {
      fs.appendFileSync(onA, line);
    }
    writtenAt[i] = Date.now();
    // Tell A's engine to look at the file (roamd's file watcher will do this).
    await laptop.engine.scan('claude', [SESSION]);
    await sleep(LINE_GAP_MS);
  }

  // Wait (at most 10 s) for the desktop to hold the whole session.
  for (const deadline = Date.now() + 10_000; !(fs.existsSync(onB) && fs.statSync(onB).size >= content.length); ) {
    if (Date.now() > deadline) throw new Error(`the desktop did not receive the whole session within 10 s`);
    await sleep(5);
  }
  await settle(pair, laptop, desktop);
  const elapsed = Date.now() - started;
  watcher.poll();
  watcher.stop();

  const copy = fs.readFileSync(onB);
  const identical = fs.readFileSync(onA).equals(content) && copy.equals(content);
  const ok = identical && heldBack;
  console.log(quiet ? 'roam demo (two devices, one Claude Code session)' : '\nSummary');
  console.log(`  lines: ${splitLines(copy).length} on the desktop (line ${split + 1} was written in two halves; half line held back: ${heldBack ? 'yes' : 'NO'})`);
  console.log(`  bytes: ${copy.length}`);
  console.log(`  frames carried: ${pair.carried.frames} (${pair.carried.bytes} bytes, both directions)`);
  console.log(`  time: ${elapsed} ms (the laptop paused ${LINE_GAP_MS} ms between lines)`);
  console.log(`  byte-identical: ${identical ? 'yes' : 'NO'}`);

  await pair.close();
  await laptop.engine.close();
  await desktop.engine.close();
  removeHomes();
  say('\nBoth engines stopped, temporary homes removed.');
  return ok;
}

main().then(
  (ok) => {
    process.exitCode = ok ? 0 : 1;
  },
  (err: unknown) => {
    console.error('roam demo failed:', err);
    process.exit(1); // the watcher or an engine may still hold the event loop; 'exit' cleans up
  },
);
