/**
 * A local stand-in for the Anthropic messages API, good enough for the real Claude Code CLI
 * (`@anthropic-ai/claude-code`) to run against it with `ANTHROPIC_BASE_URL=<url>`.
 *
 * It records every request (method, path, headers, parsed JSON body) and answers:
 * - `POST /v1/messages` (the CLI sends `?beta=true`): streaming (SSE: message_start,
 *   content_block_start, content_block_delta, content_block_stop, message_delta, message_stop) or
 *   not, with a fixed short assistant text, or whatever `reply` decides (text and/or tool_use
 *   blocks);
 * - `POST /v1/messages/count_tokens`: a rough token count;
 * - `GET /v1/models…`: a one-model list;
 * - anything else: logged to stderr and answered 404 with an Anthropic-style error body.
 *
 * The CLI also makes auxiliary model calls (session title generation and the like);
 * `conversationRequests()` keeps only the main-loop ones. See docs/CLAUDE-CODE.md.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  /** Path without the query string, e.g. `/v1/messages`. */
  readonly path: string;
  /** The raw request target, e.g. `/v1/messages?beta=true`. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** The parsed JSON body, `undefined` if there was none or it was not JSON. */
  readonly body: any;
  /** The raw body text. */
  readonly rawBody: string;
  /** Milliseconds since the epoch when the request body was complete. */
  readonly at: number;
}

export interface ToolUseReply {
  readonly type: 'tool_use';
  readonly name: string;
  readonly input: Record<string, unknown>;
  /** Defaults to a fresh `toolu_mock…` id. */
  readonly id?: string;
}
export interface TextReply {
  readonly type: 'text';
  readonly text: string;
}
export type ReplyBlock = TextReply | ToolUseReply;

/** What `/v1/messages` answers: a plain text, or content blocks (stop_reason tool_use if any is one). */
export type MockReply = string | readonly ReplyBlock[];

export interface MockAnthropicOptions {
  /** The assistant text for every /v1/messages answer unless `reply` says otherwise. */
  readonly text?: string;
  /**
   * Decides the answer to one /v1/messages request (already recorded in `requests`). Return
   * `undefined` for the default text.
   */
  readonly reply?: (req: RecordedRequest, requests: readonly RecordedRequest[]) => MockReply | undefined;
  /**
   * Holds each /v1/messages answer back this long (ms), e.g. to observe the CLI while a turn is
   * in flight. A function gets the request (already recorded).
   */
  readonly delayMs?: number | ((req: RecordedRequest) => number);
  /**
   * Holds a /v1/messages answer until the returned promise settles (after `delayMs`), e.g. to
   * inspect the CLI mid-turn and then let it finish. Return `undefined` not to hold.
   */
  readonly hold?: (req: RecordedRequest) => Promise<unknown> | undefined;
  /** Logs unknown endpoints here (default: console.error). */
  readonly log?: (line: string) => void;
}

export interface MockAnthropic {
  /** `http://127.0.0.1:<port>`, for ANTHROPIC_BASE_URL. */
  readonly url: string;
  /** Every request received, in arrival order. */
  readonly requests: RecordedRequest[];
  /** Requests to endpoints the mock does not know. */
  readonly unknown: RecordedRequest[];
  close(): Promise<void>;
}

export const DEFAULT_MOCK_TEXT = 'Mock reply from the local Anthropic stand-in.';

let idCounter = 0;
function nextId(prefix: string): string {
  idCounter += 1;
  return `${prefix}${Date.now().toString(36)}${idCounter.toString(36).padStart(6, '0')}`;
}

function estimateTokens(body: unknown): number {
  return Math.max(1, Math.ceil(JSON.stringify(body ?? '').length / 4));
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const data = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(data),
    'request-id': nextId('req_mock'),
  });
  res.end(data);
}

function toBlocks(reply: MockReply): ReplyBlock[] {
  return typeof reply === 'string' ? [{ type: 'text', text: reply }] : [...reply];
}

function contentOf(blocks: readonly ReplyBlock[]): Array<Record<string, unknown>> {
  return blocks.map((b) =>
    b.type === 'text'
      ? { type: 'text', text: b.text }
      : { type: 'tool_use', id: b.id ?? nextId('toolu_mock'), name: b.name, input: b.input },
  );
}

