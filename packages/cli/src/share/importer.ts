/**
 * Where a verified bundle goes on this machine (`roam import`).
 *
 * Claude Code: `projects/<key of the current directory>/<id>.jsonl`, the bundle's `subagents/` and
 * `tool-results/` under `projects/<key>/<id>/`. The CLI resumes a session by its file name's UUID
 * (docs/CLAUDE-CODE.md §8), so when that id is taken here (a session with that id anywhere, or a
 * file by that name in the key's folder), the session is imported under a new random UUID, and
 * the `sessionId` of its lines is rewritten to it, as the CLI's own `--fork-session` does.
 *
 * Codex: a rollout under `$CODEX_HOME/sessions/` (planCodex below; docs/CODEX.md).
 *
 * Gemini CLI: `tmp/<the current directory's slug>/chats/session-<now>-<id8>.jsonl`, the directory
 * registered under that slug afterwards (planGemini below; docs/GEMINI.md).
 *
 * Copilot CLI: `session-state/<id>/` with its cwd and git context set to the current directory
 * (planCopilot below; docs/COPILOT.md).
 *
 * Nothing is ever overwritten: each file is written to a hidden temporary name and then linked to
 * its final name, which fails if that exists; the transcript comes last.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import type { SessionAdapter, ToolCommand, ToolName } from '../sessions/types.js';
import { rolloutTime } from '../convert/formats.js';
import { geminiFileName } from '../convert/to-gemini.js';
import { parseGeminiSession, projectHash } from '../sessions/gemini.js';
import { yamlScalar } from '../sessions/copilot.js';
import { SESSION_FILE, type Bundle } from './bundle.js';

export interface PlannedFile {
  readonly path: string;
  readonly bytes: Buffer;
}

export interface ImportPlan {
  readonly tool: ToolName;
  /** The id in the bundle. */
  readonly originalId: string;
  /** The id here (a new one when the original is taken). */
  readonly id: string;
  readonly renamed: boolean;
  /** The transcript's path here. */
  readonly transcript: string;
  /** Every file to write, the transcript last. */
  readonly files: readonly PlannedFile[];
  /** How to resume it here. */
  readonly command: ToolCommand;
  /** What is done once the files are written (Gemini: the project registered), and its description. */
  readonly after?: { readonly describe: string; readonly run: () => string[] };
  /** What the user should know (Gemini: the CLI's cleanup would delete this session). */
  readonly warnings?: readonly string[];
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Rewrites the JSONL lines that contain `needle` and that `change` changes (it edits the parsed line
 * in place and says whether it did); other lines keep their bytes.
 */
export function rewriteLines(bytes: Buffer, needle: string, change: (o: Record<string, unknown>) => boolean): Buffer {
  const text = bytes.toString('utf8');
  if (!text.includes(needle)) return bytes;
  const out = text.split('\n').map((line) => {
    if (!line.includes(needle)) return line;
    try {
      const o = JSON.parse(line) as unknown;
      if (o && typeof o === 'object' && !Array.isArray(o) && change(o as Record<string, unknown>)) return JSON.stringify(o);
    } catch {
      // a line cut short: kept as it is
    }
    return line;
  });
  return Buffer.from(out.join('\n'), 'utf8');
}

/** Lines of session `from` now say they are of session `to` (`sessionId`). */
export function reIdClaude(bytes: Buffer, from: string, to: string): Buffer {
  return rewriteLines(bytes, from, (o) => {
    if (o.sessionId !== from) return false;
    o.sessionId = to;
    return true;
  });
}

/** Whether `p` is `base` or inside it. */
function inside(p: string, base: string): boolean {
  const r = relative(base, p);
  return r === '' || (r !== '..' && !r.startsWith(`..${sep}`) && !isAbsolute(r));
}

export interface ClaudeTarget {
  /** `<root>/projects`. */
  projectsDir(): string;
  projectKey(path: string): string;
  find: SessionAdapter['find'];
  resumeCommand: SessionAdapter['resumeCommand'];
}

