/**
 * `roam resume <id> --in copilot` and `--in claude|codex` from a Copilot CLI session, end to end
 * with the real CLIs against the loopback mocks (mock-anthropic.ts, mock-openai.ts,
 * mock-copilot.ts), on one machine (one HOME for all three tools):
 *
 * 1. A Claude Code session made by the real `claude -p` (a text, a Bash call that really runs, its
 *    output, a text) resumed `--in copilot -- -p …`: the real Copilot CLI accepts the converted
 *    session directory and sends the same user and assistant texts in order, the Bash call as its
 *    own `bash` tool call answered by the output, then the new prompt. A `codex exec` session
 *    resumed `--in copilot` likewise sends its texts in order.
 * 2. A Copilot session made by the real `copilot -p` (a bash call the CLI really runs, its output,
 *    a text) resumed `--in claude -- -p …` and `--in codex -- exec …`: Claude Code and Codex send
 *    the same texts in order, and the call as their own shell call with its output.
 * The source is byte for byte untouched each time. See docs/CONVERT.md, docs/COPILOT.md.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRoam } from '../harness/cli.js';
import { projectKey } from '../../packages/cli/src/tools/claude/index.js';
import { claudeBin, claudeEnv, runClaude } from '../support/claude.js';
import { codexBin, runCodex, sessionIdOf as codexSessionIdOf, writeCodexConfig } from '../support/codex.js';
import { copilotArgs, copilotBin, copilotEnv, runCopilot, sessionIdOf } from '../support/copilot.js';
import { bashCheckReply, claudeConversation, firstToolCall, conversationRequests, startMockAnthropic, type MockAnthropic } from '../support/mock-anthropic.js';
import { chatMessages, chatRequests, chatTools, startMockCopilot, type MockCopilot } from '../support/mock-copilot.js';
import { responsesRequests, startMockOpenAI, type MockOpenAI, type OpenAIRequest } from '../support/mock-openai.js';

let anthropic: MockAnthropic;
let openai: MockOpenAI;
let copilot: MockCopilot;
let scratch: string;
let home: string;
let project: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  // Claude's first turn: a text and a Bash call; after its output, a text; later turns: the default.
  anthropic = await startMockAnthropic({
    text: 'Claude mock answer.',
    reply: bashCheckReply,
  });
  openai = await startMockOpenAI({ text: 'Codex mock answer.' });
  // Copilot's first turn of a fresh "…then check it" prompt: a bash call; after its output, a text.
  copilot = await startMockCopilot({
    text: 'Copilot mock answer.',
    reply: (req) => {
      const msgs = (req.body?.messages ?? []) as Array<{ role: string; content: unknown }>;
      const last = msgs[msgs.length - 1];
      if (last?.role === 'tool') return 'The check printed quokka-ok.';
      const users = msgs.filter((m) => m.role === 'user');
      if (users.length === 1 && !msgs.some((m) => m.role === 'assistant') && JSON.stringify(users).includes('then check it')) {
        return { text: 'Checking.', toolCall: { name: 'bash', arguments: { command: 'echo quokka-ok', description: 'check' } } };
      }
      return undefined;
    },
  });
  scratch = realpathSync(mkdtempSync(join(tmpdir(), 'roam-convert-copilot-e2e-')));
  home = join(scratch, 'home');
  project = join(home, 'code', 'app');
  mkdirSync(project, { recursive: true });
  writeCodexConfig(join(home, '.codex'), openai.baseUrl);
  // `roam resume` runs `claude`, `codex` and `copilot` from PATH.
  const bin = join(scratch, 'bin');
  mkdirSync(bin);
  symlinkSync(claudeBin(), join(bin, 'claude'));
  symlinkSync(codexBin(), join(bin, 'codex'));
  symlinkSync(copilotBin(), join(bin, 'copilot'));
  const base = claudeEnv({ home, baseUrl: anthropic.url });
  env = {
    ...copilotEnv({ home, baseUrl: copilot.baseUrl }),
    ...base,
    PATH: `${bin}:${base.PATH}`,
    CODEX_HOME: join(home, '.codex'),
    OPENAI_API_KEY: 'sk-dummy-roam-test',
    ROAM_HOME: join(home, '.roam'),
  };
});
afterAll(async () => {
  await anthropic.close();
  await openai.close();
  await copilot.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** In a process group of its own, killed when it ends: whatever the tool left behind goes with it. */
