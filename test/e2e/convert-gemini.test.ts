/**
 * `roam resume <id> --in gemini` and `--in claude` from a Gemini CLI session, end to end with the
 * real CLIs (Claude Code, Gemini CLI 0.61.0) against the loopback mocks (test/support/mock-anthropic.ts,
 * mock-gemini.ts), on one machine (one HOME for both tools):
 *
 * 1. A Claude Code session made by the real `claude -p` (a text, a Bash call that really runs, its
 *    output, a text) is resumed `--in gemini -- -p …`: the real Gemini CLI finds the converted
 *    session under the directory's slug and sends the conversation to the model: the same user and
 *    model texts in order, the Bash call as a run_shell_command functionCall answered by its
 *    functionResponse, then the new prompt; it appends its turn to the converted file.
 * 2. A Codex session made by the real `codex exec` (two turns) resumed `--in gemini`: the same texts
 *    in order.
 * 3. A Gemini CLI session made by the real `gemini -p` (a text, a run_shell_command call the CLI
 *    really runs, its output, a text) is resumed `--in claude -- -p …`: Claude Code sends the texts
 *    in order and the call as a Bash tool_use answered by its tool_result.
 * In both, the source file is byte for byte untouched. See docs/CONVERT.md, docs/GEMINI.md.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRoam } from '../harness/cli.js';
import { projectKey } from '../../packages/cli/src/tools/claude/index.js';
import { claudeBin, claudeEnv, runClaude } from '../support/claude.js';
import { codexBin, runCodex, sessionIdOf, writeCodexConfig } from '../support/codex.js';
import { GEMINI_MODEL, geminiBinDir, geminiEnv, geminiSessionId, runGemini, writeGeminiSettings } from '../support/gemini.js';
import { bashCheckReply, claudeConversation, firstToolCall, conversationRequests, startMockAnthropic, type MockAnthropic } from '../support/mock-anthropic.js';
import { startMockGemini, streamRequests, type MockGemini } from '../support/mock-gemini.js';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai.js';

let anthropic: MockAnthropic;
let gemini: MockGemini;
let openai: MockOpenAI;
let scratch: string;
let home: string;
let project: string;
let env: NodeJS.ProcessEnv;

type Content = { role: string; parts: Array<Record<string, any>> };

beforeAll(async () => {
  // Claude's first turn: a text and a Bash call; after its output, a text; later turns: the default.
  anthropic = await startMockAnthropic({
    text: 'Claude mock answer.',
    reply: bashCheckReply,
  });
  // Gemini's the same: a text and a run_shell_command call, then a text after its output.
  gemini = await startMockGemini({
    text: 'Gemini mock answer.',
    reply: (req) => {
      if (!req.path.endsWith(':streamGenerateContent')) return undefined;
      const contents = req.body.contents as Content[];
      const last = contents[contents.length - 1]!;
      if (last.parts.some((p) => p.functionResponse)) return 'The check printed quokka-ok.';
      if (!contents.some((c) => c.role === 'model') && JSON.stringify(contents).includes('then check it')) {
        return { text: 'Let me check.', functionCall: { name: 'run_shell_command', args: { command: 'echo quokka-ok', description: 'check' } } };
      }
      return undefined;
    },
  });
  openai = await startMockOpenAI({ text: 'Codex mock answer.' });
  scratch = realpathSync(mkdtempSync(join(tmpdir(), 'roam-convert-gemini-e2e-')));
  home = join(scratch, 'home');
  project = join(home, 'code', 'app');
  mkdirSync(project, { recursive: true });
  writeGeminiSettings(home);
  writeCodexConfig(join(home, '.codex'), openai.baseUrl);
  // `roam resume` runs `claude`, `codex` and `gemini` from PATH.
  const bin = geminiBinDir(join(scratch, 'bin'));
  symlinkSync(claudeBin(), join(bin, 'claude'));
  symlinkSync(codexBin(), join(bin, 'codex'));
  const base = claudeEnv({ home, baseUrl: anthropic.url });
  env = { ...geminiEnv({ home, baseUrl: gemini.baseUrl }), ...base, PATH: `${bin}:${base.PATH}`, CODEX_HOME: join(home, '.codex'), OPENAI_API_KEY: 'sk-dummy-roam-test', ROAM_HOME: join(home, '.roam') };
});
afterAll(async () => {
  await anthropic.close();
  await gemini.close();
  await openai.close();
  rmSync(scratch, { recursive: true, force: true });
});

async function roam(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const r = await runRoam(args, { env, cwd: project, timeoutMs: 90_000 });
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

/** [role, texts] per content Gemini CLI sent, without its own context parts. */
function geminiConversation(contents: readonly Content[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const c of contents) {
    const text = c.parts.filter((p) => typeof p.text === 'string' && !p.thought && !/^<(session_context|hook_context)>/.test(p.text.trimStart())).map((p) => p.text as string).join('');
    if (text) out.push([c.role, text]);
  }
  return out;
}

