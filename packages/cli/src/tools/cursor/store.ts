/**
 * Cursor's chats, read-only (docs/tools/cursor.md). Cursor is closed source: these facts are those
 * public projects that read its stores document (see the doc), not measured on a run.
 *
 * The IDE's global database `$XDG_CONFIG_HOME/Cursor/User/globalStorage/state.vscdb` (else
 * `~/.config/Cursor/User/…`; macOS `~/Library/Application Support/Cursor/User/…`) has a key-value
 * table `cursorDiskKV (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB)`:
 * - `composerData:<composerId>`: a chat (`_v`, `composerId`, `name`, `createdAt`, `lastUpdatedAt`
 *   in ms, `fullConversationHeadersOnly: [{bubbleId, type}]`, or in older versions the bubbles
 *   inline as `conversation: [...]`);
 * - `bubbleId:<composerId>:<bubbleId>`: one message (`type` 1 the user, 2 the assistant, `text`,
 *   `toolFormerData {name, params, result, status}` for a tool call).
 * A workspace's `workspaceStorage/<hash>/state.vscdb` lists its chats (`ItemTable` key
 * `composer.composerData`: `{allComposers: [{composerId}]}`) and `workspace.json` names its folder
 * (`{"folder": "file:///…"}`): a chat's directory.
 *
 * Each chat is mapped to the OpenCode family's log shape (common/opencode/log.ts) and appended to
 * `<roam state>/tool-logs/cursor/<composerId>.jsonl`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import type { Row } from '../common/opencode/db.js';
import { logDir, type Flavor, type MirrorResult } from '../common/opencode/family.js';
import { appendSession } from '../common/opencode/mirror.js';

/** Cursor's `User` directory on this device. */
export function cursorUserDir(env: NodeJS.ProcessEnv): string {
  const home = env.HOME || homedir();
  if (process.platform === 'darwin') return join(home, 'Library', 'Application Support', 'Cursor', 'User');
  return join(env.XDG_CONFIG_HOME || join(home, '.config'), 'Cursor', 'User');
}

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

function parse(v: unknown): unknown {
  try {
    return JSON.parse(Buffer.isBuffer(v) ? v.toString('utf8') : String(v)) as unknown;
  } catch {
    return null;
  }
}

/** composerId → the folder of the workspace that lists it. */
function workspaceFolders(user: string): Map<string, string> {
  const out = new Map<string, string>();
  const root = join(user, 'workspaceStorage');
  let hashes: string[];
  try {
    hashes = readdirSync(root);
  } catch {
    return out;
  }
  for (const h of hashes) {
    let folder: string;
    try {
      const f = obj(JSON.parse(readFileSync(join(root, h, 'workspace.json'), 'utf8'))).folder;
      if (typeof f !== 'string' || !f.startsWith('file://')) continue;
      folder = fileURLToPath(f);
    } catch {
      continue;
    }
    const file = join(root, h, 'state.vscdb');
    if (!existsSync(file)) continue;
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const row = db.prepare("SELECT value FROM ItemTable WHERE key = 'composer.composerData'").get() as { value?: unknown } | undefined;
      const all = obj(parse(row?.value)).allComposers;
      if (Array.isArray(all)) for (const c of all) if (typeof obj(c).composerId === 'string') out.set(obj(c).composerId as string, folder);
    } catch {
      // no ItemTable: not a workspace database roam knows
    } finally {
      db.close();
    }
  }
  return out;
}

