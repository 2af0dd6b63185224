/**
 * A local stand-in for the Gemini API (generativelanguage `v1beta`), good enough for the real Gemini
 * CLI (`@google/gemini-cli`, pinned in the root package.json) pointed at it with
 * `GOOGLE_GEMINI_BASE_URL` and `GEMINI_API_KEY` (test/support/gemini.ts; docs/GEMINI.md).
 *
 * It records every request and answers:
 * - `POST /v1beta/models/<m>:streamGenerateContent?alt=sse`: server-sent events, one `data:` chunk
 *   holding the model's turn (the fixed text, or what `reply` returns: a text or a function call)
 *   with `finishReason: STOP` and usage;
 * - `POST /v1beta/models/<m>:generateContent`: the same as one JSON body (the CLI's side calls);
 * - `POST /v1beta/models/<m>:countTokens`: a token estimate;
 * - anything else: logged and answered 404 with a Google-style error body.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface GeminiRequest {
  readonly method: string;
  /** Path without the query string, e.g. `/v1beta/models/gemini-2.5-pro:streamGenerateContent`. */
  readonly path: string;
  readonly query: string;
  readonly headers: IncomingHttpHeaders;
  /** The parsed JSON body, or undefined. */
  readonly body: any;
  readonly rawBody: string;
  readonly at: number;
}

/** What the model answers: a text, or a function call (a tool the CLI runs, then calls again). */
export type GeminiReply = string | { readonly functionCall: { readonly name: string; readonly args: Record<string, unknown> }; readonly text?: string };

export interface MockGeminiOptions {
  /** The model's text in every answer, unless `reply` returns one (default DEFAULT_GEMINI_TEXT). */
  readonly text?: string;
  readonly reply?: (req: GeminiRequest, requests: readonly GeminiRequest[]) => GeminiReply | undefined;
  /** Logs unknown endpoints here (default: console.error). */
  readonly log?: (line: string) => void;
}

export interface MockGemini {
  /** `http://127.0.0.1:<port>`: GOOGLE_GEMINI_BASE_URL. */
  readonly baseUrl: string;
  readonly requests: GeminiRequest[];
  readonly unknown: GeminiRequest[];
  close(): Promise<void>;
}

export const DEFAULT_GEMINI_TEXT = 'Mock reply from the local Gemini stand-in.';

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const data = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

function candidateOf(reply: GeminiReply, model: string, req: GeminiRequest): Record<string, unknown> {
  const parts: Array<Record<string, unknown>> = [];
  if (typeof reply === 'string') parts.push({ text: reply });
  else {
    if (reply.text) parts.push({ text: reply.text });
    parts.push({ functionCall: { name: reply.functionCall.name, args: reply.functionCall.args } });
  }
  const promptTokens = Math.max(1, Math.ceil(req.rawBody.length / 4));
  const outTokens = Math.max(1, Math.ceil(JSON.stringify(parts).length / 4));
  return {
    candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }],
    usageMetadata: { promptTokenCount: promptTokens, candidatesTokenCount: outTokens, totalTokenCount: promptTokens + outTokens },
    modelVersion: model,
    responseId: `mock-${Date.now().toString(36)}`,
  };
}

export async function startMockGemini(options: MockGeminiOptions = {}): Promise<MockGemini> {
  const requests: GeminiRequest[] = [];
  const unknown: GeminiRequest[] = [];
  const log = options.log ?? ((line: string) => console.error(line));
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let raw = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') {
        try {
          raw = gunzipSync(raw);
        } catch (err) {
          log(`mock-gemini: cannot gunzip a body: ${String(err)}`);
        }
      }
      const rawBody = raw.toString('utf8');
      let body: any;
      try {
        body = rawBody ? JSON.parse(rawBody) : undefined;
      } catch {
        body = undefined;
      }
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const path = q < 0 ? url : url.slice(0, q);
      const rec: GeminiRequest = { method: req.method ?? 'GET', path, query: q < 0 ? '' : url.slice(q + 1), headers: req.headers, body, rawBody, at: Date.now() };
      requests.push(rec);
      const m = /^\/v1(?:beta|alpha)?\/models\/([^:/]+):(streamGenerateContent|generateContent|countTokens)$/.exec(path);
      if (rec.method === 'POST' && m) {
        const model = decodeURIComponent(m[1]!);
        if (m[2] === 'countTokens') {
          sendJson(res, 200, { totalTokens: Math.max(1, Math.ceil(rawBody.length / 4)) });
          return;
        }
        const reply = options.reply?.(rec, requests) ?? options.text ?? DEFAULT_GEMINI_TEXT;
        const chunk = candidateOf(reply, model, rec);
        if (m[2] === 'generateContent') {
          sendJson(res, 200, chunk);
          return;
        }
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        res.write(`data: ${JSON.stringify(chunk)}\r\n\r\n`);
        res.end();
        return;
      }
      unknown.push(rec);
      log(`mock-gemini: unknown endpoint ${rec.method} ${url}`);
      sendJson(res, 404, { error: { code: 404, message: `mock: no ${rec.method} ${path}`, status: 'NOT_FOUND' } });
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
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    unknown,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The main conversation's requests: `streamGenerateContent` (the CLI's side calls use generateContent). */
export function streamRequests(requests: readonly GeminiRequest[]): GeminiRequest[] {
  return requests.filter((r) => r.method === 'POST' && r.path.endsWith(':streamGenerateContent') && r.body !== undefined);
}

/** The conversation a request sends: [role, text] of each content's text parts (contents without text left out). */
export function contentTexts(req: GeminiRequest): Array<[string, string]> {
  const contents = Array.isArray(req.body?.contents) ? (req.body.contents as Array<{ role?: unknown; parts?: unknown }>) : [];
  const out: Array<[string, string]> = [];
  for (const c of contents) {
    const parts = Array.isArray(c.parts) ? (c.parts as Array<{ text?: unknown; thought?: unknown }>) : [];
    const text = parts.filter((p) => typeof p.text === 'string' && p.thought !== true).map((p) => p.text as string).join('');
    if (text) out.push([String(c.role), text]);
  }
  return out;
}
