/**
 * A real headless Chromium (Debian's `chromium`, never a downloaded browser) driven by
 * playwright-core, with a fresh profile directory; and `roam ui` in the background for a test daemon.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { startRoam, type RunningCli } from '../harness/cli.js';
import { until } from '../harness/poll.js';
import type { DaemonHandle } from './daemons.js';

export const CHROMIUM = '/usr/bin/chromium';

export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'roam-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    close: async () => {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface RunningUi {
  /** The URL without the token, the open file, the port (what `roam ui --json` printed). */
  readonly url: string;
  readonly open: string;
  readonly port: number;
  /** The tokened URL the open file redirects to. */
  readonly authUrl: string;
  readonly run: RunningCli;
}

/** `roam ui --no-open --json` on `d` until it has printed where the page is. */
export async function startUi(d: DaemonHandle, track: (r: RunningCli) => void): Promise<RunningUi> {
  const run = startRoam(['ui', '--no-open', '--json'], { env: d.env, timeoutMs: 600_000 });
  track(run);
  await until(() => run.stdout().includes('\n') || run.child.exitCode !== null, { timeoutMs: 20_000, what: `roam ui on ${d.name} to start`, detail: () => ({ stderr: run.stderr() }) });
  const first = JSON.parse(run.stdout().split('\n')[0]!) as { url: string; open: string; port: number };
  const authUrl = /url=([^"]+)"/.exec(readFileSync(first.open, 'utf8'))![1]!.replace(/&amp;/g, '&');
  return { ...first, authUrl, run };
}