/** A value that satisfies a (simple) JSON schema: required properties get placeholder values. */
function sampleForSchema(schema: any, text: string): unknown {
  if (!schema || typeof schema !== 'object') return text;
  switch (schema.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const props = (schema.properties ?? {}) as Record<string, unknown>;
      const required: string[] = Array.isArray(schema.required) ? schema.required : Object.keys(props);
      for (const k of required) out[k] = sampleForSchema(props[k], text);
      return out;
    }
    case 'array':
      return [];
    case 'number':
    case 'integer':
      return 0;
    case 'boolean':
      return false;
    case 'null':
      return null;
    default:
      return Array.isArray(schema.enum) && schema.enum.length > 0 ? schema.enum[0] : text;
  }
}

function answerMessages(req: RecordedRequest, res: ServerResponse, reply: MockReply): void {
  const body = req.body ?? {};
  const model: string = typeof body.model === 'string' ? body.model : 'claude-mock';
  const content = contentOf(toBlocks(reply));
  const stopReason = content.some((c) => c.type === 'tool_use') ? 'tool_use' : 'end_turn';
  const inputTokens = estimateTokens(body.messages);
  const outputTokens = estimateTokens(content);
  const usage = {
    input_tokens: inputTokens,
    output_tokens: outputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
  };
  const id = nextId('msg_mock');

  if (body.stream !== true) {
    sendJson(res, 200, {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content,
      stop_reason: stopReason,
      stop_sequence: null,
      usage,
    });
    return;
  }

  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'request-id': nextId('req_mock'),
  });
  const event = (type: string, data: Record<string, unknown>): void => {
    res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  };
  event('message_start', {
    message: {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...usage, output_tokens: 1 },
    },
  });
  content.forEach((block, index) => {
    if (block.type === 'text') {
      event('content_block_start', { index, content_block: { type: 'text', text: '' } });
      event('content_block_delta', { index, delta: { type: 'text_delta', text: block.text } });
    } else {
      event('content_block_start', {
        index,
        content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
      });
      event('content_block_delta', {
        index,
        delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) },
      });
    }
    event('content_block_stop', { index });
  });
  event('message_delta', {
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: outputTokens },
  });
  event('message_stop', {});
  res.end();
}

