/**
 * One project identity for the four tools, end to end: a session written on A in `~/code/app` by
 * each real CLI (Claude Code, Codex, Gemini CLI, Copilot CLI, against loopback mocks of their
 * APIs) reaches B through two real roamd daemons; B's HOME is another path, so `~/code/app` is
 * another absolute path there. On B, in `~/code/app`: `roam resume --tool <t> --dry-run` plans A's
 * session in B's directory, `roam list` lists the project's sessions of every tool (its picker runs
 * the picked one in B's directory), `roam fork` and `roam new` plan in B's directory, and
 * `roam resume --tool <t>` (Codex: its plan, run with `codex exec resume`, as Codex's resume is
 * interactive) resumes each in the real CLI there, with A's history. One pair of daemons serves
 * the four tools.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRoam, runRoamSync } from '../harness/cli.js';
import { until } from '../../packages/core/test/support/poll.js';
import { projectKey as claudeKey } from '../../packages/cli/src/tools/claude/index.js';
import { claudeBin, claudeEnv, runClaude } from '../support/claude.js';
import { codexBin, codexEnv, runCodex, sessionIdOf as codexSessionId, writeCodexConfig } from '../support/codex.js';
import { copilotArgs, copilotBin, copilotEnv, runCopilot, sessionIdOf as copilotSessionId } from '../support/copilot.js';
import { GEMINI_MODEL, geminiBinDir, geminiSessionId, runGemini, writeGeminiSettings } from '../support/gemini.js';
import { conversationRequests, messageText, startMockAnthropic, type MockAnthropic } from '../support/mock-anthropic.js';
import { chatMessages, chatRequests, startMockCopilot, type MockCopilot } from '../support/mock-copilot.js';
import { startMockGemini, streamRequests, type MockGemini } from '../support/mock-gemini.js';
import { inputMessages, responsesRequests, startMockOpenAI, type MockOpenAI } from '../support/mock-openai.js';
import { makeDaemon, ROAM, stopAll, type DaemonHandle } from '../support/daemons.js';

const TOOLS = ['claude', 'codex', 'gemini', 'copilot'] as const;
type Tool = (typeof TOOLS)[number];
const PROMPT = 'Remember the word zebracorn.';

let claude: MockAnthropic;
let openai: MockOpenAI;
let gemini: MockGemini;
let copilot: MockCopilot;
let bin = '';
let a: DaemonHandle;
let b: DaemonHandle;
let projA = '';
let projB = '';
/** B's environment for roam and the tools it runs. */
let envB: NodeJS.ProcessEnv = {};
/** Each tool's session id, written on A. */
const ids = {} as Record<Tool, string>;
/** Each tool's session file on B, once it arrived. */
const onB = {} as Record<Tool, string>;

/** Every file under `dir`, absolute. */
function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

function roamSync(cwd: string, args: string[]): { code: number | null; out: string; err: string } {
  const r = runRoamSync(args, { env: envB, cwd, timeoutMs: 60_000 });
  return { code: r.code, out: r.stdout, err: r.stderr };
}

/** `roam` without blocking this process (the mocks answer the tool it runs). */
async function roamAsync(cwd: string, args: string[], timeoutMs = 120_000): Promise<{ code: number | null; out: string; err: string }> {
  const r = await runRoam(args, { env: envB, cwd, timeoutMs, group: true });
  return { code: r.code, out: r.stdout, err: r.stderr };
}

/**
 * `roam list --tool <t>` on a terminal (util-linux `script` gives it a pty): the picker offers this
 * project's sessions, Enter picks the first, and roam runs its tool, here a stand-in on PATH that
 * records where it ran and with what.
 */
