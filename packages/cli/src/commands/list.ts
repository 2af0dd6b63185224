/**
 * `roam list [--json] [--all] [--tool <t>] [--limit <n>]`: the sessions of the current directory's
 * project (whichever device wrote them: machine/project-identity.ts), newest first; `--all`: of
 * every project.
 *
 * On a terminal (stdin and stdout) without --json: a picker; the picked session is resumed (by
 * default its tool's resume command in this device's directory for its project, through runTool;
 * the `resume` hook replaces that). Otherwise a table: id, last activity, messages, title.
 * --json: SessionInfo[].
 */
import type { Io } from '../io.js';
import { ToolExit, runTool } from '../sessions/exec.js';
import { adaptersFor, realDir, relativeTime, sessionDir, type SessionContext } from '../sessions/index.js';
import { newestFirst } from '../sessions/paths.js';
import { jsonArray, listJson } from '../sessions/cache.js';
import type { ListedJson, SessionAdapter, SessionInfo } from '../sessions/types.js';

export interface ListFlags {
  json?: boolean;
  all?: boolean;
  tool?: string;
  limit?: number;
}

export interface ListContext extends SessionContext {
  /** Show the picker (default: stdin and stdout are terminals, and no --json). */
  readonly interactive?: boolean;
  /** What picking a session does; resolves with the exit code roam should end with. */
  readonly resume?: (session: SessionInfo, adapter: SessionAdapter) => Promise<number>;
  /** The picker itself (default: @inquirer/prompts' search); resolves with the picked session, or null. */
  readonly pick?: (sessions: readonly SessionInfo[], now: number) => Promise<SessionInfo | null>;
}

export async function listSessions(flags: ListFlags, ctx: SessionContext = {}): Promise<{ sessions: SessionInfo[]; project: string | null }> {
  const env = ctx.env ?? process.env;
  const project = flags.all ? null : realDir(ctx.cwd ?? process.cwd());
  const adapters = adaptersFor(flags.tool, { env });
  let sessions: SessionInfo[] = [];
  for (const a of adapters) sessions.push(...(await a.list(project === null ? {} : { project })));
  if (adapters.length > 1) sessions = newestFirst(sessions);
  if (flags.limit) sessions = sessions.slice(0, flags.limit);
  return { sessions, project };
}

/**
 * What `roam list --json` prints, as UTF-8 without the final newline: the bytes of
 * JSON.stringify(listSessions(flags).sessions, null, 2), made from the adapters' listJson where they
 * have one (a warm list of 10,000 Claude Code sessions then parses and serialises nothing), sorted
 * as listSessions sorts.
 */
export async function listJsonBytes(flags: ListFlags, ctx: SessionContext = {}): Promise<Buffer> {
  let rows = await listJsonRows(flags, ctx);
  if (flags.limit) rows = rows.slice(0, flags.limit);
  return jsonArray(rows);
}

/** The sessions of listSessions(flags) as `roam list --json` prints each (ListedJson), newest first, without --limit applied. */
export async function listJsonRows(flags: ListFlags, ctx: SessionContext = {}): Promise<ListedJson[]> {
  const env = ctx.env ?? process.env;
  const project = flags.all ? null : realDir(ctx.cwd ?? process.cwd());
  const opts = project === null ? {} : { project };
  let rows: ListedJson[] = [];
  for (const a of adaptersFor(flags.tool, { env })) {
    const more = a.listJson ? await a.listJson(opts) : (await a.list(opts)).map((s) => ({ lastActivity: s.lastActivity, mtimeMs: s.mtimeMs, json: listJson(s) }));
    rows = rows.length ? rows.concat(more) : more;
  }
  return newestFirstRows(rows);
}

/**
 * newestFirst's order of `rows` (later lastActivity first, then later mtime; ties keep their order).
 * Times as toISOString writes them are compared as numbers (string compares were most of the sort).
 */
export function newestFirstRows(rows: ListedJson[]): ListedJson[] {
  const hinted = inBufferOrder(rows);
  if (hinted) return hinted;
  const n = rows.length;
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const k = isoKey(rows[i]!.lastActivity);
    if (k < 0) return rows.sort((a, b) => (a.lastActivity < b.lastActivity ? 1 : a.lastActivity > b.lastActivity ? -1 : b.mtimeMs - a.mtimeMs));
    keys[i] = k;
  }
  const order = new Array<number>(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => keys[b]! - keys[a]! || rows[b]!.mtimeMs - rows[a]!.mtimeMs || a - b);
  return order.map((i) => rows[i]!);
}

/** Row indices below this fit beside a byte offset in one double. */
const ROWS = 2 ** 20;

/**
 * `rows` in the order of their bytes in one buffer, when that order is newestFirst's (checked pair by
 * pair, ties by their index in `rows`), else null. The metadata cache keeps the sessions' JSON newest
 * first, so while nothing changed this is a sort of numbers without a comparator (a sort with one,
 * run once in a fresh process, is slow until V8 has compiled the comparator).
 */
function inBufferOrder(rows: readonly ListedJson[]): ListedJson[] | null {
  const n = rows.length;
  const buf = rows[0]?.json;
  if (n < 2 || n >= ROWS || buf === undefined || typeof buf === 'string') return null;
  const at = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    if (r.json !== buf) return null;
    at[i] = (r.start ?? 0) * ROWS + i;
  }
  at.sort();
  const out = new Array<ListedJson>(n);
  let prev = -1;
  for (let k = 0; k < n; k++) {
    const i = at[k]! % ROWS;
    const r = rows[i]!;
    if (k) {
      const p = out[k - 1]!;
      if (!(p.lastActivity > r.lastActivity || (p.lastActivity === r.lastActivity && (p.mtimeMs > r.mtimeMs || (p.mtimeMs === r.mtimeMs && prev < i))))) return null;
    }
    out[k] = r;
    prev = i;
  }
  return out;
}