export async function startMockAnthropic(options: MockAnthropicOptions = {}): Promise<MockAnthropic> {
  const requests: RecordedRequest[] = [];
  const unknown: RecordedRequest[] = [];
  const log = options.log ?? ((line: string) => console.error(line));
  const text = options.text ?? DEFAULT_MOCK_TEXT;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let body: any;
      if (rawBody.length > 0) {
        try {
          body = JSON.parse(rawBody);
        } catch {
          body = undefined;
        }
      }
      const url = req.url ?? '/';
      const path = url.split('?')[0] ?? url;
      const rec: RecordedRequest = {
        method: req.method ?? 'GET',
        path,
        url,
        headers: req.headers,
        body,
        rawBody,
        at: Date.now(),
      };
      requests.push(rec);
      try {
        if (rec.method === 'POST' && path === '/v1/messages') {
          // Helper calls (session title, /rename…) ask for JSON through output_config.format.
          const format = body?.output_config?.format;
          const fallback =
            format?.type === 'json_schema' ? JSON.stringify(sampleForSchema(format.schema, text)) : text;
          const reply = options.reply?.(rec, requests) ?? fallback;
          const delay = typeof options.delayMs === 'function' ? options.delayMs(rec) : (options.delayMs ?? 0);
          const gate = options.hold?.(rec);
          const answer = (): void => {
            if (!res.destroyed) answerMessages(rec, res, reply);
          };
          const afterDelay = (): void => {
            if (gate) gate.then(answer, answer);
            else answer();
          };
          if (delay > 0) {
            const t = setTimeout(afterDelay, delay);
            res.on('close', () => clearTimeout(t));
          } else {
            afterDelay();
          }
        } else if (rec.method === 'POST' && path === '/v1/messages/count_tokens') {
          sendJson(res, 200, { input_tokens: estimateTokens(body) });
        } else if (rec.method === 'GET' && (path === '/v1/models' || path.startsWith('/v1/models/'))) {
          const model = {
            type: 'model',
            id: path.startsWith('/v1/models/') ? decodeURIComponent(path.slice('/v1/models/'.length)) : 'claude-mock',
            display_name: 'Mock model',
            created_at: '2025-01-01T00:00:00Z',
          };
          if (path === '/v1/models') sendJson(res, 200, { data: [model], has_more: false, first_id: model.id, last_id: model.id });
          else sendJson(res, 200, model);
        } else if (rec.method === 'HEAD' || (rec.method === 'GET' && path === '/')) {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end(rec.method === 'HEAD' ? undefined : 'ok');
        } else {
          unknown.push(rec);
          log(`mock-anthropic: unknown endpoint ${rec.method} ${url}`);
          sendJson(res, 404, { type: 'error', error: { type: 'not_found_error', message: `mock: no ${rec.method} ${path}` } });
        }
      } catch (err) {
        log(`mock-anthropic: error answering ${rec.method} ${url}: ${String(err)}`);
        if (!res.headersSent) sendJson(res, 500, { type: 'error', error: { type: 'api_error', message: String(err) } });
        else res.end();
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    unknown,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** All POST /v1/messages requests (main loop and auxiliary). */
export function messageRequests(requests: readonly RecordedRequest[]): RecordedRequest[] {
  return requests.filter((r) => r.method === 'POST' && r.path === '/v1/messages' && r.body !== undefined);
}

/**
 * Only the main conversation-loop /v1/messages requests: those that carry the tool definitions
 * (the agent's tools). The CLI's auxiliary calls (session title generation, etc.) send no tools.
 * See docs/CLAUDE-CODE.md for how this was established.
 */
export function conversationRequests(requests: readonly RecordedRequest[]): RecordedRequest[] {
  return messageRequests(requests).filter((r) => Array.isArray(r.body.tools) && r.body.tools.length > 0);
}

/** The text of one API message's content (string or blocks), text blocks only, joined by "\n". */
export function messageText(message: { content: unknown }): string {
  const c = message.content;
  if (typeof c === 'string') return c;
  if (!Array.isArray(c)) return '';
  return c
    .filter((b: any) => b && b.type === 'text' && typeof b.text === 'string')
    .map((b: any) => b.text as string)
    .join('\n');
}

/** The user's and the model's texts Claude Code sent, without its system turns and reminders. */
export function claudeConversation(req: RecordedRequest): Array<[string, string]> {
  return (req.body.messages as Array<{ role: string; content: unknown }>)
    .filter((m) => m.role === 'user' || m.role === 'assistant')
    .map((m): [string, string] => {
      const c = m.content;
      const blocks = typeof c === 'string' ? [{ type: 'text', text: c }] : (c as Array<{ type: string; text?: string }>);
      return [m.role, blocks.filter((b) => b.type === 'text' && !b.text!.startsWith('<system-reminder>')).map((b) => b.text!.trim()).join('\n')];
    })
    .filter(([, text]) => text !== '');
}

/**
 * A `reply` for a Claude Code run asked to "…then check it": its first main-loop turn answers a
 * text and a Bash call (`echo zebracorn-ok`); after the call's output, a text; any other request,
 * the default text.
 */
export function bashCheckReply(req: RecordedRequest): MockReply | undefined {
  if (!(Array.isArray(req.body?.tools) && req.body.tools.length)) return undefined;
  const msgs = req.body.messages as Array<{ role: string; content: unknown }>;
  const last = msgs[msgs.length - 1]!;
  const hasResult = Array.isArray(last.content) && last.content.some((b: { type?: string }) => b.type === 'tool_result');
  if (hasResult) return 'The check printed zebracorn-ok.';
  if (!msgs.some((m) => m.role === 'assistant') && JSON.stringify(msgs).includes('then check it')) {
    return [{ type: 'text', text: 'Let me check.' }, { type: 'tool_use', name: 'Bash', input: { command: 'echo zebracorn-ok', description: 'check' } }];
  }
  return undefined;
}

/**
 * The first tool call Claude Code sent in `req`'s conversation: the first assistant message's
 * tool_use block, and the tool_result block of the message that follows it.
 */
export function firstToolCall(req: RecordedRequest): { use: Record<string, any>; result: Record<string, any> | undefined } {
  const msgs = req.body.messages as Array<{ role: string; content: Array<Record<string, any>> }>;
  const useAt = msgs.findIndex((m) => m.role === 'assistant' && Array.isArray(m.content) && m.content.some((b) => b.type === 'tool_use'));
  const use = msgs[useAt]!.content.find((b) => b.type === 'tool_use')!;
  return { use, result: msgs[useAt + 1]!.content.find((b) => b.type === 'tool_result') };
}
