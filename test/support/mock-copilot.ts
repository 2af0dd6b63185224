/**
 * A local stand-in for an OpenAI-compatible Chat Completions endpoint, good enough for the real
 * Copilot CLI (`@github/copilot` 1.0.102) in its BYOK mode: `COPILOT_PROVIDER_BASE_URL` set to this
 * mock's base URL (`copilotEnv` in test/support/copilot.ts, with COPILOT_OFFLINE=true so the CLI
 * skips GitHub authentication, telemetry and updates; `copilot help providers`, docs/COPILOT.md).
 * With the default `COPILOT_PROVIDER_WIRE_API=completions` the CLI posts to `<base>/chat/completions`
 * with `stream: true` and `stream_options.include_usage`.
 *
 * It records every request and answers:
 * - `POST /v1/chat/completions`: server-sent `chat.completion.chunk`s: the assistant's text (the
 *   fixed text, or whatever `reply` returns), or, when `reply` returns `{toolCall}`, one tool call
 *   (finish_reason `tool_calls`); then a usage chunk and `[DONE]`;
 * - `GET /v1/models`: a one-model list;
 * - anything else: logged and answered 404 with an OpenAI-style error body.
 */
import type { ServerResponse } from 'node:http';
import { serveOpenAIStyle, type MockServer, type OpenAIRequest } from './mock-openai.js';

/** A request the mock saw (the same record as the Responses API mock's). */
export type CopilotRequest = OpenAIRequest;

/** What to answer: a text, or one call of a tool (arguments as an object). */
export type CopilotReply = string | { readonly text?: string; readonly toolCall: { readonly name: string; readonly arguments: Record<string, unknown> } };

export interface MockCopilotOptions {
  /** The assistant's text in every answer, unless `reply` returns one (default DEFAULT_COPILOT_TEXT). */
  readonly text?: string;
  readonly reply?: (req: CopilotRequest, requests: readonly CopilotRequest[]) => CopilotReply | undefined;
  /** Logs unknown endpoints here (default: console.error). */
  readonly log?: (line: string) => void;
}

/** baseUrl is COPILOT_PROVIDER_BASE_URL. */
export type MockCopilot = MockServer;

export const DEFAULT_COPILOT_TEXT = 'Mock reply from the local chat-completions stand-in.';

let counter = 0;

function answerChat(res: ServerResponse, req: CopilotRequest, reply: CopilotReply): void {
  const n = ++counter;
  const id = `chatcmpl-mock${n}`;
  const model = typeof req.body?.model === 'string' ? req.body.model : 'gpt-mock';
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-request-id': `req_mock${n}` });
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): void => {
    res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model, choices, ...extra })}\n\n`);
  };
  const text = typeof reply === 'string' ? reply : (reply.text ?? '');
  if (typeof reply === 'string') {
    chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]);
    chunk([{ index: 0, delta: { content: text }, finish_reason: null }]);
    chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]);
  } else {
    const call = { index: 0, id: `call_mock${n}`, type: 'function', function: { name: reply.toolCall.name, arguments: JSON.stringify(reply.toolCall.arguments) } };
    chunk([{ index: 0, delta: { role: 'assistant', content: text, tool_calls: [call] }, finish_reason: null }]);
    chunk([{ index: 0, delta: {}, finish_reason: 'tool_calls' }]);
  }
  const prompt = Math.max(1, Math.ceil(req.rawBody.length / 4));
  const completion = Math.max(1, Math.ceil(text.length / 4));
  chunk([], { usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion } });
  res.end('data: [DONE]\n\n');
}

export function startMockCopilot(options: MockCopilotOptions = {}): Promise<MockCopilot> {
  return serveOpenAIStyle('mock-copilot', '/v1/chat/completions', (res, rec, requests) => answerChat(res, rec, options.reply?.(rec, requests) ?? options.text ?? DEFAULT_COPILOT_TEXT), options.log);
}

/** The `POST /v1/chat/completions` requests. */
export function chatRequests(requests: readonly CopilotRequest[]): CopilotRequest[] {
  return requests.filter((r) => r.method === 'POST' && r.path === '/v1/chat/completions' && r.body !== undefined);
}

/** The `<current_datetime>…</current_datetime>` line the CLI puts before each prompt it sends. */
const DATETIME = /^<current_datetime>[^<]*<\/current_datetime>\s*/;

/** The conversation a request sends: [role, text] of its user and assistant messages (system and tool messages left out; the CLI's datetime prefix removed). */
export function chatMessages(req: CopilotRequest): Array<[string, string]> {
  const messages = Array.isArray(req.body?.messages) ? (req.body.messages as Array<Record<string, unknown>>) : [];
  return messages
    .filter((m) => m.role === 'user' || m.role === 'assistant')
    .map((m) => {
      const c = m.content;
      const text = typeof c === 'string' ? c : Array.isArray(c) ? c.map((p: { text?: unknown }) => (typeof p.text === 'string' ? p.text : '')).join('\n') : '';
      return [String(m.role), text.replace(DATETIME, '')];
    });
}

/** The tool calls and tool outputs a request sends: ['call', name, arguments] and ['tool', call id, content]. */
export function chatTools(req: CopilotRequest): Array<[string, string, string]> {
  const out: Array<[string, string, string]> = [];
  for (const m of (req.body?.messages ?? []) as Array<Record<string, any>>) {
    if (m.role === 'assistant' && Array.isArray(m.tool_calls)) for (const c of m.tool_calls) out.push(['call', String(c.function?.name), String(c.function?.arguments)]);
    if (m.role === 'tool') out.push(['tool', String(m.tool_call_id), typeof m.content === 'string' ? m.content : JSON.stringify(m.content)]);
  }
  return out;
}