/**
 * A number in the order of `t` among strings of toISOString's form `YYYY-MM-DDTHH:mm:ss.sssZ` with
 * fields in range (years 0 to 9999), whose string order is their fields' order; -1 for any other string.
 */
export function isoKey(t: string): number {
  if (t.length !== 24 || t.charCodeAt(4) !== 0x2d || t.charCodeAt(7) !== 0x2d || t.charCodeAt(10) !== 0x54 || t.charCodeAt(13) !== 0x3a || t.charCodeAt(16) !== 0x3a || t.charCodeAt(19) !== 0x2e || t.charCodeAt(23) !== 0x5a) return -1;
  const y = num(t, 0, 4);
  const mo = num(t, 5, 7);
  const d = num(t, 8, 10);
  const h = num(t, 11, 13);
  const mi = num(t, 14, 16);
  const s = num(t, 17, 19);
  const ms = num(t, 20, 23);
  if (y < 0 || mo < 0 || mo > 12 || d < 0 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59 || ms < 0) return -1;
  return ((((((y * 13 + mo) * 32 + d) * 24 + h) * 60 + mi) * 60 + s) * 1000) + ms;
}

/** The decimal number t[start, end), or -1 when it holds anything but digits. */
function num(t: string, start: number, end: number): number {
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = t.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

export async function list(flags: ListFlags, io: Io, ctx: ListContext = {}): Promise<void> {
  const env = ctx.env ?? process.env;
  const now = ctx.now ?? Date.now();
  if (flags.json) {
    const bytes = await listJsonBytes(flags, ctx);
    if (io.outBytes) io.outBytes(bytes);
    else io.out(bytes.toString('utf8'));
    return;
  }
  const { sessions, project } = await listSessions(flags, ctx);
  if (!sessions.length) {
    io.out(project === null ? 'no sessions' : `no sessions in ${project} (roam list --all: every project)`);
    return;
  }
  const interactive = ctx.interactive ?? (!!process.stdin.isTTY && !!process.stdout.isTTY);
  if (!interactive) {
    for (const s of sessions) io.out(tableRow(s, now, project === null));
    return;
  }
  const picked = await (ctx.pick ?? inquirerPick)(sessions, now);
  if (!picked) return;
  const adapter = adaptersFor(picked.tool, { env })[0]!;
  const resume = ctx.resume ?? (async (s: SessionInfo, a: SessionAdapter) => {
    // This device's directory for the session's project, never the one another device recorded.
    const dir = sessionDir(s, ctx.cwd ?? process.cwd(), env);
    // Qwen Code resumes a session only in the directory it recorded: elsewhere a new session continues it, as in `roam resume`.
    const continued = a.continueIn ? await a.continueIn(s, dir) : null;
    for (const line of continued?.lines ?? []) io.err(`roam: ${line}`);
    if (continued) s = continued.session;
    const cmd = a.resumeCommand(s.id, { cwd: dir });
    // Gemini CLI finds a session only under its directory's slug: registered as `roam resume` does (docs/GEMINI.md).
    if (a.prepareResume && cmd.cwd) for (const line of await a.prepareResume(s, cmd.cwd)) io.err(`roam: ${line}`);
    for (const line of (await a.beforeRun?.(s)) ?? []) io.err(`roam: ${line}`);
    for (const line of a.notCarried?.(s, cmd.cwd ?? process.cwd()) ?? []) io.err(`roam: not carried: ${line}`);
    return runTool(cmd.argv, { ...(cmd.cwd ? { cwd: cmd.cwd } : {}), env });
  });
  const code = await resume(picked, adapter);
  if (code !== 0) throw new ToolExit(code);
}

export function tableRow(s: SessionInfo, now: number, withProject: boolean): string {
  const when = relativeTime(Date.parse(s.lastActivity), now).padEnd(11);
  const msgs = `${s.messagesExact ? '' : '~'}${s.messages}`.padStart(6);
  const project = withProject ? `${cut(s.cwd ?? s.projectKey, 30, true).padEnd(30)}  ` : '';
  return `${s.id}  ${when}  ${msgs}  ${project}${cut(s.title ?? '(untitled)', 70)}`;
}

/** At most `max` characters; `fromEnd` keeps the end (for paths). */
function cut(s: string, max: number, fromEnd = false): string {
  if (s.length <= max) return s;
  return fromEnd ? `…${s.slice(s.length - max + 1)}` : `${s.slice(0, max - 1)}…`;
}

async function inquirerPick(sessions: readonly SessionInfo[], now: number): Promise<SessionInfo | null> {
  const { search } = await import('@inquirer/prompts');
  const choices = sessions.map((s) => ({
    value: s,
    name: `${relativeTime(Date.parse(s.lastActivity), now).padEnd(11)} ${`${s.messages}`.padStart(5)} msgs  ${cut(s.title ?? s.id, 80)}`,
    description: `${s.id}  ${s.cwd ?? s.projectKey}${s.gitBranch ? `  (${s.gitBranch})` : ''}`,
  }));
  try {
    return await search<SessionInfo>({
      message: 'Resume which session? (type to filter)',
      pageSize: 15,
      source: (term) => {
        const t = (term ?? '').toLowerCase();
        return t ? choices.filter((c) => `${c.name} ${c.description}`.toLowerCase().includes(t)) : choices;
      },
    });
  } catch (err) {
    // Ctrl-C / Esc in the picker: nothing picked, nothing to report.
    if (err instanceof Error && err.name === 'ExitPromptError') return null;
    throw err;
  }
}
