/**
 * OpenCode (`opencode-ai` 1.18.33) end to end with its real CLI: sync and resume across two roamd
 * daemons, and the guards on its database (test/support/opencode-suite.ts); conversion to and from
 * Claude Code (the real `claude -p` against the Anthropic mock): each tool sends the other's texts
 * in order. docs/tools/opencode.md.
 */
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRoam } from '../harness/cli.js';
import { projectKey } from '../../packages/cli/src/tools/claude/index.js';
import { claudeBin, claudeEnv, runClaude } from '../support/claude.js';
import { claudeConversation, conversationRequests as claudeRequests, startMockAnthropic, type MockAnthropic } from '../support/mock-anthropic.js';
import type { MockServer } from '../support/mock-openai.js';
import { familySuite } from '../support/opencode-suite.js';
import { OPENCODE_CLI, cliBin, cliEnv, conversation, conversationRequests, runArgs, runTool, startChatMock, writeConfig } from '../support/opencode.js';

familySuite(OPENCODE_CLI);

describe('roam resume --in opencode / from opencode, with the real CLIs', () => {
  let anthropic: MockAnthropic;
  let chat: MockServer;
  let scratch: string;
  let home: string;
  let project: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    anthropic = await startMockAnthropic({ text: 'Claude mock answer.' });
    chat = await startChatMock({ text: 'OpenCode mock answer.' });
    scratch = realpathSync(mkdtempSync(join(tmpdir(), 'roam-convert-opencode-e2e-')));
    home = join(scratch, 'home');
    project = join(home, 'code', 'app');
    mkdirSync(project, { recursive: true });
    writeConfig(OPENCODE_CLI, home, chat.baseUrl);
    const bin = join(scratch, 'bin');
    mkdirSync(bin);
    symlinkSync(claudeBin(), join(bin, 'claude'));
    symlinkSync(cliBin(OPENCODE_CLI), join(bin, 'opencode'));
    const base = claudeEnv({ home, baseUrl: anthropic.url });
    env = { ...cliEnv(home), ...base, PATH: `${bin}:${base.PATH}`, ROAM_HOME: join(home, '.roam') };
  });
  afterAll(async () => {
    await anthropic.close();
    await chat.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  const roam = async (args: string[]): Promise<{ code: number | null; out: string; err: string }> => {
    const r = await runRoam(args, { env, cwd: project, timeoutMs: 120_000, group: true });
    return { code: r.code, out: r.stdout, err: r.stderr };
  };

  it('a Claude Code session resumed in OpenCode, and an OpenCode session resumed in Claude Code: the texts in order', async () => {
    const made = await runClaude({ args: ['-p', '--', 'Remember the word zebracorn.'], cwd: project, home, baseUrl: anthropic.url, timeoutMs: 60_000 });
    expect(made.code, made.stderr).toBe(0);
    const [source] = readdirSync(join(home, '.claude', 'projects', projectKey(project))).filter((n) => n.endsWith('.jsonl'));
    const claudeId = source!.slice(0, -'.jsonl'.length);

    let mark = chat.requests.length;
    const into = await roam(['resume', claudeId, '--in', 'opencode', '--', ...runArgs('Which word?')]);
    expect(into.code, into.err + into.out).toBe(0);
    const ocId = /converted to OpenCode session (ses_[0-9A-Za-z]+)/.exec(into.err)?.[1];
    expect(ocId, into.err).toBeDefined();
    const sent = conversationRequests(chat.requests.slice(mark));
    expect(sent).toHaveLength(1);
    expect(conversation(sent[0]!)).toEqual([['user', 'Remember the word zebracorn.'], ['assistant', 'Claude mock answer.'], ['user', 'Which word?']]);

    // An OpenCode session of its own, resumed in Claude Code.
    const own = await runTool(OPENCODE_CLI, runArgs('Remember the word quokka.'), { cwd: project, home });
    expect(own.code, own.stderr).toBe(0);
    const listed = JSON.parse((await roam(['list', '--tool', 'opencode', '--json'])).out) as Array<{ id: string; firstPrompt: string }>;
    const mine = listed.find((s) => s.firstPrompt === 'Remember the word quokka.')!;
    expect(mine).toBeDefined();
    mark = anthropic.requests.length;
    const out = await roam(['resume', mine.id, '--in', 'claude', '--', '-p', 'And now?']);
    expect(out.code, out.err + out.out).toBe(0);
    expect(out.out).toContain('Claude mock answer.');
    const [req] = claudeRequests(anthropic.requests.slice(mark));
    expect(claudeConversation(req!)).toEqual([
      ['user', 'Remember the word quokka.'],
      ['assistant', 'OpenCode mock answer.'],
      ['user', 'And now?'],
    ]);
  }, 180_000);
});
