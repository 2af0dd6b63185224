/**
 * `roam ui` in a real headless Chromium against real roamd processes on 127.0.0.1 that pair
 * through the page itself (a second device, then a third with a corpus, watched through its initial
 * sync): the devices page and its progress bars, the live sessions list and its device filter,
 * search, one session's turns and sub-agents, the share bundle, rm and restore acting on both
 * devices, keyboard use, the guard (token, Host, Origin), and no request to any host but 127.0.0.1.
 */
import { request } from 'node:http';
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { until } from '../harness/poll.js';
import type { RunningCli } from '../harness/cli.js';
import { claudeProjectKey } from '../support/claude.js';
import { makeDaemon, stopAll, type DaemonHandle } from '../support/daemons.js';
import { launchBrowser, startUi, type Browser, type RunningUi } from '../support/browser.js';

const SID = '7e57ab1e-0000-4000-8000-00000000a11c';
const WORD = 'quetzalcoatl';
const FENCE = '```';
/** Sessions the third device brings to its initial sync. */
const CORPUS = 2000;

const uis: RunningCli[] = [];
let browser: Browser;
let a: DaemonHandle;
let b: DaemonHandle;
let ui: RunningUi;
let page: Page;
const requests: string[] = [];

const line = (cwd: string, i: number, content: string) =>
  `${JSON.stringify({ type: i % 2 ? 'assistant' : 'user', cwd, sessionId: SID, uuid: `ui-${i}`, parentUuid: i ? `ui-${i - 1}` : null, timestamp: new Date(Date.now() - 60_000 + i * 1000).toISOString(), message: { role: i % 2 ? 'assistant' : 'user', content } })}\n`;

/** The project directory holding the session on a device, or null. */
function sessionDir(d: DaemonHandle): string | null {
  for (const key of existsSync(d.projects) ? readdirSync(d.projects) : []) if (existsSync(join(d.projects, key, `${SID}.jsonl`))) return join(d.projects, key);
  return null;
}

/** A raw request to the page's server with the headers given (Host included): its status. */
function raw(port: number, path: string, headers: Record<string, string>, method = 'GET'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  a = makeDaemon('alpha', { env: { ROAM_GROUP_KEY: '' } });
  b = makeDaemon('beta', { env: { ROAM_GROUP_KEY: '' } });
  [browser] = await Promise.all([launchBrowser(), a.start(), b.start()]);
  ui = await startUi(b, (r) => uis.push(r));
  page = await browser.context.newPage();
  page.on('request', (r) => requests.push(r.url()));
  page.on('dialog', (d) => void d.accept());
}, 90_000);

afterAll(async () => {
  for (const r of uis) r.child.kill('SIGTERM');
  await Promise.all(uis.map((r) => r.done));
  await browser?.close();
  await stopAll();
}, 60_000);

