/**
 * Runs the built demo (`tsc -b` comes first in `npm test`) as `npm run demo` would, in quiet mode,
 * with its temporary homes made in a directory of this test's own. The demo starts two real
 * `roamd` child processes; this test checks that they ran and that none is left behind.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const demo = path.join(repo, 'examples/dist/two-node/demo.js');
const roamd = path.join(repo, 'packages/cli/dist/roamd.js');
const fixture = fileURLToPath(new URL('./fixtures/1af7fc5e-8455-4414-9ccd-011d40f70b2a.jsonl', import.meta.url));

let tmp: string | undefined;
afterEach(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  tmp = undefined;
});

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [demo, ...args], { cwd: repo, env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

/** Linux: the processes running roamd with a HOME inside `dir` (elsewhere: none can be found). */
const procfs = fs.existsSync('/proc/self/environ');
function roamdsIn(dir: string): number[] {
  if (!procfs) return [];
  const pids: number[] = [];
  for (const pid of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (!fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(roamd)) continue;
      if (fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').some((v) => v.startsWith(`HOME=${dir}${path.sep}`))) pids.push(Number(pid));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return pids;
}

it('npm run demo: two roamd daemons replicate the session byte for byte, then stop; nothing is left behind', async () => {
  expect(fs.existsSync(demo), `${demo} is built by tsc -b`).toBe(true);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'roam-demo-test-'));
  const dir = tmp;
  fs.utimesSync(dir, 1000, 1000); // its mtime moves only if the demo makes (and removes) its homes here

  // While the demo runs, note the roamd processes it started (the HOMEs are in this test's dir).
  const seen = new Set<number>();
  const looking = setInterval(() => roamdsIn(dir).forEach((pid) => seen.add(pid)), 50);
  const { code, stdout, stderr } = await run(['--quiet'], { ...process.env, ROAM_DEMO_TMP: dir }).finally(() => clearInterval(looking));

  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  const lines = fs.readFileSync(fixture, 'utf8').split('\n').length - 1;
  expect(lines).toBe(29);
  expect(stdout).toMatch(new RegExp(`^  lines: ${lines} on the desktop \\(.*half line held back: yes\\)$`, 'm'));
  expect(stdout).toMatch(new RegExp(`^  bytes: ${fs.statSync(fixture).size}$`, 'm'));
  expect(stdout).toMatch(/^ {2}arrival latency: p50 \d+ ms, max \d+ ms /m);
  expect(stdout).toMatch(/^ {2}roam sync --wait on the laptop: in sync with desktop, \d+ ms after the last write$/m);
  expect(stdout).toMatch(/^ {2}byte-identical: yes$/m);
  expect(stdout).toMatch(/^ {2}roam status on the desktop: desktop \(roam .*\); laptop connected, in sync; folder claude: 1 item\(s\), \d+ bytes(; folder [\w-]+: \d+ item\(s\), \d+ bytes)*$/m);
  // --quiet: the summary alone, no per-line output.
  expect(stdout).not.toContain('desktop ←');
  expect(stdout.trim().split('\n')).toHaveLength(7);
  // Two real daemons ran (where /proc shows it), and none is left.
  if (procfs) expect(seen.size).toBe(2);
  expect(roamdsIn(dir)).toEqual([]);
  // The temporary homes were made in ROAM_DEMO_TMP, and are gone.
  expect(fs.statSync(dir).mtimeMs).toBeGreaterThan(1000 * 1000);
  expect(fs.readdirSync(dir)).toEqual([]);
}, 90_000);
