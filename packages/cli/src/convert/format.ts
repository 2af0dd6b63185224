/**
 * What `roam resume --in` knows about one tool's format (each tool's `format` in its folder,
 * tools/<tool>/format.ts, listed by tools/registry.ts): how to read a session into the intermediate
 * conversation (ir.ts), how to write one, where the written session lives, and what else the tool
 * needs to find it. index.ts drives the conversion through these entries only; a tool converts
 * from and to every other tool as soon as it has one.
 */
import type { SessionAdapter, SessionInfo } from '../sessions/types.js';
import type { Conversation, Notes } from './ir.js';

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

export interface Format<A extends SessionAdapter = SessionAdapter> {
  /** A session's conversation, from its bytes as `source` returns them. */
  read(text: string, id: string, notes: Notes): Conversation;
  /**
   * The id the target takes for a derived id (convert/ids.ts: a version 8 UUID), where it takes
   * only some UUIDs (Qwen Code: versions 1 to 5). Default: the derived id.
   */
  sessionId?(derived: string): string;
  /** The converted session's transcript (the file that `find` and the resume read). */
  write(conv: Conversation, opts: WriteOptions, notes: Notes): string;
  /** The converted session's id in the shape the tool gives its own (default: the derived UUID as it is). */
  idOf?(derived: string): string;
  /** Where the target keeps the transcript of session `id` converted in `dir` (`started`: the conversation's first time). */
  transcriptPath(target: A, id: string, dir: string, started: string): string;
  /** Other files the converted session needs beside its transcript (written with it; none may exist). */
  companions?(conv: Conversation, opts: WriteOptions, transcript: string): TargetFile[];
  /** Paths besides the transcript whose existence means the id is taken. */
  taken?(transcript: string): string[];
  /** The bytes of a session as its tool replays it (default: its transcript file). */
  source?(adapter: A, session: SessionInfo): Promise<Buffer>;
  /**
   * After the files are written: what else the tool needs to find the session here (an entry in
   * an index of its own). Returns what it did, one sentence each, for stderr.
   */
  register?(written: { id: string; cwd: string; files: readonly TargetFile[] }, target: A, env: NodeJS.ProcessEnv): string[];
  /** The resume command with the arguments given after `--` (default: appended). */
  resumeArgv?(argv: readonly string[], toolArgs: readonly string[]): string[];
}