describe('roam ui', () => {
  it('refuses a request without the token, with another Host header or another Origin; the open file is 0600', async () => {
    const host = `127.0.0.1:${ui.port}`;
    expect(await raw(ui.port, '/', { Host: host })).toBe(403);
    expect(await raw(ui.port, '/api/status', { Host: host })).toBe(403);
    expect(await raw(ui.port, '/auth?token=wrong', { Host: host })).toBe(403);
    const token = new URL(ui.authUrl).searchParams.get('token')!;
    // DNS rebinding: the right token, a hostile name.
    expect(await raw(ui.port, `/auth?token=${token}`, { Host: `evil.example:${ui.port}` })).toBe(403);
    const auth = await fetch(ui.authUrl, { redirect: 'manual' });
    expect(auth.status).toBe(200);
    const cookie = auth.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    const jar = cookie.split(';')[0]!;
    expect(await raw(ui.port, '/api/status', { Host: host, Cookie: jar })).toBe(200);
    expect(await raw(ui.port, '/api/status', { Host: `evil.example:${ui.port}`, Cookie: jar })).toBe(403);
    expect(await raw(ui.port, '/api/status', { Host: host, Cookie: jar, Origin: 'http://evil.example' })).toBe(403);
    expect(await raw(ui.port, `/api/session/${SID}/rm`, { Host: host, Cookie: jar }, 'POST')).toBe(403);
    expect(await raw(ui.port, `/api/session/${SID}/rm`, { Host: host, Cookie: jar, Origin: 'http://evil.example' }, 'POST')).toBe(403);
    expect(await raw(ui.port, '/api/status', { Host: host, Cookie: 'roam_ui=guess' })).toBe(403);
    expect(statSync(ui.open).mode & 0o777).toBe(0o600);
    expect(ui.run.stdout()).not.toContain(token);
  });

  it('pairs a device with the pairing page\'s code; the devices page shows it connected', async () => {
    await page.goto(`file://${ui.open}`);
    await page.waitForURL(`http://127.0.0.1:${ui.port}/`);
    await page.goto(`http://127.0.0.1:${ui.port}/#/pair`);
    await page.getByRole('button', { name: 'Invite a device' }).click();
    const code = (await page.locator('#pair-code').textContent({ timeout: 15_000 }))!.trim();
    await expect(page.locator('.qr svg').count()).resolves.toBe(1);
    const joined = a.roam('pair', code);
    expect(joined.status, joined.stderr).toBe(0);
    await page.locator('#pair-done').waitFor({ timeout: 20_000 });
    await page.getByRole('link', { name: 'Devices' }).click();
    const row = page.locator('tr[data-peer="alpha"]');
    await row.getByText('connected', { exact: true }).waitFor({ timeout: 30_000 });
    expect(await row.locator('progress').count()).toBe(2);
    await row.getByText('in sync').waitFor({ timeout: 30_000 });
  });

  it('shows a session written on A on B\'s sessions page without a reload; search finds it; its page shows its turns', async () => {
    await page.getByRole('link', { name: 'Sessions' }).click();
    await page.evaluate('window.marker = 42');
    const cwd = join(a.home, 'code', 'app');
    mkdirSync(cwd, { recursive: true });
    const dir = join(a.projects, claudeProjectKey(cwd));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${SID}.jsonl`), line(cwd, 0, `please explain the ${WORD} function`));
    appendFileSync(join(dir, `${SID}.jsonl`), line(cwd, 1, `Here it is:\n\n${FENCE}js\nconst answer = 42;\n${FENCE}\n`));
    // A sub-agent's own conversation (Claude Code: <id>/subagents/agent-<agentId>.jsonl, every line a side chain).
    mkdirSync(join(dir, SID, 'subagents'), { recursive: true });
    const agentLine = (i: number, content: string) => `${JSON.stringify({ type: i % 2 ? 'assistant' : 'user', isSidechain: true, agentId: 'a1b2c3', cwd, sessionId: SID, uuid: `agent-${i}`, parentUuid: i ? `agent-${i - 1}` : null, timestamp: new Date().toISOString(), message: { role: i % 2 ? 'assistant' : 'user', content } })}\n`;
    writeFileSync(join(dir, SID, 'subagents', 'agent-a1b2c3.jsonl'), agentLine(0, 'find every caller of answer') + agentLine(1, 'Two callers: main.js and test.js.'));
    const row = page.locator(`tr[data-session="${SID}"]`);
    await row.waitFor({ timeout: 30_000 });
    // Still the same document: no reload happened.
    expect(await page.evaluate('window.marker')).toBe(42);
    // The device it came from (roamd's index: the item's modifiedBy), and the device filter.
    await until(async () => (await row.getAttribute('data-device')) === 'alpha', { timeoutMs: 15_000, what: 'the session to show it came from alpha' });
    const device = page.getByLabel('Device');
    await until(async () => (await device.locator('option').allTextContents()).includes('beta'), { timeoutMs: 15_000, what: 'both devices in the device filter' });
    await device.selectOption('beta');
    await until(async () => (await row.count()) === 0, { timeoutMs: 15_000, what: "the session to leave the list filtered to beta's" });
    await device.selectOption('alpha');
    await row.waitFor({ timeout: 15_000 });
    await device.selectOption('');

    await until(() => existsSync(join(sessionDir(b) ?? '/nonexistent', SID, 'subagents', 'agent-a1b2c3.jsonl')), { timeoutMs: 30_000, what: "the sub-agent's file to reach beta" });
    await page.getByLabel('Search text').fill(WORD);
    const hit = page.getByRole('link', { name: new RegExp(WORD) });
    await hit.first().waitFor({ timeout: 15_000 });
    // Keyboard: the hit's link, Enter.
    await hit.first().focus();
    await page.keyboard.press('Enter');
    await page.locator('article.turn').nth(1).waitFor({ timeout: 15_000 });
    expect(await page.locator('article.turn.user').first().textContent()).toContain(WORD);
    expect(await page.locator('article.turn.assistant pre').first().textContent()).toContain('const answer = 42;');
    const exported = await page.evaluate(`fetch('/api/session/${SID}/export?format=md').then((r) => r.text())`);
    expect(exported).toContain(WORD);
    // Sub-agents, folded under the conversation.
    const agent = page.locator('details.subagent[data-agent="a1b2c3"]');
    await agent.locator('summary').click();
    expect(await agent.locator('article.turn').allTextContents()).toEqual([expect.stringContaining('find every caller of answer'), expect.stringContaining('Two callers')]);
    // The share bundle `roam share` makes, as a download: gzipped JSON whose manifest names the session.
    expect(await page.getByRole('link', { name: 'Download share bundle' }).getAttribute('download')).toBe(`roam-${SID}.json.gz`);
    const bundle = Buffer.from(await page.evaluate(`fetch('/api/session/${SID}/share').then((r) => r.arrayBuffer()).then((b) => [...new Uint8Array(b)])`) as number[]);
    const shared = JSON.parse(gunzipSync(bundle).toString('utf8')) as { manifest: { sessionId: string }; files: Record<string, string> };
    expect(shared.manifest.sessionId).toBe(SID);
    expect(Object.keys(shared.files)).toContain('subagents/agent-a1b2c3.jsonl');
  });

  it('removes the session on both devices and restores it from the page, by keyboard', async () => {
    const dirA = sessionDir(a)!;
    await until(() => sessionDir(b) !== null, { timeoutMs: 30_000, what: 'beta to hold the session' });
    const dirB = sessionDir(b)!;
    // Tab from the export link before it to "Remove on every device", then Enter.
    await page.getByRole('link', { name: 'Export as markdown (redacted)' }).focus();
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Remove on every device');
    await page.keyboard.press('Enter');
    let said: string | null = null;
    const removed = async () => {
      said = await page.locator('.actions [role=status]').textContent();
      return !existsSync(join(dirA, `${SID}.jsonl`)) && !existsSync(join(dirB, `${SID}.jsonl`));
    };
    await until(removed, { timeoutMs: 30_000, what: 'the session to be removed on both devices', detail: () => ({ said }) });
    expect(said).toMatch(/^removed on every device/);
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Restore from the trash');
    await page.keyboard.press('Enter');
    await until(() => existsSync(join(dirA, `${SID}.jsonl`)) && existsSync(join(dirB, `${SID}.jsonl`)), { timeoutMs: 30_000, what: 'the session to be back on both devices' });
  });

  it('a selective-sync toggle on the folders page stops the project on the peer, and starts it again', async () => {
    const dirA = sessionDir(a)!;
    const dirB = sessionDir(b)!;
    const file = `${SID}.jsonl`;
    // A second project, so that the one turned off is not the folder's last (`--only` keeps at least one).
    const other = join(a.home, 'code', 'other');
    mkdirSync(other, { recursive: true });
    mkdirSync(join(a.projects, claudeProjectKey(other)), { recursive: true });
    writeFileSync(join(a.projects, claudeProjectKey(other), 'a0a0a0a0-0000-4000-8000-000000000001.jsonl'), line(other, 0, 'another project'));
    await page.getByRole('link', { name: 'Folders' }).click();
    const boxes = page.locator('fieldset:has(legend:text-is("claude")) input[type=checkbox]');
    await until(async () => (await boxes.count()) === 2, { timeoutMs: 30_000, what: 'both projects on the folders page' });
    const box = page.locator('input[data-project="~code%2Fapp"]');
    expect(await box.isChecked()).toBe(true);
    // Keyboard: the checkbox, Space.
    await box.focus();
    await page.keyboard.press('Space');
    const synced = () => (JSON.parse(b.roam('projects', '--json').stdout) as Array<{ folder: string; name: string; synced: boolean }>).find((p) => p.folder === 'claude' && p.name === '~code%2Fapp')?.synced;
    let said: string | null = null;
    await until(async () => {
      said = await page.locator('#note').textContent();
      return synced() === false;
    }, { timeoutMs: 15_000, what: "beta's config to stop the project", detail: () => ({ said }) });
    const cwd = join(a.home, 'code', 'app');
    appendFileSync(join(dirA, file), line(cwd, 2, 'written while beta skips the project'));
    const r = a.roam('sync', '--wait', '--timeout', '30');
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(dirB, file), 'utf8')).not.toContain('while beta skips');
    await box.focus();
    await page.keyboard.press('Space');
    await until(() => readFileSync(join(dirB, file), 'utf8').includes('while beta skips'), { timeoutMs: 30_000, what: 'the line to reach beta once the project syncs again' });
    expect(synced()).toBe(true);
  });

  it('the conflicts page shows both continuations of a session written on both devices apart, the common prefix marked', async () => {
    const dirA = sessionDir(a)!;
    const dirB = sessionDir(b)!;
    const file = `${SID}.jsonl`;
    for (const d of [a, b]) expect(d.roam('pause').status).toBe(0);
    const cwd = join(a.home, 'code', 'app');
    const apart = (who: string) => `${JSON.stringify({ type: 'user', cwd, sessionId: SID, uuid: `ui-${who}`, parentUuid: 'ui-2', timestamp: new Date().toISOString(), message: { role: 'user', content: `continued on ${who}` } })}\n`;
    appendFileSync(join(dirA, file), apart('alpha'));
    appendFileSync(join(dirB, file), apart('beta'));
    for (const d of [a, b]) expect(d.roam('unpause').status).toBe(0);
    await page.getByRole('link', { name: 'Conflicts' }).click();
    await until(async () => {
      await page.reload();
      return (await page.locator('.sides').count()) > 0;
    }, { timeoutMs: 60_000, everyMs: 1000, what: 'the conflicts page to show the fork' });
    const sides = page.locator('.sides .side');
    expect(await sides.count()).toBe(2);
    const text = (await sides.allTextContents()).join(' | ');
    expect(text).toContain('continued on alpha');
    expect(text).toContain('continued on beta');
    expect(await page.locator('.sides .turn.common').count()).toBeGreaterThan(0);
  });

  it("pairs a third device with the pairing page's code; the devices page shows a progress bar during its initial sync", async () => {
    // gamma brings a corpus large enough that B's initial sync with it spans several of the page's polls.
    const c = makeDaemon('gamma', { env: { ROAM_GROUP_KEY: '' } });
    const cwd = join(c.home, 'code', 'corpus');
    const dir = join(c.projects, claudeProjectKey(cwd));
    mkdirSync(dir, { recursive: true });
    const pad = 'x'.repeat(1500);
    for (let i = 0; i < CORPUS; i++) {
      const id = `c0${i.toString(16).padStart(6, '0')}-0000-4000-8000-000000000000`;
      writeFileSync(join(dir, `${id}.jsonl`), `${JSON.stringify({ type: 'user', cwd, sessionId: id, uuid: `${id}-0`, parentUuid: null, timestamp: new Date().toISOString(), message: { role: 'user', content: `corpus ${i} ${pad}` } })}\n`);
    }
    await c.start([], { startTimeoutMs: 60_000 });
    // The devices page in a second tab, watched while the pairing page in the first hands out a code.
    const watch = await browser.context.newPage();
    watch.on('request', (r) => requests.push(r.url()));
    await watch.goto(`http://127.0.0.1:${ui.port}/#/devices`);
    await page.goto(`http://127.0.0.1:${ui.port}/#/pair`);
    await page.getByRole('button', { name: 'Invite a device' }).click();
    // A new invitation: the last one (alpha's) is done, this one waits.
    await until(async () => (await page.locator('#pair-done').count()) === 0 && (await page.locator('#pair-code').count()) === 1, { timeoutMs: 15_000, what: 'a new pairing code' });
    const code = (await page.locator('#pair-code').textContent())!.trim();
    const joined = c.roam('pair', code);
    expect(joined.status, joined.stderr).toBe(0);
    await page.locator('#pair-done', { hasText: 'gamma joined' }).waitFor({ timeout: 20_000 });
    const row = watch.locator('tr[data-peer="gamma"]');
    let bars: Array<{ value: number; max: number }> = [];
    await until(async () => {
      bars = await row.locator('progress').evaluateAll((ps) => ps.map((p) => ({ value: (p as unknown as { value: number; max: number }).value, max: (p as unknown as { value: number; max: number }).max })));
      return bars.some((b) => b.value > 0 && b.value < b.max);
    }, { timeoutMs: 30_000, everyMs: 50, what: "a progress bar strictly between 0 and max on gamma's row during the initial sync", detail: () => ({ bars }) });
    await row.getByText('in sync').waitFor({ timeout: 120_000 });
    expect(readdirSync(join(b.projects, readdirSync(b.projects).find((k) => k.endsWith('corpus'))!)).length).toBe(CORPUS);
    await watch.close();
  });

  it('made no request to any host but 127.0.0.1', () => {
    expect(requests.length).toBeGreaterThan(5);
    const elsewhere = requests.filter((u) => !u.startsWith('file://') && new URL(u).hostname !== '127.0.0.1');
    expect(elsewhere).toEqual([]);
  });
});
