/**
 * A local stand-in for the OpenAI Responses API, good enough for the real Codex CLI
 * (`@openai/codex`, pinned in the root package.json) configured with a custom model provider whose
 * `base_url` is this mock (`writeCodexConfig` in test/support/codex.ts; Codex ignores
 * OPENAI_BASE_URL for its built-in provider). See docs/CODEX.md.
 *
 * It records every request and answers:
 * - `POST /v1/responses` (`stream: true`): server-sent events `response.created`,
 *   `response.output_item.done` (one assistant message), `response.completed` (with usage): the
 *   fixed text, or whatever `reply` returns;
 * - `GET /v1/models`: a one-model list;
 * - anything else: logged and answered 404 with an OpenAI-style error body.
 * Request bodies sent compressed (gzip, deflate, br) are decompressed before they are parsed.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';

export interface OpenAIRequest {
  readonly method: string;
  /** Path without the query string, e.g. `/v1/responses`. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The parsed JSON body, or undefined. */
  readonly body: any;
  readonly rawBody: string;
  readonly at: number;
}

export interface MockOpenAIOptions {
  /** The assistant's text in every answer, unless `reply` returns one (default DEFAULT_OPENAI_TEXT). */
  readonly text?: string;
  readonly reply?: (req: OpenAIRequest, requests: readonly OpenAIRequest[]) => string | undefined;
  /** Logs unknown endpoints here (default: console.error). */
  readonly log?: (line: string) => void;
}

/** baseUrl is the provider's base_url. */
export type MockOpenAI = MockServer;

export const DEFAULT_OPENAI_TEXT = 'Mock reply from the local OpenAI stand-in.';

function decode(raw: Buffer, encoding: string | undefined): Buffer {
  switch (encoding) {
    case 'gzip':
      return gunzipSync(raw);
    case 'deflate':
      return inflateSync(raw);
    case 'br':
      return brotliDecompressSync(raw);
    default:
      return raw;
  }
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const data = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

let counter = 0;

function answerResponses(res: ServerResponse, req: OpenAIRequest, text: string): void {
  const n = ++counter;
  const id = `resp_mock${n}`;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-request-id': `req_mock${n}` });
  const event = (type: string, data: Record<string, unknown>): void => {
    res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  };
  const model = typeof req.body?.model === 'string' ? req.body.model : 'gpt-mock';
  const inputTokens = Math.max(1, Math.ceil(req.rawBody.length / 4));
  const outputTokens = Math.max(1, Math.ceil(text.length / 4));
  event('response.created', { response: { id, object: 'response', model, status: 'in_progress' } });
  event('response.output_item.done', { output_index: 0, item: { type: 'message', id: `msg_mock${n}`, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text, annotations: [] }] } });
  event('response.completed', {
    response: { id, object: 'response', model, status: 'completed', usage: { input_tokens: inputTokens, input_tokens_details: { cached_tokens: 0 }, output_tokens: outputTokens, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: inputTokens + outputTokens } },
  });
  res.end();
}

/** A mock server of an OpenAI-style API: what it answers, and the requests it saw. */
export interface MockServer {
  /** `http://127.0.0.1:<port>/v1`. */
  readonly baseUrl: string;
  readonly requests: OpenAIRequest[];
  readonly unknown: OpenAIRequest[];
  close(): Promise<void>;
}

/**
 * An OpenAI-style mock on 127.0.0.1: records every request (body decoded and parsed), answers
 * `POST <endpoint>` with `answer`, `GET /v1/models` with a one-model list, and anything else with a
 * logged 404. Shared by this mock (Responses API) and mock-copilot.ts (Chat Completions).
 */
export async function serveOpenAIStyle(name: string, endpoint: string, answer: (res: ServerResponse, req: OpenAIRequest, requests: readonly OpenAIRequest[]) => void, log: (line: string) => void = (line) => console.error(line)): Promise<MockServer> {
  const requests: OpenAIRequest[] = [];
  const unknown: OpenAIRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let rawBody = '';
      try {
        rawBody = decode(Buffer.concat(chunks), req.headers['content-encoding'] as string | undefined).toString('utf8');
      } catch (err) {
        log(`${name}: cannot decode a ${String(req.headers['content-encoding'])} body: ${String(err)}`);
      }
      let body: any;
      try {
        body = rawBody ? JSON.parse(rawBody) : undefined;
      } catch {
        body = undefined;
      }
      const url = req.url ?? '/';
      const path = url.split('?')[0] ?? url;
      const rec: OpenAIRequest = { method: req.method ?? 'GET', path, headers: req.headers, body, rawBody, at: Date.now() };
      requests.push(rec);
      if (rec.method === 'POST' && path === endpoint) {
        answer(res, rec, requests);
      } else if (rec.method === 'GET' && path === '/v1/models') {
        sendJson(res, 200, { object: 'list', data: [{ id: 'gpt-mock', object: 'model', created: 0, owned_by: 'mock' }] });
      } else {
        unknown.push(rec);
        log(`${name}: unknown endpoint ${rec.method} ${url}`);
        sendJson(res, 404, { error: { message: `mock: no ${rec.method} ${path}`, type: 'invalid_request_error' } });
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
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    unknown,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export function startMockOpenAI(options: MockOpenAIOptions = {}): Promise<MockOpenAI> {
  return serveOpenAIStyle('mock-openai', '/v1/responses', (res, rec, requests) => answerResponses(res, rec, options.reply?.(rec, requests) ?? options.text ?? DEFAULT_OPENAI_TEXT), options.log);
}

/** The `POST /v1/responses` requests. */
export function responsesRequests(requests: readonly OpenAIRequest[]): OpenAIRequest[] {
  return requests.filter((r) => r.method === 'POST' && r.path === '/v1/responses' && r.body !== undefined);
}

/** The conversation a request sends: [role, text] of each `message` item of its input (developer items left out). */
export function inputMessages(req: OpenAIRequest): Array<[string, string]> {
  const input = Array.isArray(req.body?.input) ? (req.body.input as Array<Record<string, unknown>>) : [];
  return input
    .filter((i) => i.type === 'message' && i.role !== 'developer' && i.role !== 'system')
    .map((i) => {
      const c = i.content;
      const text = typeof c === 'string' ? c : Array.isArray(c) ? c.map((p: { text?: unknown }) => (typeof p.text === 'string' ? p.text : '')).join('\n') : '';
      return [String(i.role), text];
    });
}
