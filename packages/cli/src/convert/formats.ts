/**
 * What `roam resume --in` knows about each tool's format, one entry per tool: how to read a
 * session into the intermediate conversation (ir.ts), how to write one, where the written session
 * lives, and what else the tool needs to find it. index.ts drives the conversion through this
 * table only; a tool converts from and to every other tool as soon as it has an entry here.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import { CodexAdapter, historyBase } from '../sessions/codex.js';
import type { SessionAdapter, SessionInfo, ToolName } from '../sessions/types.js';
import { fromClaude } from './claude-source.js';
import { fromCodex } from './codex-source.js';
import { fromCopilot } from './copilot-source.js';
import { fromGemini } from './gemini-source.js';
import type { Conversation, Notes } from './ir.js';
import { toClaude } from './to-claude.js';
import { toCodex } from './to-codex.js';
import { copilotWorkspace, toCopilot } from './to-copilot.js';
import { geminiFileName, toGemini } from './to-gemini.js';
import { GeminiAdapter, slugify } from '../sessions/gemini.js';

export interface WriteOptions {
  /** The new session's id. */
  readonly id: string;
  /** The directory it is registered under (real path). */
  readonly cwd: string;
  /** The timestamp of lines that have none. */
  readonly fallbackTime: string;
}

export interface TargetFile {
  readonly path: string;
  readonly bytes: Buffer;
}

export interface Format {
  /** A session's conversation, from its bytes as `source` returns them. */
  read(text: string, id: string, notes: Notes): Conversation;
  /** The converted session's transcript (the file that `find` and the resume read). */
  write(conv: Conversation, opts: WriteOptions, notes: Notes): string;
  /** Where the target keeps the transcript of session `id` converted in `dir` (`started`: the conversation's first time). */
  transcriptPath(target: SessionAdapter, id: string, dir: string, started: string): string;
  /** Other files the converted session needs beside its transcript (written with it; none may exist). */
  companions?(conv: Conversation, opts: WriteOptions, transcript: string): TargetFile[];
  /** Paths besides the transcript whose existence means the id is taken. */
  taken?(transcript: string): string[];
  /** The bytes of a session as its tool replays it (default: its transcript file). */
  source?(adapter: SessionAdapter, session: SessionInfo): Promise<Buffer>;
  /**
   * After the files are written: what else the tool needs to find the session here (an entry in
   * an index of its own). Returns what it did, one sentence each, for stderr.
   */
  register?(written: { id: string; cwd: string; files: readonly TargetFile[] }, target: SessionAdapter, env: NodeJS.ProcessEnv): string[];
  /** The resume command with the arguments given after `--` (default: appended). */
  resumeArgv?(argv: readonly string[], toolArgs: readonly string[]): string[];
}

/** `YYYY/MM/DD` and `YYYY-MM-DDThh-mm-ss` of a rollout, in local time as Codex writes them. */
export function rolloutTime(d: Date): { dir: string[]; stamp: string } {
  const p = (n: number) => String(n).padStart(2, '0');
  const [y, mo, da] = [String(d.getFullYear()), p(d.getMonth() + 1), p(d.getDate())];
  return { dir: [y, mo, da], stamp: `${y}-${mo}-${da}T${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}` };
}

const claude: Format = {
  read: fromClaude,
  write: toClaude,
  transcriptPath: (target, id, dir) => join(target.root(), 'projects', target.projectKey(dir), `${id}.jsonl`),
  // `<key>/<id>/` holds a session's tool results: a folder by that name with no session in it takes the id too.
  taken: (transcript) => [transcript.slice(0, -'.jsonl'.length)],
};

const codex: Format = {
  read: fromCodex,
  write: toCodex,
  transcriptPath(target, id, _dir, started) {
    let d = new Date(started);
    if (!Number.isFinite(d.getTime())) d = new Date(0);
    const t = rolloutTime(d);
    return join(target.root(), 'sessions', ...t.dir, `rollout-${t.stamp}-${id}.jsonl`);
  },
  /** The rollout decompressed, behind the history a fork inherits from its parent (`history_base`). */
  async source(adapter, session) {
    const reader = adapter instanceof CodexAdapter ? adapter : null;
    const read = (file: string) => (reader ? reader.readRollout(file) : readFileSync(file));
    const parts: Buffer[] = [read(session.file)];
    for (let depth = 0; depth < 16; depth++) {
      const base = historyBase(parts[0]!.toString('utf8', 0, Math.min(parts[0]!.length, 1024 * 1024)));
      if (!base) break;
      const parent = await adapter.find(base.threadId);
      if (!parent) {
        throw new RoamError(ErrorCodes.SESSION_UNREADABLE, `Codex session ${session.id} is a fork of ${base.threadId}, whose rollout (the history before the fork) is not on this machine`, { id: session.id, parent: base.threadId });
      }
      const bytes = read(parent.file);
      parts.unshift(base.endByteOffset === null ? bytes : bytes.subarray(0, base.endByteOffset));
    }
    return Buffer.concat(parts);
  },
  /**
   * Codex's non-interactive form is `codex exec resume <id> [options] [prompt]`: arguments that
   * start with `exec` (`roam resume <id> --in codex -- exec --skip-git-repo-check "go on"`) give
   * that form; others follow `codex resume <id>`.
   */
  resumeArgv(argv, toolArgs) {
    if (toolArgs[0] === 'exec' && argv[1] === 'resume') return [argv[0]!, 'exec', ...argv.slice(1), ...toolArgs.slice(1)];
    return [...argv, ...toolArgs];
  },
};

/**
 * Copilot CLI: a session is a directory, `session-state/<id>/` with `events.jsonl` (the transcript)
 * and `workspace.yaml`; the CLI resumes it from these alone (measured, docs/COPILOT.md: no index
 * entry needed). The directory existing at all takes the id.
 */
const copilot: Format = {
  read: fromCopilot,
  write: toCopilot,
  transcriptPath: (target, id) => join(target.root(), 'session-state', id, 'events.jsonl'),
  companions: (conv, opts, transcript) => [{ path: join(dirname(transcript), 'workspace.yaml'), bytes: Buffer.from(copilotWorkspace(conv, opts), 'utf8') }],
  taken: (transcript) => [dirname(transcript)],
};

/**
 * Gemini CLI: `tmp/<slug>/chats/session-<UTC minute now>-<id8>.jsonl`, the slug being the one the
 * CLI files the directory under (projects.json, or the one it would claim), registered in
 * projects.json with its ownership markers after writing (docs/GEMINI.md). The current minute, not
 * the source's: a resume in another minute than the file's name leaves the CLI's stub file beside it.
 */
const gemini: Format = {
  read: fromGemini,
  write: toGemini,
  transcriptPath: (target, id, dir) => join(target.root(), 'tmp', target instanceof GeminiAdapter ? target.slugFor(dir) : slugify(basename(dir)), 'chats', geminiFileName(id, new Date())),
  register(written, target) {
    const file = written.files[0]?.path;
    if (!(target instanceof GeminiAdapter) || !file) return [];
    return target.registerProject(written.cwd, basename(dirname(dirname(file))));
  },
};

/** Every tool roam converts from and to. */
export const FORMATS: Partial<Record<ToolName, Format>> = { claude, codex, copilot, gemini };
