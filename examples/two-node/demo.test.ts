/**
 * Runs the built demo (`tsc -b` comes first in `npm test`) as `npm run demo` would, in quiet mode,
 * with its temporary homes made in a directory of this test's own.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const demo = path.join(repo, 'examples/dist/two-node/demo.js');
const fixture = fileURLToPath(new URL('./fixtures/1af7fc5e-8455-4414-9ccd-011d40f70b2a.jsonl', import.meta.url));

let tmp: string | undefined;
afterEach(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  tmp = undefined;
});

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [demo, ...args], { cwd: repo, env, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

it('npm run demo: replicates the session byte for byte, prints the summary, leaves nothing behind', async () => {
  expect(fs.existsSync(demo), `${demo} is built by tsc -b`).toBe(true);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'roam-demo-test-'));
  fs.utimesSync(tmp, 1000, 1000); // its mtime moves only if the demo makes (and removes) its homes here
  const { code, stdout, stderr } = await run(['--quiet'], { ...process.env, ROAM_DEMO_TMP: tmp });

  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  const lines = fs.readFileSync(fixture, 'utf8').split('\n').length - 1;
  expect(lines).toBe(29);
  expect(stdout).toMatch(new RegExp(`^  lines: ${lines} on the desktop \\(.*half line held back: yes\\)$`, 'm'));
  expect(stdout).toMatch(new RegExp(`^  bytes: ${fs.statSync(fixture).size}$`, 'm'));
  expect(stdout).toMatch(/^ {2}byte-identical: yes$/m);
  // --quiet: the summary alone, no per-line output.
  expect(stdout).not.toContain('B ←');
  expect(stdout.trim().split('\n')).toHaveLength(6);
  // The temporary homes were made in ROAM_DEMO_TMP, and are gone.
  expect(fs.statSync(tmp).mtimeMs).toBeGreaterThan(1000 * 1000);
  expect(fs.readdirSync(tmp)).toEqual([]);
});