function pickFirst(cwd: string, tool: Tool, fakeBin: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const cmd = `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(ROAM)} list --tool ${tool}`;
    const child = spawn('script', ['-qfec', cmd, '/dev/null'], { cwd, env: { ...envB, PATH: `${fakeBin}:${envB.PATH}`, TERM: 'xterm-256color' }, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let out = '';
    let sent = false;
    const onData = (d: string): void => {
      out += d;
      if (!sent && out.includes('Resume which session?')) {
        sent = true;
        child.stdin.write('\r');
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    child.stdin.on('error', () => {});
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
      reject(new Error(`the picker did not finish: ${out.slice(-500)}`));
    }, 60_000);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

beforeAll(async () => {
  [claude, openai, gemini, copilot] = await Promise.all([
    startMockAnthropic({ text: 'Mock answer.', log: () => {} }),
    startMockOpenAI({ text: 'Mock answer.' }),
    startMockGemini({ text: 'Mock answer.' }),
    startMockCopilot({ text: 'Mock answer.' }),
  ]);
  // `roam` runs the tools from PATH.
  bin = realpathSync(mkdtempSync(join(tmpdir(), 'roam-identity-bin-')));
  symlinkSync(claudeBin(), join(bin, 'claude'));
  symlinkSync(codexBin(), join(bin, 'codex'));
  symlinkSync(copilotBin(), join(bin, 'copilot'));
  geminiBinDir(bin);
  const all: Record<string, string> = {
    ...claudeEnv({ home: '/nonexistent', baseUrl: claude.url }),
    ...codexEnv({ home: '/nonexistent' }),
    GEMINI_API_KEY: 'dummy-roam-test-key',
    GOOGLE_GEMINI_BASE_URL: gemini.baseUrl,
    GEMINI_CLI_TRUST_WORKSPACE: 'true',
    ...copilotEnv({ home: '/nonexistent', baseUrl: copilot.baseUrl }),
  };
  // Per machine: HOME, TMPDIR and the tools' homes come from each device; PATH gets the tools.
  const { HOME: _h, TMPDIR: _t, PATH: _p, CODEX_HOME: _c, ...tools } = all;
  a = makeDaemon('alpha');
  b = makeDaemon('beta', { tools: false, env: { ...tools, PATH: `${bin}:${process.env.PATH}` } });
  envB = { ...b.env, TMPDIR: join(b.home, '.tmp') };
  projA = join(a.home, 'code', 'app');
  projB = join(b.home, 'code', 'app');
  mkdirSync(projA, { recursive: true });
  mkdirSync(projB, { recursive: true });
  projA = realpathSync(projA);
  projB = realpathSync(projB);
  mkdirSync(join(b.home, '.tmp'), { recursive: true });

  // A: one session per tool in ~/code/app, written before roamd runs there (the tools make their folders).
  writeCodexConfig(join(a.home, '.codex'), openai.baseUrl);
  writeGeminiSettings(a.home);
  const [c, x, g, p] = await Promise.all([
    runClaude({ args: ['-p', PROMPT], cwd: projA, home: a.home, baseUrl: claude.url, timeoutMs: 60_000 }),
    runCodex({ args: ['exec', '--skip-git-repo-check', PROMPT], cwd: projA, home: a.home, timeoutMs: 60_000 }),
    runGemini({ args: ['-m', GEMINI_MODEL, '-p', PROMPT, '--output-format', 'json'], cwd: projA, home: a.home, baseUrl: gemini.baseUrl, timeoutMs: 90_000 }),
    runCopilot({ args: copilotArgs(PROMPT), cwd: projA, home: a.home, baseUrl: copilot.baseUrl, timeoutMs: 90_000 }),
  ]);
  for (const [r, what] of [[c, 'claude'], [x, 'codex'], [g, 'gemini'], [p, 'copilot']] as const) if (r.code !== 0) throw new Error(`${what} on A exited ${r.code}: ${r.stderr}${r.stdout}`);
  const claudeLogs = readdirSync(join(a.home, '.claude', 'projects', claudeKey(projA))).filter((n) => n.endsWith('.jsonl'));
  ids.claude = claudeLogs[0]!.slice(0, -'.jsonl'.length);
  ids.codex = codexSessionId(x.stderr + x.stdout)!;
  ids.gemini = geminiSessionId(g.stdout)!;
  ids.copilot = copilotSessionId(p.stdout + p.stderr)!;
  for (const t of TOOLS) expect(ids[t], t).toMatch(/^[0-9a-f-]{36}$/);
  // The user walks to B later: nothing is being written on A any more (no lease to wait out).
  const old = new Date(Date.now() - 5 * 60_000);
  for (const f of [...files(join(a.home, '.claude', 'projects')), ...files(join(a.home, '.codex', 'sessions')), ...files(join(a.home, '.gemini', 'tmp')), ...files(join(a.home, '.copilot', 'session-state'))]) {
    if (f.endsWith('.jsonl')) utimesSync(f, old, old);
  }

  await a.start();
  // B never ran a tool: roamd takes the folders A shares, at B's paths.
  for (const d of ['.claude', '.codex', '.gemini', '.copilot']) expect(existsSync(join(b.home, d)), d).toBe(false);
  await b.start(['--peer', a.addresses[0]!]);
  const arrived = (t: Tool, root: string): string | undefined => files(root).find((f) => f.includes(t === 'copilot' ? `${ids[t]}/events.jsonl` : ids[t].slice(0, 8)) && f.endsWith('.jsonl'));
  const roots: Record<Tool, string> = { claude: join(b.home, '.claude', 'projects'), codex: join(b.home, '.codex', 'sessions'), gemini: join(b.home, '.gemini', 'tmp'), copilot: join(b.home, '.copilot', 'session-state') };
  const shared = join(b.roamHome, 'state', 'shared');
  await until(() => TOOLS.every((t) => arrived(t, roots[t]) && statSync(arrived(t, roots[t])!).size > 0) && files(shared).some((f) => readFileSync(f, 'utf8').includes(`"home": "${realpathSync(a.home)}"`)), { timeoutMs: 60_000, what: "A's four sessions and A's published home on B" });
  for (const t of TOOLS) onB[t] = arrived(t, roots[t])!;
  expect(relative(roots.claude, onB.claude)).toBe(`${claudeKey(projB)}/${ids.claude}.jsonl`);

  // The tools' own settings on B (not synced): Codex's provider, Gemini CLI's with its cleanup off (so roam fork plans one).
  writeCodexConfig(join(b.home, '.codex'), openai.baseUrl);
  writeGeminiSettings(b.home);
  const settings = JSON.parse(readFileSync(join(b.home, '.gemini', 'settings.json'), 'utf8')) as { general: Record<string, unknown> };
  settings.general.sessionRetention = { enabled: false };
  writeFileSync(join(b.home, '.gemini', 'settings.json'), JSON.stringify(settings));
}, 240_000);

afterAll(async () => {
  await stopAll();
  await Promise.all([claude, openai, gemini, copilot].map((m) => m?.close()));
  if (bin) rmSync(bin, { recursive: true, force: true });
});

describe("a session from A's ~/code/app, on B (another HOME) in ~/code/app", () => {
  it("roam resume --tool <t> --dry-run plans it in B's directory, for each tool", () => {
    const argv: Record<Tool, string[]> = {
      claude: ['claude', '--resume', ids.claude],
      codex: ['codex', 'resume', ids.codex],
      gemini: ['gemini', '--resume', ids.gemini],
      copilot: ['copilot', '--resume', ids.copilot, '-C', projB],
    };
    for (const t of TOOLS) {
      const r = roamSync(projB, ['resume', '--tool', t, '--dry-run']);
      expect(r.code, `${t}: ${r.err}`).toBe(0);
      expect(JSON.parse(r.out), t).toMatchObject({ cwd: projB, command: argv[t], session: ids[t] });
    }
  });

  it("roam list lists the project's sessions of every tool; roam fork and roam new plan in B's directory", () => {
    const listed = roamSync(projB, ['list', '--json']);
    expect(listed.code, listed.err).toBe(0);
    const sessions = JSON.parse(listed.out) as Array<{ tool: string; id: string }>;
    expect(sessions.map((s) => `${s.tool}:${s.id}`).sort()).toEqual(TOOLS.map((t) => `${t}:${ids[t]}`).sort());

    const fork = (t: Tool) => roamSync(projB, ['fork', '--tool', t, '--dry-run']);
    expect(JSON.parse(fork('claude').out)).toEqual({ cwd: projB, command: ['claude', '--resume', ids.claude, '--fork-session'] });
    expect(JSON.parse(fork('codex').out)).toEqual({ cwd: projB, command: ['codex', 'fork', ids.codex] });
    expect(JSON.parse(fork('gemini').out)).toEqual({ cwd: projB, command: ['gemini', '--session-file', onB.gemini] });
    const noFork = fork('copilot');
    expect(noFork.code).toBe(2);
    expect(noFork.err).toMatch(/^ROAM_USAGE: .*[Cc]opilot/);

    const named = (t: Tool) => roamSync(projB, ['new', 'payments', '--tool', t, '--dry-run']);
    expect(JSON.parse(named('claude').out)).toEqual({ cwd: projB, command: ['claude', '--name', 'payments'] });
    expect(JSON.parse(named('copilot').out)).toEqual({ cwd: projB, command: ['copilot', '--name', 'payments'] });
    for (const t of ['codex', 'gemini'] as const) expect(named(t).err).toMatch(new RegExp(`^ROAM_USAGE: ${t} cannot name a new session`));
  });

  it("the roam list picker runs the picked session's tool in B's directory", async () => {
    const fake = join(bin, 'fake');
    mkdirSync(fake, { recursive: true });
    const record = join(fake, 'ran.txt');
    writeFileSync(join(fake, 'codex'), `#!/bin/sh\necho "$PWD $*" > '${record}'\n`);
    chmodSync(join(fake, 'codex'), 0o755);
    const out = await pickFirst(projB, 'codex', fake);
    expect(existsSync(record), out.slice(-500)).toBe(true);
    expect(readFileSync(record, 'utf8').trim()).toBe(`${projB} resume ${ids.codex}`);
  }, 90_000);

  it("the real CLIs resume each session in B's directory with A's history", async () => {
    const marks = { claude: claude.requests.length, codex: openai.requests.length, gemini: gemini.requests.length, copilot: copilot.requests.length };
    const plan = JSON.parse(roamSync(projB, ['resume', '--tool', 'codex', '--dry-run']).out) as { cwd: string };
    const [c, x, g, p] = await Promise.all([
      roamAsync(projB, ['resume', '--tool', 'claude', '--', '-p', 'Which word?']),
      runCodex({ args: ['exec', '--skip-git-repo-check', 'resume', ids.codex, 'Which word?'], cwd: plan.cwd, home: b.home, timeoutMs: 90_000 }).then((r) => ({ code: r.code, out: r.stdout, err: r.stderr })),
      roamAsync(projB, ['resume', '--tool', 'gemini', '--', '-m', GEMINI_MODEL, '-p', 'Which word?', '--output-format', 'json']),
      roamAsync(projB, ['resume', '--tool', 'copilot', '--', ...copilotArgs('Which word?')]),
    ]);
    for (const [r, t] of [[c, 'claude'], [x, 'codex'], [g, 'gemini'], [p, 'copilot']] as const) expect(r.code, `${t}: ${r.err}${r.out}`).toBe(0);

    // Claude Code: A's history, and it knows it now runs in B's directory.
    const cReq = conversationRequests(claude.requests.slice(marks.claude)).at(-1)!;
    const cTexts = (cReq.body.messages as Array<{ content: unknown }>).map((m) => messageText(m)).join('\n');
    expect(cTexts).toContain(PROMPT);
    expect(cTexts).toContain('Which word?');
    expect(cTexts).toContain(`Primary working directory: ${projB}`);
    // Codex: A's history; the resumed turn recorded B's directory.
    const xReq = responsesRequests(openai.requests.slice(marks.codex)).at(-1)!;
    expect(inputMessages(xReq).filter(([role, text]) => !(role === 'user' && /^<(environment_context|user_instructions)/.test(text.trimStart())))).toEqual([['user', PROMPT], ['assistant', 'Mock answer.'], ['user', 'Which word?']]);
    expect(readFileSync(onB.codex, 'utf8').includes(`"cwd":"${projB}"`), "B's directory in the Codex rollout").toBe(true);
    // Gemini CLI: found under the slug registered for B's directory (by roamd when the session
    // arrived, else by roam resume); its fresh context names B's directory.
    expect(Object.keys((JSON.parse(readFileSync(join(b.home, '.gemini', 'projects.json'), 'utf8')) as { projects: Record<string, string> }).projects), g.err).toContain(projB);
    const gReq = streamRequests(gemini.requests.slice(marks.gemini)).at(-1)!;
    expect(gReq.rawBody.includes(PROMPT) && gReq.rawBody.includes(projB), "A's prompt and B's directory in Gemini CLI's request").toBe(true);
    expect(geminiSessionId(g.out)).toBe(ids.gemini);
    // Copilot CLI: A's history, and the environment it describes is B's directory.
    const pReq = chatRequests(copilot.requests.slice(marks.copilot)).at(-1)!;
    expect(chatMessages(pReq)).toEqual([['user', PROMPT], ['assistant', 'Mock answer.'], ['user', 'Which word?']]);
    expect(pReq.rawBody.includes(`Current working directory: ${projB}`), "Copilot CLI's request names B's directory").toBe(true);
  }, 180_000);
});
