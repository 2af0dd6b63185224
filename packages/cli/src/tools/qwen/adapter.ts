/**
 * Qwen Code's session adapter (docs/tools/qwen.md; measured with @qwen-code/qwen-code 0.15.10).
 *
 * Root: `$QWEN_HOME`, else `~/.qwen`. A session is `projects/<key>/chats/<id>.jsonl`, the key
 * being its directory with every character but ASCII letters and digits as `-` (session.ts). Its
 * projectKey is that key, its cwd the first record's. `qwen -r <id>` resumes it only from that
 * directory: the CLI looks under the current directory's key and checks the first record's cwd.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import { oneLine, withCwd } from '../../sessions/paths.js';
import { snippet } from '../../sessions/scan.js';
import type { SessionInfo, ToolCommand, TranscriptEntry } from '../../sessions/types.js';
import { BaseAdapter, toolHome, type About, type FoundFile, type LineCheck } from '../common/base.js';
import { chatFiles } from '../common/files.js';
import { continueQwen } from './continue.js';
import { QWEN_SESSION_NAME, isObj, isPrompt, parseQwenSession, partsText, qwenProjectKey, qwenTranscript, type QwenSession } from './session.js';

const TITLE_MAX = 200;

export interface QwenFile extends FoundFile {
  /** The project key directory under `projects/`. */
  readonly key: string;
  /** The id in the file's name. */
  readonly nameId: string;
}

/** Qwen Code's home: `$QWEN_HOME`, else `~/.qwen` (the CLI's getGlobalQwenDir). */
export const QWEN: About = { label: 'Qwen Code', cacheName: 'sessions-cache-qwen.json', home: (env) => toolHome(env, 'QWEN_HOME', '.qwen') };

export class QwenAdapter extends BaseAdapter<QwenFile> {
  readonly tool = 'qwen' as const;
  protected readonly about = QWEN;

  projectKey(path: string): string {
    return qwenProjectKey(path);
  }

  /** `projects/*\/chats/<uuid>.jsonl`. */
  files(): QwenFile[] {
    return chatFiles(join(this.root(), 'projects'), (key, name) => {
      const m = QWEN_SESSION_NAME.exec(name);
      return m ? { key, nameId: m[1]!.toLowerCase() } : null;
    });
  }

  /** A file parsed, or null (unreadable, not a session). */
  read(file: string): QwenSession | null {
    try {
      return parseQwenSession(readFileSync(file, 'utf8'));
    } catch {
      return null;
    }
  }

  protected filesRoot(): string {
    return join(this.root(), 'projects');
  }

  protected readInfo(f: QwenFile): SessionInfo | null {
    const s = this.read(f.file);
    if (!s || !s.records.some(isPrompt)) return null;
    let first: string | null = null;
    let messages = 0;
    for (const r of s.records) {
      if (isPrompt(r)) {
        messages++;
        first ??= partsText(r.message!.parts);
      } else if (r.type === 'assistant' && r.message && partsText(r.message.parts).trim()) messages++;
    }
    const firstPrompt = oneLine(first, TITLE_MAX);
    return this.sessionInfo(f, {
      id: s.sessionId, projectKey: f.key, cwd: s.cwd, title: oneLine(s.title, TITLE_MAX) ?? firstPrompt, firstPrompt,
      lastTimestamp: s.lastTimestamp, messages, messagesExact: true, gitBranch: null,
    });
  }

  protected mayHold(f: QwenFile, id: string): boolean {
    return f.nameId === id.toLowerCase();
  }

  protected override lineCheck(needle: string): LineCheck {
    return (o) => {
      if ((o.type !== 'user' && o.type !== 'assistant') || !isObj(o.message) || !Array.isArray(o.message.parts)) return null;
      const t = partsText(o.message.parts.filter(isObj));
      if (!t.toLowerCase().includes(needle)) return null;
      return { role: o.type === 'user' ? 'user' : 'assistant', snippet: snippet(t, needle) };
    };
  }

  protected transcript(info: SessionInfo): TranscriptEntry[] {
    const s = this.read(info.file);
    if (!s) throw new RoamError(ErrorCodes.SESSION_UNREADABLE, `${info.file} is not a Qwen Code session`, { file: info.file });
    return qwenTranscript(s);
  }

  /** `qwen -r <id>` (`--resume`), from the session's directory. */
  resumeCommand(id: string, opts: { cwd?: string } = {}): ToolCommand {
    return withCwd(['qwen', '-r', id], opts.cwd);
  }

  /** Qwen Code 0.15 has no fork from the command line. */
  forkCommand(id: string, _opts: { cwd?: string } = {}): ToolCommand {
    throw new RoamError(ErrorCodes.USAGE, `Qwen Code 0.15 has no fork from the command line; \`roam resume ${id} --in claude\` (or codex, gemini) continues it as a new session of another tool`, { id, tool: 'qwen' });
  }

  /** Qwen Code 0.15 cannot name a session when it starts. */
  newCommand(name: string, _opts: { cwd?: string } = {}): ToolCommand {
    throw new RoamError(ErrorCodes.USAGE, `qwen cannot name a new session from the command line: run \`qwen\` and start with "${name}"`, { tool: 'qwen' });
  }

  /** Another directory than the recorded one: continued there as a new session (continue.ts). */
  continueIn(session: SessionInfo, dir: string, opts: { dryRun?: boolean } = {}): Promise<{ session: SessionInfo; lines: string[] } | null> {
    return continueQwen(this, session, dir, opts);
  }

  /**
   * Before `qwen -r` in `dir`: the CLI resumes a session only from the directory its first record
   * names (its key and its cwd); from elsewhere it says "No saved session found with ID …" (measured,
   * docs/tools/qwen.md). roam resume first continues it as a new session when this device's directory
   * for its project is another (continueIn); what still names another directory is refused, saying where.
   */
  async prepareResume(session: SessionInfo, dir: string): Promise<string[]> {
    if (session.cwd !== null && session.cwd !== dir) {
      throw new RoamError(ErrorCodes.USAGE, `Qwen Code resumes session ${session.id} only from ${session.cwd}, the directory it was recorded in (here: ${dir}); run roam resume there; \`roam resume ${session.id}\` here continues it as a new Qwen Code session of this directory (so do \`roam share\` then \`roam import\`), and \`roam resume ${session.id} --in claude\` (or codex, gemini) continues it here in another tool`, { id: session.id, tool: 'qwen' });
    }
    return [];
  }
}
