/**
 * First contact: a machine that has never run a tool takes the tools' folders its peers share, at
 * its own paths; a folder it opted out of, or a user's folder a peer offers, is reported as such;
 * `status` and `sync --wait` never claim "in sync" before this device holds (or skips) everything.
 * Real roamd child processes on 127.0.0.1, real files.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runRoam } from '../harness/cli.js';
import { until } from '../../packages/core/test/support/poll.js';
import { makeDaemon, stopAll, type DaemonHandle } from '../support/daemons.js';

afterEach(stopAll);

const CLAUDE_SID = '0b9d4a8e-6c1f-4f3e-9a57-1d2c3b4a5f60';
const CODEX_SID = '019a1b2c-3d4e-7f50-8a61-72b3c4d5e6f7';
const COPILOT_SID = '5e4d3c2b-1a09-4f8e-b7d6-c5b4a3928170';

const lines = (tag: string, n = 40) => Array.from({ length: n }, (_, i) => `${JSON.stringify({ type: i % 2 ? 'assistant' : 'user', tag, i, text: 'x'.repeat(100) })}\n`).join('');

/** One session of each tool, as each lays it out, relative to the tool's session folder. */
const SESSIONS = {
  claude: { file: join('-home-alice-code-app', `${CLAUDE_SID}.jsonl`), content: lines('claude') },
  codex: { file: join('2026', '01', '02', `rollout-2026-01-02T10-00-00-${CODEX_SID}.jsonl`), content: lines('codex') },
  gemini: { file: join('9f86d081884c7d65', 'chats', 'session-2026-01-02T10-00-1a2b3c4d.json'), content: `${JSON.stringify({ sessionId: 'gemini-session', messages: [] })}\n` },
  copilot: { file: join(COPILOT_SID, 'events.jsonl'), content: lines('copilot') },
} as const;
type Tool = keyof typeof SESSIONS;
const TOOLS = Object.keys(SESSIONS) as Tool[];

/** Where a device keeps a tool's sessions (its HOME, or the tool's own variable). */
function toolRoot(d: DaemonHandle, tool: Tool): string {
  const e = d.env;
  if (tool === 'claude') return join(e.CLAUDE_CONFIG_DIR || join(d.home, '.claude'), 'projects');
  if (tool === 'codex') return join(e.CODEX_HOME || join(d.home, '.codex'), 'sessions');
  if (tool === 'gemini') return join(e.GEMINI_CLI_HOME || d.home, '.gemini', 'tmp');
  return join(e.COPILOT_HOME || join(d.home, '.copilot'), 'session-state');
}

function writeSession(d: DaemonHandle, tool: Tool): void {
  const f = join(toolRoot(d, tool), SESSIONS[tool].file);
  mkdirSync(dirname(f), { recursive: true });
  writeFileSync(f, SESSIONS[tool].content);
}

/** Files under `dir`, relative, recursively (none when it does not exist). */
function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

/** Whether `d` holds the tool's session at its own path (Claude Code: under its own project key). */
function holds(d: DaemonHandle, tool: Tool): boolean {
  const root = toolRoot(d, tool);
  const want = SESSIONS[tool];
  const name = tool === 'claude' ? files(root).find((f) => f.endsWith(`${CLAUDE_SID}.jsonl`)) : want.file;
  return !!name && existsSync(join(root, name)) && readFileSync(join(root, name), 'utf8') === want.content;
}

interface StatusJson {
  peers: Array<{ name: string; connected: boolean; inSync: boolean; offers?: string[]; optedOut?: string[] }>;
  folders: Array<{ id: string; path: string }>;
  offered?: Array<{ id: string; by: string[]; tool: boolean }>;
  skipped?: Array<{ folder: string; reason: string; items: number; by?: string[] }>;
}

function statusOf(d: DaemonHandle): StatusJson {
  const r = d.roam('status', '--json');
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as StatusJson;
}

/** `roam <args>` without blocking the test (spawnSync would stop the polls meanwhile). */
async function roamAsync(d: DaemonHandle, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const r = await runRoam(args, { env: d.env, timeoutMs: 120_000 });
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
}

