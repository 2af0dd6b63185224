/**
 * Kill -9 a writer at random points and check that the store always recovers to a consistent
 * state. The child (fixtures/crash-writer.mjs) uses the BUILT store, so run `tsc -b` first.
 */
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { LineChain } from '../src/log/chain.js';
import { GENESIS } from '../src/log/position.js';
import { FsFolderStore, nodeHasher } from '../src/node/index.js';

const WRITER = fileURLToPath(new URL('./fixtures/crash-writer.mjs', import.meta.url));
const KILLS = 50;
let base = '';

afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

/** Runs the writer until it has said `ready` plus `progress` commits, then kills it after `delayMs`. */
async function runAndKill(root: string, stateDir: string, progress: number, delayMs: number, reported: Map<string, number>): Promise<void> {
  const child = spawn(process.execPath, [WRITER, root, stateDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<string>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? `exit ${code}`)));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  let pending = '';
  let seen = -1; // lines after "ready"
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      pending += d;
      for (let nl = pending.indexOf('\n'); nl !== -1; nl = pending.indexOf('\n')) {
        const msg = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (msg !== 'ready') {
          const [name, lines] = msg.split(' ');
          reported.set(name!, Number(lines));
        }
        if (++seen >= progress) resolve();
      }
    });
    void exited.then((how) => reject(new Error(`writer ended early (${how}): ${stderr}`)));
  });
  await new Promise((r) => setTimeout(r, delayMs));
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
}

it(`recovers a consistent log after SIGKILL at ${KILLS} random points`, async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'roam-crash-'));
  const root = path.join(base, 'root');
  const stateDir = path.join(base, 'state');
  fs.mkdirSync(root);
  const reported = new Map<string, number>(); // lines each log had at a commit the child printed
  const persisted = new Map<string, number>(); // lines each log had at the previous check
  const verified = new Map<string, string>(); // logs already checked whose file has not changed since
  let rolledBack = 0;
  let unknownFound = 0;

  for (let i = 0; i < KILLS; i++) {
    await runAndKill(root, stateDir, randomInt(3), randomInt(150), reported);
    const sizesBefore = new Map(fs.readdirSync(root).map((n) => [n, fs.statSync(path.join(root, n)).size]));

    const store = await FsFolderStore.create({ root, stateDir, checkpointInterval: 64 << 10 });
    const opened = await store.open();
    const files = fs.readdirSync(root).sort();
    expect(files.filter((n) => n.startsWith('.roam-tmp-'))).toEqual([]);
    // Every known log is a file. A new log is created whole under a temp name and renamed into
    // place before its record: a kill in between leaves it unknown, and the first scan reports
    // it (whole, checked below) as a new item; then every file is a known log.
    const known = new Set(opened.map((s) => s.name));
    const found = await store.scan();
    for (const c of found) {
      expect(c.change).toBe('replace');
      expect(known.has(c.state.name)).toBe(false);
      unknownFound++;
    }
    const states = [...known, ...found.map((c) => c.state.name)].map((n) => store.stat(n)!);
    expect(states.map((s) => s.name).sort()).toEqual(files);
    for (const name of files) {
      const file = path.join(root, name);
      const st = fs.statSync(file);
      const state = store.stat(name)!;
      if (st.size < sizesBefore.get(name)!) rolledBack++;
      const key = `${st.ino}:${st.size}:${st.mtimeMs}:${state.size}:${state.lines}`;
      if (verified.get(name) !== key) {
        const bytes = fs.readFileSync(file);
        const chain = new LineChain(nodeHasher, GENESIS, 64 << 10);
        chain.push(bytes);
        expect(chain.partialBytes, `${name} ends with a partial line`).toBe(0);
        expect({ size: state.size, lines: state.lines, hash: state.hash }).toEqual({ size: bytes.length, lines: chain.pos.line, hash: chain.pos.hash });
        expect(await store.checkpoints(name)).toEqual(chain.takeCheckpoints());
        verified.set(name, key);
      }
      // Committed lines are never lost, and the persisted count never goes back.
      expect(state.lines).toBeGreaterThanOrEqual(Math.max(reported.get(name) ?? 0, persisted.get(name) ?? 0));
      persisted.set(name, state.lines);
    }
    expect(await store.scan()).toEqual([]);
    await store.close();
  }
  console.log(`crash test: ${KILLS} kills, ${rolledBack} torn appends rolled back, ${unknownFound} new logs found by scan, logs: ${[...persisted].map(([n, l]) => `${n}=${l}`).join(' ')}`);
}, 120_000);