/** One chat's rows in the family log's shape. */
export function mapComposer(id: string, composer: Record<string, unknown>, bubbles: Array<Record<string, unknown>>, folder: string | null): { session: Row; messages: Row[]; parts: Row[] } {
  const created = typeof composer.createdAt === 'number' ? composer.createdAt : 0;
  const updated = typeof composer.lastUpdatedAt === 'number' ? composer.lastUpdatedAt : created;
  const messages: Row[] = [];
  const parts: Row[] = [];
  bubbles.forEach((b, n) => {
    const role = b.type === 1 ? 'user' : b.type === 2 ? 'assistant' : null;
    if (!role) return;
    const bid = typeof b.bubbleId === 'string' ? b.bubbleId : String(n);
    // The order of the conversation is the headers' order: each message's time is unique.
    const t = created + n;
    messages.push({ id: bid, session_id: id, time_created: t, time_updated: Math.max(updated, t), data: JSON.stringify({ role }) });
    let i = 0;
    const part = (data: Record<string, unknown>): void => {
      parts.push({ id: `${bid}.${String(i++).padStart(4, '0')}`, message_id: bid, session_id: id, time_created: t, time_updated: Math.max(updated, t), data: JSON.stringify(data) });
    };
    if (typeof b.text === 'string' && b.text.trim()) part({ type: 'text', text: b.text });
    const tool = obj(b.toolFormerData);
    if (typeof tool.name === 'string') {
      const params = typeof tool.params === 'string' ? parse(tool.params) ?? tool.params : (tool.params ?? null);
      const result = typeof tool.result === 'string' ? tool.result : tool.result === undefined ? null : JSON.stringify(tool.result);
      part({ type: 'tool', tool: tool.name, callID: typeof tool.toolCallId === 'string' ? tool.toolCallId : `${bid}-call`, state: { input: params, ...(result !== null ? { output: result, status: tool.status === 'error' ? 'error' : 'completed' } : { status: 'pending' }) } });
    }
  });
  const session: Row = { id, project_id: folder ?? '-', directory: folder ?? '', title: typeof composer.name === 'string' ? composer.name : '', time_created: created, time_updated: updated };
  return { session, messages, parts };
}

/** One pass over the IDE's global database (ROAM_TOOL_SCHEMA when it has no cursorDiskKV, or only chats of an unmeasured `_v`). */
export function mirrorCursor(flavor: Flavor, env: NodeJS.ProcessEnv): MirrorResult {
  const user = cursorUserDir(env);
  const file = join(user, 'globalStorage', 'state.vscdb');
  if (!existsSync(file)) return { sessions: [], lines: 0 };
  const folders = workspaceFolders(user);
  const db = new Database(file, { readonly: true, fileMustExist: true });
  const grown: string[] = [];
  let lines = 0;
  const unmeasured = new Set<string>();
  try {
    if (!db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'cursorDiskKV'").get()) {
      throw new RoamError(ErrorCodes.TOOL_SCHEMA, `${file} has no cursorDiskKV table: a Cursor store roam has not seen documented; roam does not read it`, { tool: flavor.name });
    }
    const bubble = db.prepare('SELECT value FROM cursorDiskKV WHERE key = ?');
    for (const row of db.prepare("SELECT key, value FROM cursorDiskKV WHERE key LIKE 'composerData:%'").iterate() as Iterable<{ key: string; value: unknown }>) {
      const id = row.key.slice('composerData:'.length);
      if (!flavor.ids?.test(id)) continue;
      const c = obj(parse(row.value));
      const v = `composerData _v ${String(c._v)}`;
      if (!flavor.schemas.includes(v)) {
        unmeasured.add(v);
        continue;
      }
      const headers = Array.isArray(c.fullConversationHeadersOnly) ? (c.fullConversationHeadersOnly as unknown[]) : null;
      const bubbles = headers
        ? headers.map((h) => obj(parse((bubble.get(`bubbleId:${id}:${String(obj(h).bubbleId)}`) as { value?: unknown } | undefined)?.value)))
        : Array.isArray(c.conversation) ? (c.conversation as unknown[]).map(obj) : [];
      const n = appendSession(logDir(flavor, env), flavor.name, id, v, mapComposer(id, c, bubbles, folders.get(id) ?? null));
      if (n) grown.push(id);
      lines += n;
    }
  } finally {
    db.close();
  }
  if (unmeasured.size && !lines) {
    throw new RoamError(ErrorCodes.TOOL_SCHEMA, `${file} holds Cursor chats of ${[...unmeasured].join(', ')}, which roam has not seen documented (known: ${flavor.schemas.join(', ')}); roam does not read them`, { tool: flavor.name });
  }
  return { sessions: grown, lines };
}
