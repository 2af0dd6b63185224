/**
 * roamd's Node flags (ROAMD_NODE_FLAGS, see src/roamd.ts) are in effect however a user starts it:
 * through its bin (the shebang, as the kernel runs it) and through the service unit's command line.
 * A preload (NODE_OPTIONS=--require) reports V8's young-generation size from inside the process
 * and exits before roamd does anything.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ROAMD_NODE_FLAGS, servicePlan } from '../src/commands/helpers/service-plan.js';

const SRC = fileURLToPath(new URL('../src/roamd.ts', import.meta.url));
const DIST = fileURLToPath(new URL('../dist/roamd.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'roamd-flags-'));
const probe = join(dir, 'probe.cjs');
// Short-lived garbage first: V8 grows the young generation up to its limit under it.
writeFileSync(probe, `
let keep = [];
for (let i = 0; i < 1e6; i++) { const o = { a: 'x' + i, b: new Array(8).fill(i) }; if (i % 1000 === 0) keep.push(o); }
const ns = require('node:v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
process.stdout.write(JSON.stringify({ newSpace: ns.space_size, execArgv: process.execArgv }));
process.exit(0);
`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a command line with the probe preloaded: what the process saw. */
function probeRun(argv: string[]): { newSpace: number; execArgv: string[] } {
  const r = spawnSync(argv[0]!, argv.slice(1), { env: { ...process.env, NODE_OPTIONS: `--require ${probe}` }, encoding: 'utf8', timeout: 30_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { newSpace: number; execArgv: string[] };
}

const shebang = (file: string) => readFileSync(file, 'utf8').split('\n', 1)[0]!;

describe('roamd node flags', () => {
  it('the bin shebang passes ROAMD_NODE_FLAGS (source and build)', () => {
    const want = `#!/usr/bin/env -S node ${ROAMD_NODE_FLAGS.join(' ')}`;
    expect(shebang(SRC)).toBe(want);
    expect(shebang(DIST)).toBe(want);
  });

  it.runIf(process.platform === 'linux')('roamd started through its bin and through the service unit runs with a small young generation', () => {
    // As the kernel runs a shebang script: the interpreter, the rest of the line as one argument, the file.
    const [interp, arg] = shebang(DIST).slice(2).split(/ (.*)/s) as [string, string];
    const viaBin = probeRun([interp, arg, DIST]);
    const viaPlainNode = probeRun([process.execPath, DIST]);
    // The unit's ExecStart, with this build's roamd.js (the test runs the sources).
    const exec = /^ExecStart=(.*)$/m.exec(servicePlan({ HOME: dir }, 'linux').content)![1]!.split(' ');
    const viaUnit = probeRun([...exec.slice(0, -1), DIST]);
    // V8's young generation: two semi-spaces.
    const semiMb = Number(/^--max-semi-space-size=(\d+)$/.exec(ROAMD_NODE_FLAGS.find((f) => f.startsWith('--max-semi-space-size='))!)![1]);
    expect(viaPlainNode.newSpace).toBeGreaterThan(2 * semiMb * 2 ** 20);
    for (const r of [viaBin, viaUnit]) {
      expect(r.execArgv).toEqual([...ROAMD_NODE_FLAGS]);
      expect(r.newSpace).toBeLessThanOrEqual(2 * semiMb * 2 ** 20);
    }
  });
});