describe('roam resume --in gemini / from gemini with the real CLIs', () => {
  it('a Claude Code session, resumed in Gemini CLI: Gemini sends its texts in order, and the Bash call as run_shell_command with its output', async () => {
    const made = await runClaude({ args: ['-p', '--allowedTools', 'Bash', '--', 'Remember the word zebracorn, then check it.'], cwd: project, home, baseUrl: anthropic.url, timeoutMs: 60_000 });
    expect(made.code, made.stderr).toBe(0);
    const [source] = files(join(home, '.claude', 'projects', projectKey(project)), /\.jsonl$/);
    const id = source!.slice(source!.lastIndexOf('/') + 1, -'.jsonl'.length);
    const before = readFileSync(source!);

    const mark = gemini.requests.length;
    const r = await roam(['resume', id, '--in', 'gemini', '--', '-m', GEMINI_MODEL, '-p', 'Which word?', '--output-format', 'json']);
    expect(r.code, r.err).toBe(0);
    const newId = /converted to Gemini CLI session ([0-9a-f-]{36})/.exec(r.err)?.[1];
    expect(newId, r.err).toBeDefined();
    expect(r.err).toMatch(/registered .*code\/app as Gemini CLI project "app"/);
    expect(geminiSessionId(r.out)).toBe(newId);

    const sent = streamRequests(gemini.requests.slice(mark));
    expect(sent).toHaveLength(1);
    const contents = sent[0]!.body.contents as Content[];
    expect(geminiConversation(contents)).toEqual([
      ['user', 'Remember the word zebracorn, then check it.'],
      ['model', 'Let me check.'],
      ['model', 'The check printed zebracorn-ok.'],
      ['user', 'Which word?'],
    ]);
    const callAt = contents.findIndex((c) => c.role === 'model' && c.parts.some((p) => p.functionCall));
    const call = contents[callAt]!.parts.find((p) => p.functionCall)!.functionCall;
    expect(call).toMatchObject({ name: 'run_shell_command', args: { command: 'echo zebracorn-ok' } });
    const response = contents[callAt + 1]!.parts.find((p) => p.functionResponse)!.functionResponse;
    expect(response).toMatchObject({ id: call.id, name: 'run_shell_command' });
    expect(JSON.stringify(response.response)).toContain('zebracorn-ok');
    expect(contents[callAt + 2]).toMatchObject({ role: 'model', parts: [{ text: 'The check printed zebracorn-ok.' }] });

    // The source is untouched; Gemini CLI appended the new turn to the converted session.
    expect(readFileSync(source!).equals(before)).toBe(true);
    const [converted] = files(join(home, '.gemini', 'tmp', 'app', 'chats'), new RegExp(`-${newId!.slice(0, 8)}\\.jsonl$`)).filter((f) => readFileSync(f, 'utf8').includes('Let me check.'));
    expect(readFileSync(converted!, 'utf8')).toContain('Which word?');
    const listed = JSON.parse((await roam(['list', '--tool', 'gemini', '--json'])).out) as Array<{ id: string; title: string; messages: number }>;
    expect(listed).toEqual([expect.objectContaining({ id: newId, title: 'Remember the word zebracorn, then check it.', messages: 5 })]);
    expect(gemini.unknown).toEqual([]);
  }, 180_000);

  it('a Codex session, resumed in Gemini CLI: Gemini sends its texts in order', async () => {
    const first = await runCodex({ args: ['exec', '--skip-git-repo-check', 'Remember the word axolotl.'], cwd: project, home, timeoutMs: 60_000 });
    expect(first.code, first.stderr).toBe(0);
    const id = sessionIdOf(first.stderr + first.stdout)!;
    const second = await runCodex({ args: ['exec', '--skip-git-repo-check', 'resume', id, 'And the colour teal.'], cwd: project, home, timeoutMs: 60_000 });
    expect(second.code, second.stderr).toBe(0);
    const [source] = files(join(home, '.codex', 'sessions'), new RegExp(`${id}\\.jsonl$`));
    const before = readFileSync(source!);

    const mark = gemini.requests.length;
    const r = await roam(['resume', id, '--in', 'gemini', '--', '-m', GEMINI_MODEL, '-p', 'Which word and colour?', '--output-format', 'json']);
    expect(r.code, r.err).toBe(0);
    const newId = /converted to Gemini CLI session ([0-9a-f-]{36})/.exec(r.err)?.[1];
    expect(newId, r.err).toBeDefined();
    expect(geminiSessionId(r.out)).toBe(newId);
    const sent = streamRequests(gemini.requests.slice(mark));
    expect(sent).toHaveLength(1);
    expect(geminiConversation(sent[0]!.body.contents as Content[])).toEqual([
      ['user', 'Remember the word axolotl.'],
      ['model', 'Codex mock answer.'],
      ['user', 'And the colour teal.'],
      ['model', 'Codex mock answer.'],
      ['user', 'Which word and colour?'],
    ]);
    expect(readFileSync(source!).equals(before)).toBe(true);
  }, 180_000);

  it('a Gemini CLI session, resumed in Claude Code: Claude sends its texts in order, and run_shell_command as a Bash call with its output', async () => {
    const made = await runGemini({ args: ['-m', GEMINI_MODEL, '--approval-mode', 'yolo', '-p', 'Remember the word quokka, then check it.', '--output-format', 'json'], cwd: project, home, baseUrl: gemini.baseUrl, timeoutMs: 90_000 });
    expect(made.code, made.stderr).toBe(0);
    const id = geminiSessionId(made.stdout)!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const [source] = files(join(home, '.gemini', 'tmp'), new RegExp(`-${id.slice(0, 8)}\\.jsonl$`));
    const before = readFileSync(source!);

    const mark = anthropic.requests.length;
    const r = await roam(['resume', id, '--in', 'claude', '--', '-p', 'Which word?']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('Claude mock answer.');
    const newId = /converted to Claude Code session ([0-9a-f-]{36})/.exec(r.err)?.[1];
    expect(newId, r.err).toBeDefined();
    expect(r.err).toMatch(/not carried as it was: 1 × context Gemini CLI adds/);

    const [req] = conversationRequests(anthropic.requests.slice(mark));
    expect(claudeConversation(req!)).toEqual([
      ['user', 'Remember the word quokka, then check it.'],
      ['assistant', 'Let me check.'],
      ['assistant', 'The check printed quokka-ok.'],
      ['user', 'Which word?'],
    ]);
    const { use, result } = firstToolCall(req!);
    expect(use).toMatchObject({ name: 'Bash', input: { command: 'echo quokka-ok' } });
    expect(result).toMatchObject({ tool_use_id: use.id, content: expect.stringContaining('quokka-ok') });

    expect(readFileSync(source!).equals(before)).toBe(true);
    expect(readFileSync(join(home, '.claude', 'projects', projectKey(project), `${newId}.jsonl`), 'utf8')).toContain('Which word?');
  }, 180_000);
});
