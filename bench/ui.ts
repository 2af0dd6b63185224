/**
 * `roam ui` measured and pictured in a real headless Chromium (Debian's /usr/bin/chromium through
 * playwright-core): roamd A on 127.0.0.1 holding `--sessions` generated
 * Claude Code sessions (default 10,000) across 20 projects; A's sessions page loaded fresh
 * `--runs` times (the first right after roam ui starts, the adapters' cache cold), each time the
 * browser's own clock from navigation start to the frame that shows the list
 * (performance.mark('sessions-painted')). With `--shots <dir>`, a PNG of each page, the last ones
 * while a second roamd pairs with the pairing page's code and takes its initial sync.
 *
 *   npx tsc -b && npx tsc -p bench && node bench/dist/ui.js [--sessions 10000] [--runs 6] [--shots docs/ui]
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { runRoam, startRoam } from '#harness/cli.js';
import { Roamd } from '#harness/roamd.js';
import { until } from '#harness/poll.js';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const N = Number(arg('sessions', '10000'));
const RUNS = Number(arg('runs', '6'));
const SHOTS = arg('shots', '');
const FENCE = '`'.repeat(3);

const root = mkdtempSync(join(tmpdir(), 'roam-bench-ui-'));
const env = (name: string): NodeJS.ProcessEnv => {
  const home = join(root, name);
  mkdirSync(join(home, '.claude', 'projects'), { recursive: true });
  return { PATH: process.env.PATH, HOME: home, ROAM_HOME: join(home, 'roam'), ROAM_GROUP_KEY: '' };
};
const envA = env('laptop');
const envB = env('desktop');

/** N sessions of four turns each, spread over 20 projects and the last 30 days. */
function generate(): void {
  const t0 = Date.now();
  for (let i = 0; i < N; i++) {
    const cwd = join(envA.HOME!, 'code', `project-${i % 20}`);
    const dir = join(envA.HOME!, '.claude', 'projects', cwd.replace(/[^a-zA-Z0-9]/g, '-'));
    if (i < 20) mkdirSync(dir, { recursive: true });
    const id = `${i.toString(16).padStart(8, '0')}-0000-4000-8000-${`${i}`.padStart(12, '0')}`;
    const at = t0 - ((i * 2_592_000_000) / N);
    const turn = (k: number, content: unknown) => `${JSON.stringify({ type: k % 2 ? 'assistant' : 'user', cwd, sessionId: id, uuid: `${id}-${k}`, parentUuid: k ? `${id}-${k - 1}` : null, timestamp: new Date(at + k * 1000).toISOString(), message: { role: k % 2 ? 'assistant' : 'user', content } })}\n`;
    writeFileSync(join(dir, `${id}.jsonl`),
      turn(0, `Why does the retry loop in fetchUser (session ${i}) give up after one attempt?`) +
      turn(1, `The loop compares the attempt count before incrementing it:\n\n${FENCE}ts\nfor (let attempt = 0; attempt < max; attempt++) {\n  const r = await fetchUser(id); // was: if (attempt > 0) return\n  if (r.ok) return r;\n}\n${FENCE}\n\nMove the check after the call.`) +
      turn(2, 'Good, and add a test.') +
      turn(3, [{ type: 'text', text: 'Added a test: retries until the user is found.' }, { type: 'tool_use', id: `toolu_${i}`, name: 'Edit', input: { file_path: 'test/user.test.ts', old_string: '', new_string: "it('retries until the user is found', …)" } }]));
  }
}

