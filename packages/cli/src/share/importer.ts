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
 * Nothing is ever overwritten: each file is written to a hidden temporary name and then linked to
 * its final name, which fails if that exists; the transcript comes last.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import type { SessionAdapter, ToolCommand, ToolName } from '../sessions/types.js';
import { rolloutTime } from '../convert/formats.js';
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

/** Writes the plan's files; none may exist already. On a failure, what this call wrote is removed. */
export function applyPlan(plan: ImportPlan): void {
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
