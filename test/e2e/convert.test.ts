/**
 * `roam resume <id> --in <tool>` end to end, with the real CLIs against the loopback mocks
 * (test/support/mock-anthropic.ts, mock-openai.ts), on one machine (one HOME for both tools):
 *
 * 1. A Claude Code session made by the real `claude -p` (a text, a Bash tool call that really
 *    runs, its output, a text) is resumed `--in codex -- exec …`: the real Codex CLI accepts the
 *    converted rollout and sends the conversation back to the model — the same user and assistant
 *    texts in order, the Bash call as an `exec_command` call with its output — then the new prompt.
 *    And back: that Codex session, grown by Codex's turn, resumed `--in claude`: Claude Code sends
 *    the texts in order and the call as a Bash tool_use answered by its tool_result.
 * 2. A Codex session made by the real `codex exec` (two turns) is resumed `--in claude -- -p …`:
 *    the real Claude Code CLI sends the same user and assistant texts in order.
 * In both, the source file is byte for byte untouched and the target CLI appends to the converted
 * session. See docs/CONVERT.md.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRoam } from '../harness/cli.js';
import { projectKey } from '../../packages/cli/src/tools/claude/index.js';
import { claudeBin, claudeEnv, runClaude } from '../support/claude.js';
import { codexBin, runCodex, sessionIdOf, writeCodexConfig } from '../support/codex.js';
import { bashCheckReply, claudeConversation, firstToolCall, conversationRequests, startMockAnthropic, type MockAnthropic } from '../support/mock-anthropic.js';
import { responsesRequests, startMockOpenAI, type MockOpenAI, type OpenAIRequest } from '../support/mock-openai.js';

let anthropic: MockAnthropic;
let openai: MockOpenAI;
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
  scratch = realpathSync(mkdtempSync(join(tmpdir(), 'roam-convert-e2e-')));
  home = join(scratch, 'home');
  project = join(home, 'code', 'app');
  mkdirSync(project, { recursive: true });
  writeCodexConfig(join(home, '.codex'), openai.baseUrl);
  // `roam resume` runs `claude` and `codex` from PATH.
  const bin = join(scratch, 'bin');
  mkdirSync(bin);
  symlinkSync(claudeBin(), join(bin, 'claude'));
  symlinkSync(codexBin(), join(bin, 'codex'));
  const base = claudeEnv({ home, baseUrl: anthropic.url });
  env = { ...base, PATH: `${bin}:${base.PATH}`, CODEX_HOME: join(home, '.codex'), OPENAI_API_KEY: 'sk-dummy-roam-test', ROAM_HOME: join(home, '.roam') };
});
afterAll(async () => {
  await anthropic.close();
  await openai.close();
  rmSync(scratch, { recursive: true, force: true });
});

async function roam(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const r = await runRoam(args, { env, cwd: project, timeoutMs: 40_000 });
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
  const input = req.body.input as Array<Record<string, any>>;
  return input
    .filter((i) => i.type === 'message' && (i.role === 'user' || i.role === 'assistant'))
    .map((i): [string, string] => [i.role, (i.content as Array<{ text?: string }>).map((c) => c.text ?? '').join('\n')])
    .filter(([role, text]) => !(role === 'user' && /^<(environment_context|user_instructions)/.test(text.trimStart())));
}

describe('roam resume --in with the real CLIs', () => {
  it('a Claude Code session, resumed in Codex: Codex sends its texts in order, and the Bash call as exec_command with its output', async () => {
    const made = await runClaude({ args: ['-p', '--allowedTools', 'Bash', '--', 'Remember the word zebracorn, then check it.'], cwd: project, home, baseUrl: anthropic.url, timeoutMs: 30_000 });
    expect(made.code, made.stderr).toBe(0);
    const [source] = files(join(home, '.claude', 'projects', projectKey(project)), /\.jsonl$/);
    const id = source!.slice(source!.lastIndexOf('/') + 1, -'.jsonl'.length);
    const before = readFileSync(source!);

    const mark = openai.requests.length;
    const r = await roam(['resume', id, '--in', 'codex', '--', 'exec', '--skip-git-repo-check', 'Which word?']);
    expect(r.code, r.err).toBe(0);
    const newId = /converted to Codex session ([0-9a-f-]{36})/.exec(r.err)?.[1];
    expect(newId, r.err).toBeDefined();
    expect(sessionIdOf(r.out + r.err)).toBe(newId);
    expect(r.out).toContain('Codex mock answer.');

    const sent = responsesRequests(openai.requests.slice(mark));
    expect(sent).toHaveLength(1);
    expect(codexConversation(sent[0]!)).toEqual([
      ['user', 'Remember the word zebracorn, then check it.'],
      ['assistant', 'Let me check.'],
      ['assistant', 'The check printed zebracorn-ok.'],
      ['user', 'Which word?'],
    ]);
    const input = sent[0]!.body.input as Array<Record<string, any>>;
    const at = (pred: (i: Record<string, any>) => boolean) => input.findIndex(pred);
    const call = input.find((i) => i.type === 'function_call')!;
    expect(call).toMatchObject({ name: 'exec_command', arguments: JSON.stringify({ cmd: 'echo zebracorn-ok' }) });
    const output = input.find((i) => i.type === 'function_call_output')!;
    expect(output).toMatchObject({ call_id: call.call_id });
    expect(String(output.output)).toContain('zebracorn-ok');
    expect(at((i) => i.type === 'message' && i.content?.[0]?.text === 'Let me check.')).toBeLessThan(at((i) => i === call));
    expect(at((i) => i === output)).toBeLessThan(at((i) => i.type === 'message' && i.content?.[0]?.text === 'The check printed zebracorn-ok.'));

    // The source is untouched; Codex appended the new turn to the converted rollout.
    expect(readFileSync(source!).equals(before)).toBe(true);
    const [rollout] = files(join(home, '.codex', 'sessions'), new RegExp(`${newId}\\.jsonl$`));
    expect(readFileSync(rollout!, 'utf8')).toContain('Which word?');
    const listed = JSON.parse((await roam(['list', '--tool', 'codex', '--json'])).out) as Array<{ id: string; title: string }>;
    expect(listed).toEqual([expect.objectContaining({ id: newId, title: 'Remember the word zebracorn, then check it.' })]);

    // And back: the Codex session (with the turn Codex added) resumed in Claude Code, which sends
    // the texts in order and the exec_command call as a Bash tool_use answered by its tool_result.
    const markBack = anthropic.requests.length;
    const back = await roam(['resume', newId!, '--in', 'claude', '--', '-p', 'And now?']);
    expect(back.code, back.err).toBe(0);
    const backId = /converted to Claude Code session ([0-9a-f-]{36})/.exec(back.err)?.[1];
    expect(backId).not.toBe(id);
    const [req] = conversationRequests(anthropic.requests.slice(markBack));
    expect(claudeConversation(req!)).toEqual([
      ['user', 'Remember the word zebracorn, then check it.'],
      ['assistant', 'Let me check.'],
      ['assistant', 'The check printed zebracorn-ok.'],
      ['user', 'Which word?'],
      ['assistant', 'Codex mock answer.'],
      ['user', 'And now?'],
    ]);
    const { use, result } = firstToolCall(req!);
    expect(use).toMatchObject({ name: 'Bash', input: { command: 'echo zebracorn-ok' } });
    expect(result).toMatchObject({ tool_use_id: use.id, content: expect.stringContaining('zebracorn-ok') });
  }, 60_000);

  it('a Codex session, resumed in Claude Code: Claude sends its texts in order', async () => {
    const first = await runCodex({ args: ['exec', '--skip-git-repo-check', 'Remember the word quokka.'], cwd: project, home, timeoutMs: 30_000 });
    expect(first.code, first.stderr).toBe(0);
    const id = sessionIdOf(first.stderr + first.stdout)!;
    const second = await runCodex({ args: ['exec', '--skip-git-repo-check', 'resume', id, 'And the colour teal.'], cwd: project, home, timeoutMs: 30_000 });
    expect(second.code, second.stderr).toBe(0);
    const [source] = files(join(home, '.codex', 'sessions'), new RegExp(`${id}\\.jsonl$`));
    const before = readFileSync(source!);

    const mark = anthropic.requests.length;
    const r = await roam(['resume', id, '--in', 'claude', '--', '-p', 'Which word and colour?']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('Claude mock answer.');
    const newId = /converted to Claude Code session ([0-9a-f-]{36})/.exec(r.err)?.[1];
    expect(newId, r.err).toBeDefined();
    expect(r.err).toMatch(/not carried as it was: \d+ × Codex's developer\/system messages/);

    const sent = conversationRequests(anthropic.requests.slice(mark));
    expect(sent).toHaveLength(1);
    expect(sent[0]!.headers['x-claude-code-session-id']).toBe(newId);
    expect(claudeConversation(sent[0]!)).toEqual([
      ['user', 'Remember the word quokka.'],
      ['assistant', 'Codex mock answer.'],
      ['user', 'And the colour teal.'],
      ['assistant', 'Codex mock answer.'],
      ['user', 'Which word and colour?'],
    ]);

    expect(readFileSync(source!).equals(before)).toBe(true);
    const transcript = join(home, '.claude', 'projects', projectKey(project), `${newId}.jsonl`);
    expect(readFileSync(transcript, 'utf8')).toContain('Which word and colour?');
  }, 60_000);
});