async function roam(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const r = await runRoam(args, { env, cwd: project, timeoutMs: 90_000, group: true });
  return { code: r.code, out: r.stdout, err: r.stderr };
}

function files(dir: string, re: RegExp): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const n of existsSync(d) ? readdirSync(d) : []) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (re.test(n)) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** The user's and the model's messages Codex sent, without the context it adds itself. */
function codexConversation(req: OpenAIRequest): Array<[string, string]> {
  return (req.body.input as Array<Record<string, any>>)
    .filter((i) => i.type === 'message' && (i.role === 'user' || i.role === 'assistant'))
    .map((i): [string, string] => [i.role, (i.content as Array<{ text?: string }>).map((c) => c.text ?? '').join('\n')])
    .filter(([role, text]) => !(role === 'user' && /^<(environment_context|user_instructions)/.test(text.trimStart())));
}

describe('roam resume --in copilot / from copilot, with the real CLIs', () => {
  it('a Claude Code session resumed in Copilot CLI: Copilot sends its texts in order, and the Bash call as bash with its output', async () => {
    const made = await runClaude({ args: ['-p', '--allowedTools', 'Bash', '--', 'Remember the word zebracorn, then check it.'], cwd: project, home, baseUrl: anthropic.url, timeoutMs: 60_000 });
    expect(made.code, made.stderr).toBe(0);
    const [source] = files(join(home, '.claude', 'projects', projectKey(project)), /\.jsonl$/);
    const id = source!.slice(source!.lastIndexOf('/') + 1, -'.jsonl'.length);
    const before = readFileSync(source!);

    const mark = copilot.requests.length;
    const r = await roam(['resume', id, '--in', 'copilot', '--', ...copilotArgs('Which word?')]);
    expect(r.code, r.err + r.out).toBe(0);
    const newId = /converted to Copilot CLI session ([0-9a-f-]{36})/.exec(r.err)?.[1];
    expect(newId, r.err).toBeDefined();
    expect(sessionIdOf(r.out + r.err)).toBe(newId);
    expect(r.out).toContain('Copilot mock answer.');

    const sent = chatRequests(copilot.requests.slice(mark));
    expect(sent).toHaveLength(1);
    expect(chatMessages(sent[0]!).filter(([, t]) => t !== '')).toEqual([
      ['user', 'Remember the word zebracorn, then check it.'],
      ['assistant', 'Let me check.'],
      ['assistant', 'The check printed zebracorn-ok.'],
      ['user', 'Which word?'],
    ]);
    const tools = chatTools(sent[0]!);
    expect(tools).toHaveLength(2);
    expect(tools[0]![0]).toBe('call');
    expect(tools[0]![1]).toBe('bash');
    expect(JSON.parse(tools[0]![2])).toMatchObject({ command: 'echo zebracorn-ok' });
    expect(tools[1]![0]).toBe('tool');
    expect(tools[1]![2]).toContain('zebracorn-ok');
    // The tool message follows the assistant message that made the call.
    const msgs = sent[0]!.body.messages as Array<Record<string, any>>;
    const callAt = msgs.findIndex((m) => Array.isArray(m.tool_calls) && m.tool_calls.length);
    expect(msgs[callAt + 1]).toMatchObject({ role: 'tool', tool_call_id: msgs[callAt]!.tool_calls[0].id });
    expect(copilot.unknown).toEqual([]);

    // The source is untouched; Copilot appended the new turn to the converted session.
    expect(readFileSync(source!).equals(before)).toBe(true);
    const events = join(home, '.copilot', 'session-state', newId!, 'events.jsonl');
    expect(readFileSync(events, 'utf8')).toContain('Which word?');
    const listed = JSON.parse((await roam(['list', '--tool', 'copilot', '--json'])).out) as Array<{ id: string; title: string; cwd: string }>;
    expect(listed).toEqual([expect.objectContaining({ id: newId, title: 'Remember the word zebracorn, then check it.', cwd: project })]);
  }, 120_000);

  it('a Codex session resumed in Copilot CLI: Copilot sends its texts in order', async () => {
    const first = await runCodex({ args: ['exec', '--skip-git-repo-check', 'Remember the word axolotl.'], cwd: project, home, timeoutMs: 60_000 });
    expect(first.code, first.stderr).toBe(0);
    const id = codexSessionIdOf(first.stderr + first.stdout)!;
    const [source] = files(join(home, '.codex', 'sessions'), new RegExp(`${id}\\.jsonl$`));
    const before = readFileSync(source!);

    const mark = copilot.requests.length;
    const r = await roam(['resume', id, '--in', 'copilot', '--', ...copilotArgs('Which animal?')]);
    expect(r.code, r.err + r.out).toBe(0);
    expect(r.err).toMatch(/converted to Copilot CLI session [0-9a-f-]{36}/);
    expect(r.err).toMatch(/not carried as it was: \d+ × Codex's developer\/system messages/);
    const sent = chatRequests(copilot.requests.slice(mark));
    expect(sent).toHaveLength(1);
    expect(chatMessages(sent[0]!)).toEqual([
      ['user', 'Remember the word axolotl.'],
      ['assistant', 'Codex mock answer.'],
      ['user', 'Which animal?'],
    ]);
    expect(readFileSync(source!).equals(before)).toBe(true);
  }, 120_000);

  it('a Copilot CLI session resumed in Claude Code and in Codex: each sends its texts in order, the bash call as its own shell call', async () => {
    const made = await runCopilot({ args: copilotArgs('Remember the word quokka, then check it.'), cwd: project, home, baseUrl: copilot.baseUrl, timeoutMs: 90_000 });
    expect(made.code, made.stderr + made.stdout).toBe(0);
    expect(made.stdout).toContain('The check printed quokka-ok.');
    const id = sessionIdOf(made.stdout + made.stderr)!;
    const source = join(home, '.copilot', 'session-state', id, 'events.jsonl');
    const before = readFileSync(source);

    const mark = anthropic.requests.length;
    const r = await roam(['resume', id, '--in', 'claude', '--', '-p', 'And now?']);
    expect(r.code, r.err + r.out).toBe(0);
    expect(r.out).toContain('Claude mock answer.');
    const claudeId = /converted to Claude Code session ([0-9a-f-]{36})/.exec(r.err)?.[1];
    expect(claudeId, r.err).toBeDefined();
    expect(r.err).toMatch(/not carried as it was: \d+ × Copilot CLI's system messages/);
    const [req] = conversationRequests(anthropic.requests.slice(mark));
    expect(req!.headers['x-claude-code-session-id']).toBe(claudeId);
    expect(claudeConversation(req!)).toEqual([
      ['user', 'Remember the word quokka, then check it.'],
      ['assistant', 'Checking.'],
      ['assistant', 'The check printed quokka-ok.'],
      ['user', 'And now?'],
    ]);
    const { use, result } = firstToolCall(req!);
    expect(use).toMatchObject({ name: 'Bash', input: { command: 'echo quokka-ok' } });
    expect(result).toMatchObject({ tool_use_id: use.id, content: expect.stringContaining('quokka-ok') });
    expect(readFileSync(join(home, '.claude', 'projects', projectKey(project), `${claudeId}.jsonl`), 'utf8')).toContain('And now?');

    const markCodex = openai.requests.length;
    const c = await roam(['resume', id, '--in', 'codex', '--', 'exec', '--skip-git-repo-check', 'Codex now?']);
    expect(c.code, c.err + c.out).toBe(0);
    expect(c.out).toContain('Codex mock answer.');
    const sent = responsesRequests(openai.requests.slice(markCodex));
    expect(sent).toHaveLength(1);
    expect(codexConversation(sent[0]!)).toEqual([
      ['user', 'Remember the word quokka, then check it.'],
      ['assistant', 'Checking.'],
      ['assistant', 'The check printed quokka-ok.'],
      ['user', 'Codex now?'],
    ]);
    const input = sent[0]!.body.input as Array<Record<string, any>>;
    const call = input.find((i) => i.type === 'function_call')!;
    expect(call).toMatchObject({ name: 'exec_command', arguments: JSON.stringify({ cmd: 'echo quokka-ok' }) });
    expect(String(input.find((i) => i.type === 'function_call_output')?.output)).toContain('quokka-ok');

    expect(readFileSync(source).equals(before)).toBe(true);
  }, 180_000);
});