async function main(): Promise<void> {
  generate();
  const a = await Roamd.start({ name: 'laptop', env: envA, startTimeoutMs: 600_000 });
  let b: Roamd | null = null;
  const ui = startRoam(['ui', '--no-open', '--json'], { env: envA, timeoutMs: 3_600_000 });
  const profile = mkdtempSync(join(tmpdir(), 'roam-bench-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1200, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    await until(() => ui.stdout().includes('\n'), { timeoutMs: 30_000, what: 'roam ui to start' });
    const { url, open } = JSON.parse(ui.stdout().split('\n')[0]!) as { url: string; open: string };
    const authUrl = /url=([^"]+)"/.exec(readFileSync(open, 'utf8'))![1]!.replace(/&amp;/g, '&');
    const page = await context.newPage();
    await page.goto(authUrl);
    await page.waitForURL(url);
    const paints: number[] = [];
    /** When the list's JSON had arrived (the rest, to the paint, is the browser building and painting it). */
    const apis: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      await page.goto('about:blank');
      await page.goto(`${url}#/sessions`);
      await page.waitForFunction(() => performance.getEntriesByName('sessions-painted').length > 0, undefined, { timeout: 120_000 });
      paints.push(await page.evaluate(() => performance.getEntriesByName('sessions-painted')[0]!.startTime));
      apis.push(await page.evaluate(() => (performance.getEntriesByType('resource').find((e) => e.name.includes('/api/sessions')) as unknown as { responseEnd: number }).responseEnd));
    }
    const rows = await page.locator('tr[data-session]').count();
    const shown = await page.locator('#sessions p').first().textContent();
    const warm = paints.slice(1).sort((x, y) => x - y);
    console.log(JSON.stringify({ sessions: N, rowsRendered: rows, shown, coldMs: Math.round(paints[0]!), warmMedianMs: Math.round(warm[Math.floor(warm.length / 2)] ?? NaN), warmMs: paints.slice(1).map(Math.round), apiArrivedMs: apis.map(Math.round), load: loadavg().map((l) => l.toFixed(2)) }));
    if (SHOTS) {
      mkdirSync(SHOTS, { recursive: true });
      const shot = async (hash: string, file: string, ready: string) => {
        await page.goto(`${url}${hash}`);
        await page.locator(ready).first().waitFor({ timeout: 60_000 });
        await page.screenshot({ path: join(SHOTS, file) });
      };
      await shot('#/sessions', 'sessions.png', 'tr[data-session]');
      const first = await page.locator('tr[data-session] a').first().getAttribute('href');
      await shot(first!, 'session.png', 'article.turn');
      await page.screenshot({ path: join(SHOTS, 'session.png'), fullPage: true });
      await shot('#/folders', 'folders.png', 'input[type=checkbox]');
      await page.goto(`${url}#/sessions`);
      await page.getByLabel('Search text').fill('session 42)');
      await page.locator('tr td').first().waitFor();
      await page.waitForTimeout(500);
      await page.screenshot({ path: join(SHOTS, 'search.png') });
      // A second device joins with the pairing page's code; the devices page during its initial sync.
      b = await Roamd.start({ name: 'desktop', env: envB, startTimeoutMs: 120_000 });
      await page.goto(`${url}#/pair`);
      await page.getByRole('button', { name: 'Invite a device' }).click();
      await page.locator('.qr svg').waitFor({ timeout: 30_000 });
      await page.screenshot({ path: join(SHOTS, 'pair.png') });
      const code = (await page.locator('#pair-code').textContent())!;
      const joined = await runRoam(['pair', code], { env: envB, timeoutMs: 60_000 });
      if (joined.code !== 0) throw new Error(`roam pair: ${joined.stderr}`);
      await page.goto(`${url}#/devices`);
      await page.locator('tr[data-peer] progress').first().waitFor({ timeout: 300_000 });
      await page.waitForTimeout(1500);
      await page.screenshot({ path: join(SHOTS, 'devices.png') });
    }
  } finally {
    await context.close().catch(() => {});
    ui.child.kill('SIGTERM');
    await ui.done;
    await Promise.all([a.stop(10_000), b?.stop(10_000)]);
    rmSync(profile, { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
  }
}

try {
  await main();
} finally {
  rmSync(root, { recursive: true, force: true });
}
