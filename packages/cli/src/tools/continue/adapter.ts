/**
 * The Continue CLI's session adapter (docs/tools/continue.md; measured with `@continuedev/cli`
 * 1.5.47): a session is `sessions/<uuid>.json` under its home (session.ts). `cn --resume` resumes
 * the session whose file is the newest by mtime (its source: the sessions directory sorted by
 * mtime; measured): roam touches the file right before it runs it (beforeRun). `cn --fork <id>` copies
 * a session into a new one.
 */
import { readFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import { oneLine, withCwd } from '../../sessions/paths.js';
import type { SearchHit, SearchOptions, SessionInfo, ToolCommand, TranscriptEntry } from '../../sessions/types.js';
import { BaseAdapter, messageHits, type About, type FoundFile } from '../common/base.js';
import { filesIn } from '../common/files.js';
import { CONTINUE_SESSION_NAME, continueHome, continueTranscript, parseContinueSession, type ContinueSession } from './session.js';

const TITLE_MAX = 200;

export interface ContinueFile extends FoundFile {
  readonly id: string;
}

export const CONTINUE: About = { label: 'Continue CLI', cacheName: 'sessions-cache-continue.json', home: continueHome };

export class ContinueAdapter extends BaseAdapter<ContinueFile> {
  readonly tool = 'continue' as const;
  protected readonly about = CONTINUE;

  projectKey(path: string): string {
    return path;
  }

  files(): ContinueFile[] {
    const dir = this.filesRoot();
    return filesIn(dir, (name) => {
      const m = CONTINUE_SESSION_NAME.exec(name);
      return m ? { file: join(dir, name), extra: { id: m[1]!.toLowerCase() } } : null;
    });
  }

  protected filesRoot(): string {
    return join(this.root(), 'sessions');
  }

  private read(file: string): ContinueSession | null {
    try {
      return parseContinueSession(readFileSync(file, 'utf8'));
    } catch {
      return null;
    }
  }

  protected readInfo(f: ContinueFile): SessionInfo | null {
    const s = this.read(f.file);
    if (!s?.messages.length) return null;
    const first = s.messages.find((m) => m.role === 'user');
    const firstPrompt = oneLine(first?.text ?? null, TITLE_MAX);
    return this.sessionInfo(f, {
      id: s.sessionId, projectKey: s.cwd ?? '-', cwd: s.cwd, title: oneLine(s.title, TITLE_MAX) ?? firstPrompt, firstPrompt,
      lastTimestamp: null, messages: s.messages.filter((m) => m.text.trim()).length, messagesExact: true, gitBranch: null,
    });
  }

  protected mayHold(f: ContinueFile, id: string): boolean {
    return f.id === id.toLowerCase();
  }


  override async search(text: string, opts: SearchOptions = {}): Promise<SearchHit[]> {
    return this.searchParsed(text, opts, (raw, session, needle, limit) => messageHits(session, parseContinueSession(raw)?.messages ?? [], needle, limit));
  }

  protected transcript(info: SessionInfo): TranscriptEntry[] {
    const s = this.read(info.file);
    if (!s) throw new RoamError(ErrorCodes.SESSION_UNREADABLE, `${info.file} is not a Continue CLI session`, { file: info.file });
    return continueTranscript(s);
  }

  /** `cn --resume`: the newest session file, which beforeRun makes this one. */
  resumeCommand(_id: string, opts: { cwd?: string } = {}): ToolCommand {
    return withCwd(['cn', '--resume'], opts.cwd);
  }

  /** `cn --fork <id>`: a new session holding this one's history. */
  forkCommand(id: string, opts: { cwd?: string } = {}): ToolCommand {
    return withCwd(['cn', '--fork', id], opts.cwd);
  }

  newCommand(name: string, _opts: { cwd?: string } = {}): ToolCommand {
    throw new RoamError(ErrorCodes.USAGE, `cn cannot name a new session from the command line: run \`cn\` and start with "${name}"`, { tool: 'continue' });
  }

  /** Right before `cn --resume`: the session's file made the newest (its mtime now), so that the CLI picks it. */
  async beforeRun(session: SessionInfo): Promise<string[]> {
    const now = new Date();
    utimesSync(session.file, now, now);
    return [];
  }
}