/** The plan of a Claude Code bundle imported into the project of `cwd` (a real path). */
export async function planClaude(bundle: Bundle, adapter: ClaudeTarget, cwd: string, newId: () => string = randomUUID): Promise<ImportPlan> {
  const original = bundle.manifest.sessionId;
  const projDir = join(adapter.projectsDir(), adapter.projectKey(cwd));
  const taken = (id: string) => existsSync(join(projDir, `${id}.jsonl`)) || existsSync(join(projDir, id));
  let id = original;
  if (!UUID.test(original) || taken(original) || (await adapter.find(original)) !== null) {
    do id = newId();
    while (taken(id) || (await adapter.find(id)) !== null);
  }
  const renamed = id !== original;
  const sessionDir = join(projDir, id);
  const files: PlannedFile[] = [];
  let transcript: PlannedFile | null = null;
  for (const [name, raw] of bundle.files) {
    if (name !== SESSION_FILE && !/^(subagents|tool-results)\//.test(name)) throw new RoamError(ErrorCodes.BUNDLE_INVALID, `a Claude Code bundle holds ${SESSION_FILE}, subagents/ and tool-results/, not ${name}`, { name });
    const bytes = renamed && name.endsWith('.jsonl') ? reIdClaude(raw, original, id) : raw;
    if (name === SESSION_FILE) {
      transcript = { path: join(projDir, `${id}.jsonl`), bytes };
      continue;
    }
    const path = join(sessionDir, ...name.split('/'));
    // checkName already refused anything that could leave; this is the last guard.
    if (!inside(path, sessionDir)) throw new RoamError(ErrorCodes.PATH_ESCAPE, `${name} would be written outside ${sessionDir}`, { name });
    files.push({ path, bytes });
  }
  if (!transcript) throw new RoamError(ErrorCodes.BUNDLE_INVALID, `bundle holds no ${SESSION_FILE}`);
  files.push(transcript);
  return { tool: 'claude', originalId: original, id, renamed, transcript: transcript.path, files, command: adapter.resumeCommand(id, { cwd }) };
}

/**
 * Writes the plan's files (none may exist already), then runs its `after` step; returns what that
 * did. On a failure, what this call wrote is removed.
 */
export function applyPlan(plan: ImportPlan): string[] {
  const written: string[] = [];
  try {
    for (const f of plan.files) {
      mkdirSync(dirname(f.path), { recursive: true });
      const tmp = join(dirname(f.path), `.${basename(f.path)}.roam-import-${process.pid}`);
      writeFileSync(tmp, f.bytes, { mode: 0o600 });
      try {
        linkSync(tmp, f.path); // fails when the name exists: nothing is overwritten
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new RoamError(ErrorCodes.USAGE, `${f.path} exists already; not overwriting it`, { path: f.path });
        throw err;
      } finally {
        rmSync(tmp, { force: true });
      }
      written.push(f.path);
    }
    return plan.after ? plan.after.run() : [];
  } catch (err) {
    for (const p of written.reverse()) rmSync(p, { force: true });
    throw err;
  }
}

export interface CodexTarget {
  root(): string;
  find: SessionAdapter['find'];
  resumeCommand: SessionAdapter['resumeCommand'];
}

/**
 * The plan of a Codex bundle: a rollout `sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl` under
 * `$CODEX_HOME` (the date of the session's first line), its `session_meta` id changed to a new
 * UUID when the id is taken here, and the recorded cwd (`session_meta`, `turn_context`) changed to
 * `cwd`, the directory it is imported into: Codex's picker lists a directory's sessions by it.
 */
export async function planCodex(bundle: Bundle, adapter: CodexTarget, cwd: string, newId: () => string = randomUUID, now = Date.now()): Promise<ImportPlan> {
  const original = bundle.manifest.sessionId;
  let id = original;
  if (!UUID.test(original) || (await adapter.find(original)) !== null) {
    do id = newId();
    while ((await adapter.find(id)) !== null);
  }
  const raw = bundle.files.get(SESSION_FILE);
  if (!raw || bundle.files.size !== 1) throw new RoamError(ErrorCodes.BUNDLE_INVALID, `a Codex bundle holds ${SESSION_FILE} and nothing else`);
  const bytes = rewriteLines(raw, '"payload"', (o) => {
    const p = o.payload as Record<string, unknown> | undefined;
    if (!p || typeof p !== 'object') return false;
    let changed = false;
    if (o.type === 'session_meta') {
      if (p.id === original && id !== original) (p.id = id), (changed = true);
      if (typeof p.cwd === 'string' && p.cwd !== cwd) (p.cwd = cwd), (changed = true);
    } else if (o.type === 'turn_context' && typeof p.cwd === 'string' && p.cwd !== cwd) (p.cwd = cwd), (changed = true);
    return changed;
  });
  const created = bundle.manifest.created !== null ? new Date(bundle.manifest.created) : new Date(now);
  const t = rolloutTime(Number.isFinite(created.getTime()) ? created : new Date(now));
  const dir = join(adapter.root(), 'sessions', ...t.dir);
  const transcript = join(dir, `rollout-${t.stamp}-${id}.jsonl`);
  if (existsSync(transcript)) throw new RoamError(ErrorCodes.USAGE, `${transcript} exists already`);
  return { tool: 'codex', originalId: original, id, renamed: id !== original, transcript, files: [{ path: transcript, bytes }], command: adapter.resumeCommand(id, { cwd }) };
}

export interface GeminiTarget {
  /** `~/.gemini`. */
  root(): string;
  slugFor(dir: string): string;
  registerProject(dir: string, slug: string): string[];
  find: SessionAdapter['find'];
  resumeCommand: SessionAdapter['resumeCommand'];
}

function readMarker(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

function names(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * The plan of a Gemini CLI bundle: the session goes to `tmp/<slug>/chats/session-<now, UTC
 * minute>-<id8>.jsonl` (a legacy whole-file session to `….json`), its sub-agents' sessions to
 * `chats/<id>/`, where `<slug>` is the one `cwd` is filed under here (GeminiAdapter.slugFor: its
 * projects.json entry, else a slug no other project has), and `cwd` is registered under it once
 * the files are written, as the CLI finds a session only in its directory's slug. The id is new
 * when it is taken here (a session with it anywhere, or a file of the slug's `chats/` ending in its
 * first 8 characters, which the CLI's cleanup would take for the same session): the metadata's
 * `sessionId` (also in `$set`) changes to it, and the file name's id8. The metadata's
 * `projectHash` becomes the sha256 of `cwd`, as the CLI writes it.
 */
export async function planGemini(bundle: Bundle, adapter: GeminiTarget, cwd: string, newId: () => string = randomUUID, now = Date.now()): Promise<ImportPlan> {
  const original = bundle.manifest.sessionId;
  const raw = bundle.files.get(SESSION_FILE);
  if (!raw) throw new RoamError(ErrorCodes.BUNDLE_INVALID, `bundle holds no ${SESSION_FILE}`);
  for (const name of bundle.files.keys()) {
    if (name !== SESSION_FILE && !name.startsWith('subagents/')) throw new RoamError(ErrorCodes.BUNDLE_INVALID, `a Gemini CLI bundle holds ${SESSION_FILE} and subagents/, not ${name}`, { name });
  }
  const key = resolve(cwd);
  const slug = adapter.slugFor(key);
  // A slug projects.json gives this directory but whose marker names another: the CLI drops that mapping on start.
  for (const m of [join(adapter.root(), 'tmp', slug, '.project_root'), join(adapter.root(), 'history', slug, '.project_root')]) {
    const owner = readMarker(m);
    if (owner !== null && resolve(owner) !== key) throw new RoamError(ErrorCodes.USAGE, `Gemini CLI's project "${slug}" here is marked as ${owner}'s (${m}), not ${key}'s; run gemini once in ${key} to let it settle which project it is, then import`, { slug, dir: key });
  }
  const chats = join(adapter.root(), 'tmp', slug, 'chats');
  const inChats = names(chats);
  const taken = async (id: string): Promise<boolean> => {
    const id8 = `-${id.slice(0, 8).toLowerCase()}.json`;
    return inChats.some((n) => n === id || n.toLowerCase().endsWith(id8) || n.toLowerCase().endsWith(`${id8}l`)) || (await adapter.find(id)) !== null;
  };
  let id = original;
  if (!UUID.test(original) || (await taken(original))) {
    do id = newId();
    while (await taken(id));
  }
  const renamed = id !== original;
  const hash = projectHash(key);
  const text = raw.toString('utf8');
  let legacy: Record<string, unknown> | null = null;
  if (text.trimStart().startsWith('{') && !text.trimEnd().includes('\n{')) {
    try {
      const o = JSON.parse(text) as unknown;
      if (o && typeof o === 'object' && !Array.isArray(o) && Array.isArray((o as Record<string, unknown>).messages)) legacy = o as Record<string, unknown>;
    } catch {
      // not one JSON object: JSONL
    }
  }
  let bytes: Buffer;
  let file = geminiFileName(id, new Date(now));
  if (legacy) {
    if (legacy.sessionId === original) legacy.sessionId = id;
    legacy.projectHash = hash;
    bytes = Buffer.from(JSON.stringify(legacy, null, 2), 'utf8');
    file = file.replace(/\.jsonl$/, '.json');
  } else {
    bytes = rewriteLines(raw, '"sessionId"', (o) => {
      let changed = false;
      if (typeof o.sessionId === 'string' && typeof o.projectHash === 'string') {
        if (o.sessionId === original && renamed) (o.sessionId = id), (changed = true);
        if (o.projectHash !== hash) (o.projectHash = hash), (changed = true);
      }
      const set = o.$set as Record<string, unknown> | undefined;
      if (set && typeof set === 'object' && set.sessionId === original && renamed) (set.sessionId = id), (changed = true);
      return changed;
    });
  }
  const transcript = join(chats, file);
  const warnings: string[] = [];
  const stale = retentionCutoff(adapter.root(), now);
  const last = parseGeminiSession(text)?.lastUpdated ?? null;
  if (stale && last !== null && Date.parse(last) < stale.cutoff) {
    warnings.push(`Gemini CLI's session cleanup (general.sessionRetention, maxAge ${stale.maxAge}) deletes sessions last updated before ${new Date(stale.cutoff).toISOString().slice(0, 10)}, as this one was (${last}), whenever it starts in this project: resume it first (gemini --resume ${id}), which makes it current, or turn the cleanup off in ${join(adapter.root(), 'settings.json')}`);
  }
  const subDir = join(chats, id);
  const files: PlannedFile[] = [];
  for (const [name, b] of bundle.files) {
    if (name === SESSION_FILE) continue;
    const path = join(subDir, ...name.slice('subagents/'.length).split('/'));
    if (!inside(path, subDir)) throw new RoamError(ErrorCodes.PATH_ESCAPE, `${name} would be written outside ${subDir}`, { name });
    files.push({ path, bytes: b });
  }
  files.push({ path: transcript, bytes });
  return {
    tool: 'gemini', originalId: original, id, renamed, transcript, files, command: adapter.resumeCommand(id, { cwd: key }),
    after: { describe: `${key} filed under Gemini CLI project "${slug}"`, run: () => adapter.registerProject(key, slug) },
    ...(warnings.length ? { warnings } : {}),
  };
}

/**
 * When Gemini CLI's session cleanup is on (settings.json `general.sessionRetention`: on, maxAge
 * "30d" by default in 0.61), the time before which it deletes a session (its `lastUpdated`) at
 * start-up, unless it is the session being resumed (measured, docs/SHARE.md); null when off.
 */
function retentionCutoff(root: string, now: number): { maxAge: string; cutoff: number } | null {
  let r: { enabled?: unknown; maxAge?: unknown } | undefined;
  try {
    r = (JSON.parse(readFileSync(join(root, 'settings.json'), 'utf8')) as { general?: { sessionRetention?: typeof r } }).general?.sessionRetention;
  } catch {
    r = undefined;
  }
  if (r?.enabled === false) return null;
  const maxAge = typeof r?.maxAge === 'string' ? r.maxAge : '30d';
  const m = /^(\d+)([dhwm])$/.exec(maxAge);
  if (!m || m[1] === '0') return null; // the CLI skips an age it cannot read
  const unit = { h: 3_600_000, d: 86_400_000, w: 604_800_000, m: 2_592_000_000 }[m[2] as 'h' | 'd' | 'w' | 'm'];
  return { maxAge, cutoff: now - Number(m[1]) * unit };
}

export interface CopilotTarget {
  /** `<root>/session-state`. */
  stateDir(): string;
  find: SessionAdapter['find'];
  resumeCommand: SessionAdapter['resumeCommand'];
}

/** The git work tree `dir` is in, and its branch (from HEAD), read from disk; null outside one. */
export function gitContext(dir: string): { root: string; branch: string | null } | null {
  for (let d = resolve(dir); ; d = dirname(d)) {
    const dotGit = join(d, '.git');
    const st = statSync(dotGit, { throwIfNoEntry: false });
    if (st) {
      let gitDir = dotGit;
      let branch: string | null = null;
      try {
        if (st.isFile()) {
          const m = /^gitdir:\s*(.+)$/m.exec(readFileSync(dotGit, 'utf8'));
          if (m) gitDir = resolve(d, m[1]!.trim());
        }
        branch = /^ref: refs\/heads\/(.+)$/m.exec(readFileSync(join(gitDir, 'HEAD'), 'utf8'))?.[1]?.trim() ?? null;
      } catch {
        // no HEAD to read: no branch
      }
      return { root: d, branch };
    }
    if (dirname(d) === d) return null;
  }
}

/** A recorded working-directory context made this directory's; says whether it changed. */
function hereContext(ctx: Record<string, unknown>, cwd: string, git: { root: string; branch: string | null } | null): boolean {
  const before = JSON.stringify(ctx);
  ctx.cwd = cwd;
  // The source machine's repository: the CLI derives these again where it runs.
  for (const k of ['repository', 'hostType', 'repositoryHost', 'headCommit', 'baseCommit']) delete ctx[k];
  if (git) ctx.gitRoot = git.root;
  else delete ctx.gitRoot;
  if (git?.branch) ctx.branch = git.branch;
  else delete ctx.branch;
  return JSON.stringify(ctx) !== before;
}

/** Every `sessionId` equal to `from`, at any depth, becomes `to`; says whether one did. */
function reIdDeep(v: unknown, from: string, to: string): boolean {
  if (!v || typeof v !== 'object') return false;
  let changed = false;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (k === 'sessionId' && x === from) ((v as Record<string, unknown>)[k] = to), (changed = true);
    else if (x && typeof x === 'object') changed = reIdDeep(x, from, to) || changed;
  }
  return changed;
}

/**
 * A workspace.yaml made this directory's: `id`, `cwd`, `git_root`, `branch` set (added when
 * missing; the git ones removed outside a work tree), the source's `repository` and `host_type`
 * and its remote-session ties (`remote_steerable`, `mc_*`, which the CLI's own fork drops too)
 * removed; every other line kept.
 */
export function hereWorkspace(text: string, id: string, cwd: string, git: { root: string; branch: string | null } | null): string {
  const set: Record<string, string | null> = {
    id, cwd: yamlScalar(cwd), git_root: git ? yamlScalar(git.root) : null, branch: git?.branch ? yamlScalar(git.branch) : null,
    repository: null, host_type: null, remote_steerable: null, mc_task_id: null, mc_session_id: null, mc_last_event_id: null,
  };
  const done = new Set<string>();
  const out: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([A-Za-z_][\w-]*):/.exec(lines[i]!);
    if (!m || !(m[1]! in set)) {
      out.push(lines[i]!);
      continue;
    }
    // A key's value may go on over indented lines: they go with it.
    while (i + 1 < lines.length && /^\s+\S/.test(lines[i + 1]!)) i++;
    const v = set[m[1]!];
    if (v !== null && v !== undefined && !done.has(m[1]!)) out.push(`${m[1]}: ${v}`);
    done.add(m[1]!);
  }
  const missing = ['id', 'cwd', 'git_root', 'branch'].filter((k) => !done.has(k) && set[k] !== null).map((k) => `${k}: ${set[k]}`);
  if (missing.length) {
    while (out.length && out[out.length - 1] === '') out.pop();
    out.push(...missing, '');
  }
  return out.join('\n');
}

/**
 * The plan of a Copilot CLI bundle: the session directory `session-state/<id>/` (events.jsonl,
 * written last, and the bundle's workspace.yaml, plan.md, checkpoints/, files/, research/). The
 * CLI resumes a session by its directory's name and keeps a recorded cwd that exists
 * (docs/COPILOT.md), so the working-directory context of `session.start`, `session.resume` and
 * `session.context_changed` and workspace.yaml's `cwd`/`git_root`/`branch` are set to `cwd` (and
 * its git work tree, if any). When the id is taken here (a session directory by that name) the
 * session gets a new UUID, as the CLI's own fork does it: the directory, `session.start`'s
 * `sessionId` (every `sessionId` of the source's id, in fact), workspace.yaml's `id`, and each
 * `checkpointPath` into the old directory.
 */
export async function planCopilot(bundle: Bundle, adapter: CopilotTarget, cwd: string, newId: () => string = randomUUID): Promise<ImportPlan> {
  const original = bundle.manifest.sessionId;
  const raw = bundle.files.get(SESSION_FILE);
  if (!raw) throw new RoamError(ErrorCodes.BUNDLE_INVALID, `bundle holds no ${SESSION_FILE}`);
  for (const name of bundle.files.keys()) {
    if (name !== SESSION_FILE && name !== 'workspace.yaml' && name !== 'plan.md' && !/^(checkpoints|files|research)\//.test(name)) {
      throw new RoamError(ErrorCodes.BUNDLE_INVALID, `a Copilot CLI bundle holds ${SESSION_FILE}, workspace.yaml, plan.md, checkpoints/, files/ and research/, not ${name}`, { name });
    }
  }
  const state = adapter.stateDir();
  const taken = async (id: string): Promise<boolean> => existsSync(join(state, id)) || (await adapter.find(id)) !== null;
  let id = original;
  if (!UUID.test(original) || (await taken(original))) {
    do id = newId();
    while (await taken(id));
  }
  const renamed = id !== original;
  const dir = join(state, id);
  const key = resolve(cwd);
  const git = gitContext(key);
  const oldDir = `/session-state/${original}/`;
  const events = rewriteLines(raw, '"type"', (o) => {
    let changed = false;
    const data = o.data as Record<string, unknown> | undefined;
    if (!data || typeof data !== 'object' || Array.isArray(data)) return false;
    if (renamed) changed = reIdDeep(data, original, id) || changed;
    if ((o.type === 'session.start' || o.type === 'session.resume') && data.context && typeof data.context === 'object') {
      changed = hereContext(data.context as Record<string, unknown>, key, git) || changed;
    } else if (o.type === 'session.context_changed' && typeof data.cwd === 'string') changed = hereContext(data, key, git) || changed;
    if (typeof data.checkpointPath === 'string') {
      const at = data.checkpointPath.lastIndexOf(oldDir);
      if (at >= 0) {
        const p = join(dir, data.checkpointPath.slice(at + oldDir.length));
        if (p !== data.checkpointPath) (data.checkpointPath = p), (changed = true);
      }
    }
    return changed;
  });
  const files: PlannedFile[] = [];
  for (const [name, b] of bundle.files) {
    if (name === SESSION_FILE) continue;
    const path = join(dir, ...name.split('/'));
    if (!inside(path, dir)) throw new RoamError(ErrorCodes.PATH_ESCAPE, `${name} would be written outside ${dir}`, { name });
    files.push({ path, bytes: name === 'workspace.yaml' ? Buffer.from(hereWorkspace(b.toString('utf8'), id, key, git), 'utf8') : b });
  }
  const transcript = join(dir, 'events.jsonl');
  files.push({ path: transcript, bytes: events });
  return { tool: 'copilot', originalId: original, id, renamed, transcript, files, command: adapter.resumeCommand(id, { cwd: key }) };
}
