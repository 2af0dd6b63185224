/**
 * The Cline CLI's session files (`cline` 3.0.65 on npm, docs/tools/cline.md, "The Cline CLI"):
 * `~/.cline/data/sessions/<id>/<id>.json` (metadata: `session_id`, `cwd`, `prompt`, `started_at`,
 * `ended_at`, `status`, `metadata.title`, …) beside `<id>.messages.json`, `{version: 1, updated_at,
 * agent, sessionId, messages: [{id, role, content: [blocks], ts}], system_prompt}`, the
 * conversation in Anthropic's block shapes, each user text wrapped as `<user_input mode="act">…
 * </user_input>`. Both are rewritten whole on every turn. A session id is `<Date.now()>_<5 of
 * [0-9a-z]>`.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseTask, type TaskMessage } from '../common/tasks.js';

/** A session id as the CLI makes them (`1796701859037_8u7y9`). */
export const CLINE_CLI_ID = /^[0-9]{10,16}_[0-9a-z]{3,12}$/;

/** `~/.cline`, the CLI's own directory (its `CLINE_DIR`/`CLINE_DATA_DIR` overrides are not read: not measured). */
export function clineCliHome(env: NodeJS.ProcessEnv): string {
  return join(env.HOME || homedir(), '.cline');
}

/** Where the sessions are: `~/.cline/data/sessions`. */
export function clineCliSessions(env: NodeJS.ProcessEnv): string {
  return join(clineCliHome(env), 'data', 'sessions');
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const USER_INPUT = /^\s*<user_input(?:\s+mode="[^"]*")?>\n?([\s\S]*?)\n?<\/user_input>\s*$/;

/** A user text as typed: the `<user_input>` wrapper taken off. */
export function unwrapUserInput(text: string): string {
  const m = USER_INPUT.exec(text);
  return m ? m[1]! : text;
}

/** The text as the CLI stores a user's input. */
export function wrapUserInput(text: string): string {
  return `<user_input mode="act">${text}</user_input>`;
}

/**
 * The messages of a `<id>.messages.json` text, as the api-history array tasks.ts reads (user
 * texts unwrapped, `ts` kept), or null when it is not one.
 */
export function clineCliMessages(text: string): unknown[] | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObj(v) || !Array.isArray(v.messages)) return null;
  return v.messages.filter(isObj).map((m) => {
    if (m.role !== 'user' || !Array.isArray(m.content)) return m;
    return { ...m, content: m.content.map((b: unknown) => (isObj(b) && b.type === 'text' && typeof b.text === 'string' ? { ...b, text: unwrapUserInput(b.text) } : b)) };
  });
}

/** The messages parsed (tasks.ts's shape), or null. */
export function parseClineCli(text: string): TaskMessage[] | null {
  const msgs = clineCliMessages(text);
  return msgs ? parseTask(JSON.stringify(msgs)) : null;
}

/** What the metadata file says (fields absent when it is missing or not one). */
export interface ClineCliMeta {
  readonly cwd: string | null;
  readonly title: string | null;
  readonly startedAt: string | null;
}

export function parseClineCliMeta(text: string | null): ClineCliMeta {
  let v: unknown = null;
  try {
    v = text === null ? null : JSON.parse(text);
  } catch {
    v = null;
  }
  const o = isObj(v) ? v : {};
  const md = isObj(o.metadata) ? o.metadata : {};
  const str = (x: unknown): string | null => (typeof x === 'string' && x ? x : null);
  return { cwd: str(o.cwd), title: str(md.title) ?? str(o.prompt), startedAt: str(o.started_at) };
}