describe('first contact: a machine that never ran a tool', () => {
  it('takes every tool folder a peer shares at its own paths, and is not "in sync" before it holds them', async () => {
    const a = makeDaemon('alpha');
    const b = makeDaemon('beta', { tools: false });
    // B keeps Codex elsewhere: the folder is taken at B's path for the tool, not at A's.
    b.env.CODEX_HOME = join(b.home, 'elsewhere', 'codex');
    for (const t of TOOLS) writeSession(a, t);
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);

    const sync = roamAsync(b, 'sync', '--wait', '--timeout', '30');
    let syncDone = false;
    void sync.then(() => (syncDone = true));
    while (!syncDone) {
      const s = statusOf(b);
      const missing = TOOLS.filter((t) => !holds(b, t));
      if (s.peers.some((p) => p.name === 'alpha' && p.inSync) && missing.length) expect.fail(`beta's status said "in sync" with alpha while it lacked ${missing.join(', ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const r = await sync;
    const missing = TOOLS.filter((t) => !holds(b, t));
    expect(missing, `sync --wait returned ${r.status} (${r.stdout.trim()}) while beta lacked them`).toEqual([]);
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(join(b.home, 'elsewhere', 'codex', 'sessions'))).toEqual(['2026']);
    expect(existsSync(join(b.home, '.codex'))).toBe(false);
    const s = statusOf(b);
    // The prompt histories (union logs) come with Claude Code's and Codex's folders.
    expect(s.folders.map((f) => f.id).sort()).toEqual(['claude', 'claude-history', 'codex', 'codex-history', 'copilot', 'gemini']);
    expect(s.folders.find((f) => f.id === 'codex')!.path).toBe(join(b.home, 'elsewhere', 'codex', 'sessions'));
    expect(a.roam('sync', '--wait', '--timeout', '30').status).toBe(0);
    expect(b.output).not.toMatch(/no folders to sync: none of the tools/);
    expect(b.output).toMatch(/roamd takes a tool's folder that a peer shares/);
    expect(b.output).toMatch(/syncing codex at \S+elsewhere\/codex\/sessions \(shared by alpha\)/);
  });

  it('a folder this device opted out of is announced as such: both sides say in sync, A names it skipped by B', async () => {
    const a = makeDaemon('alpha');
    const b = makeDaemon('beta', { tools: false });
    mkdirSync(b.roamHome, { recursive: true });
    writeFileSync(join(b.roamHome, 'config.json'), JSON.stringify({ exclude: ['codex'] }));
    writeSession(a, 'claude');
    writeSession(a, 'codex');
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);
    const rb = b.roam('sync', '--wait', '--timeout', '30');
    expect(rb.status, rb.stderr).toBe(0);
    expect(holds(b, 'claude')).toBe(true);
    expect(existsSync(toolRoot(b, 'codex'))).toBe(false);
    const ra = a.roam('sync', '--wait', '--timeout', '30');
    expect(ra.status, ra.stderr).toBe(0);
    const sa = statusOf(a);
    expect(sa.peers.find((p) => p.name === 'beta')!.optedOut).toEqual(['codex', 'codex-history']); // a tool excluded takes its prompt history with it
    expect(a.roam('status').stdout).toMatch(/beta .*opted out of codex/);
    const sb = statusOf(b);
    expect(sb.skipped).toContainEqual(expect.objectContaining({ folder: 'codex', reason: 'opted out' }));
    expect(b.roam('status').stdout).toMatch(/codex .*skipped.*opted out/);
  });

  it("a user's own folder on a peer is offered, never created here, until added with a path of this device's choosing", async () => {
    const a = makeDaemon('alpha');
    const b = makeDaemon('beta', { tools: false });
    mkdirSync(a.roamHome, { recursive: true });
    writeFileSync(join(a.roamHome, 'config.json'), JSON.stringify({ folders: [{ id: 'notes', path: '~/notes' }] }));
    mkdirSync(join(a.home, 'notes'), { recursive: true });
    writeFileSync(join(a.home, 'notes', 'todo.md'), 'take the tools folders\n');
    writeSession(a, 'claude');
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);
    await until(() => holds(b, 'claude'), { timeoutMs: 30_000, what: 'beta to take the claude folder' });
    let s: StatusJson | undefined;
    await until(() => (s = statusOf(b)).offered?.some((o) => o.id === 'notes') === true, { timeoutMs: 10_000, what: 'beta to show notes as offered', detail: () => s });
    expect(s!.offered).toEqual([{ id: 'notes', by: ['alpha'], tool: false, path: null }]);
    expect(s!.peers.find((p) => p.name === 'alpha')!.inSync).toBe(false);
    expect(b.roam('status').stdout).toMatch(/notes\s+offered by alpha/);
    expect(b.roam('sync', '--wait', '--timeout', '2').status).toBe(1);
    expect(existsSync(join(b.home, 'notes'))).toBe(false);

    // The user adds it here, at a path of their choosing: taken without a restart.
    writeFileSync(join(b.roamHome, 'config.json'), JSON.stringify({ folders: [{ id: 'notes', path: '~/mine/notes' }] }));
    expect(b.roam('reload').status).toBe(0);
    const r = b.roam('sync', '--wait', '--timeout', '30');
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(b.home, 'mine', 'notes', 'todo.md'), 'utf8')).toBe('take the tools folders\n');
    expect(existsSync(join(b.home, 'notes'))).toBe(false);
  });

  it('a tool installed while roamd runs is picked up without a restart', async () => {
    const a = makeDaemon('alpha', { tools: false });
    const b = makeDaemon('beta', { tools: false });
    await a.start();
    await b.start(['--peer', a.addresses[0]!]);
    writeSession(b, 'copilot');
    await until(() => holds(a, 'copilot'), { timeoutMs: 30_000, what: "alpha to receive beta's Copilot session", detail: () => [statusOf(b).folders, a.output.slice(-1500), b.output.slice(-1500)] });
    expect(statusOf(b).folders.map((f) => f.id)).toEqual(['copilot']);
    const r = a.roam('sync', '--wait', '--timeout', '30');
    expect(r.status, r.stderr).toBe(0);
  });
});
