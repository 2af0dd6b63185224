/**
 * Running the real OpenCode CLI (`opencode-ai` 1.18.33) and Kilo CLI (`@kilocode/cli` 7.7.7), both
 * pinned in the root package.json, in an isolated HOME against a loopback Chat Completions mock
 * (`startChatMock`): a provider `mock` of `@ai-sdk/openai-compatible` whose baseURL is the mock
 * (written to the HOME's config file by `writeConfig`), with the models list fetch, auto-update
 * and default plugins turned off. See docs/tools/opencode.md and docs/tools/kilo.md.
 *
 * `<tool> run <words…>` makes a session (the CLI quotes an argument that holds a space, so a
 * prompt goes as separate words); `<tool> -s <id> run <words…>` continues one.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { runCli, startCli, type CliResult, type RunningCli } from '../harness/cli.js';
import { serveOpenAIStyle, type MockServer, type OpenAIRequest } from './mock-openai.js';

const require = createRequire(import.meta.url);

export interface CliFlavor {
  readonly name: 'opencode' | 'kilo';
  /** The package whose bin runs it. */
  readonly pkg: string;
  readonly binPath: string;
  /** Its config file under HOME. */
  readonly config: string;
  /** Its database under HOME. */
  readonly db: string;
}

export const OPENCODE_CLI: CliFlavor = { name: 'opencode', pkg: 'opencode-ai', binPath: 'bin/opencode.exe', config: '.config/opencode/opencode.json', db: '.local/share/opencode/opencode.db' };
export const KILO_CLI: CliFlavor = { name: 'kilo', pkg: '@kilocode/cli', binPath: 'bin/kilo', config: '.config/kilo/kilo.json', db: '.local/share/kilo/kilo.db' };

/** The CLI's executable (the npm package's bin). */
export function cliBin(f: CliFlavor): string {
  return join(dirname(require.resolve(`${f.pkg}/package.json`)), f.binPath);
}

/** Writes the HOME's config: the mock as the only provider, its one model the default. */
export function writeConfig(f: CliFlavor, home: string, baseUrl: string): void {
  const file = join(home, f.config);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({
    provider: { mock: { npm: '@ai-sdk/openai-compatible', name: 'Mock', options: { baseURL: baseUrl, apiKey: 'sk-dummy-roam-test' }, models: { 'mock-model': { name: 'Mock' } } } },
    model: 'mock/mock-model',
    // Kilo CLI also loads its own providers (models fetched over the network) unless told not to.
    enabled_providers: ['mock'],
    small_model: 'mock/mock-model',
    autoupdate: false,
    share: 'disabled',
  }));
}

/** The environment to run the CLI with: nothing inherited but PATH, LANG, TZ, USER. */
export function cliEnv(home: string, extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: process.env.LANG ?? 'C.UTF-8',
    TZ: process.env.TZ,
    USER: process.env.USER ?? 'roam',
    HOME: home,
    OPENCODE_DISABLE_MODELS_FETCH: '1',
    OPENCODE_DISABLE_AUTOUPDATE: '1',
    OPENCODE_DISABLE_DEFAULT_PLUGINS: '1',
    OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
    KILO_DISABLE_MODELS_FETCH: '1',
    KILO_DISABLE_AUTOUPDATE: '1',
    KILO_DISABLE_DEFAULT_PLUGINS: '1',
    KILO_DISABLE_CODEBASE_INDEXING: '1',
    KILO_DISABLE_SESSION_INGEST: '1',
    KILO_TELEMETRY_LEVEL: 'off',
    NO_PROXY: '127.0.0.1,localhost',
    NO_COLOR: '1',
    ...extra,
  };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

export function runTool(f: CliFlavor, args: string[], opts: { cwd: string; home: string; env?: Record<string, string>; timeoutMs?: number }): Promise<CliResult> {
  return runCli(cliBin(f), args, { cwd: opts.cwd, env: { ...cliEnv(opts.home), ...opts.env }, timeoutMs: opts.timeoutMs ?? 90_000, group: true });
}

/** The same, returning at once (a run the test holds open). */
export function startTool(f: CliFlavor, args: string[], opts: { cwd: string; home: string; timeoutMs?: number }): RunningCli {
  return startCli(cliBin(f), args, { cwd: opts.cwd, env: cliEnv(opts.home), timeoutMs: opts.timeoutMs ?? 90_000, group: true });
}

/** `run` with a prompt as words. */
export function runArgs(prompt: string): string[] {
  return ['run', ...prompt.split(' ')];
}

export interface ChatMockOptions {
  readonly text?: string;
  /** Answered only once this settles (a request whose conversation this returns a promise for). */
  readonly hold?: (req: OpenAIRequest) => Promise<void> | undefined;
}

let counter = 0;

function answer(res: ServerResponse, req: OpenAIRequest, text: string): void {
  const id = `chatcmpl-oc${++counter}`;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): void => {
    res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: req.body?.model ?? 'mock-model', choices, ...extra })}\n\n`);
  };
  chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]);
  chunk([{ index: 0, delta: { content: text }, finish_reason: null }]);
  chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]);
  chunk([], { usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } });
  res.end('data: [DONE]\n\n');
}

/** A Chat Completions mock (`POST /v1/chat/completions`, streamed) that may hold an answer. */
export function startChatMock(options: ChatMockOptions = {}): Promise<MockServer> {
  return serveOpenAIStyle('mock-chat', '/v1/chat/completions', (res, req) => {
    const held = options.hold?.(req);
    const text = options.text ?? 'Mock answer.';
    if (held) void held.then(() => answer(res, req, text));
    else answer(res, req, text);
  });
}

/** Whether a request is the tool's title generation (not the conversation). */
function isTitle(req: OpenAIRequest): boolean {
  const sys = (req.body?.messages as Array<{ role: string; content: unknown }> | undefined)?.find((m) => m.role === 'system');
  return JSON.stringify(sys?.content ?? '').includes('title generator');
}

/** The conversation requests (title generation left out). */
export function conversationRequests(requests: readonly OpenAIRequest[]): OpenAIRequest[] {
  return requests.filter((r) => r.method === 'POST' && r.path === '/v1/chat/completions' && r.body !== undefined && !isTitle(r));
}

/** [role, text] of a request's user and assistant messages (the tool's own environment block left out). */
export function conversation(req: OpenAIRequest): Array<[string, string]> {
  return (req.body.messages as Array<{ role: string; content: unknown }>)
    .filter((m) => m.role === 'user' || m.role === 'assistant')
    .map((m): [string, string] => {
      const c = m.content;
      const text = typeof c === 'string' ? c : Array.isArray(c) ? c.map((p: { text?: unknown }) => (typeof p.text === 'string' ? p.text : '')).join('\n') : '';
      // Kilo CLI adds an <environment_details> block (time, directory) to the newest user message.
      return [m.role, text.replace(/\s*<environment_details>[\s\S]*?<\/environment_details>\s*/g, '')];
    })
    .filter(([, t]) => t !== '');
}
