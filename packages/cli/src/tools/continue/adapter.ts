/**
 * The Continue CLI's session adapter (docs/tools/continue.md; measured with `@continuedev/cli`
 * 1.5.47): a session is `sessions/<uuid>.json` under its home (session.ts). `cn --resume` resumes
 * the session whose file is the newest by mtime (its source: the sessions directory sorted by
 * mtime; measured): roam touches the file right before it runs it (beforeRun). `cn --fork <id>` copies
 * a session into a new one.
 */
import { readdirSync, readFileSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import { oneLine, withCwd } from '../../sessions/paths.js';
import { Needle, pool, snippet } from '../../sessions/scan.js';
import type { SearchHit, SearchOptions, SessionInfo, ToolCommand, TranscriptEntry } from '../../sessions/types.js';
import { BaseAdapter, type About, type FoundFile, type LineCheck } from '../common/base.js';
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
    const out: ContinueFile[] = [];
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return out;
    }
    for (const name of names) {
      const m = CONTINUE_SESSION_NAME.exec(name);
      if (!m) continue;
      const file = join(dir, name);
      const st = statSync(file, { throwIfNoEntry: false });
      if (st?.isFile()) out.push({ file, size: st.size, mtimeMs: st.mtimeMs, id: m[1]!.toLowerCase() });
    }
    return out;
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

  /** Unused: a session is one JSON document, searched parsed (search below). */
  protected lineCheck(): LineCheck {
    return () => null;
  }

  override async search(text: string, opts: SearchOptions = {}): Promise<SearchHit[]> {
    if (!text) throw new RoamError(ErrorCodes.USAGE, 'nothing to search for');
    const needle = text.toLowerCase();
    const limit = opts.limit ?? Infinity;
    const sessions = await this.list(opts.project === undefined ? {} : { project: opts.project });
    const re = new Needle(text);
    let found = 0;
    const per = await pool(sessions, opts.concurrency ?? 8, async (session) => {
      let raw: Buffer;
      try {
        raw = readFileSync(session.file);
      } catch {
        return [];
      }
      if (!re.test(raw)) return [];
      const hits: SearchHit[] = [];
      (parseContinueSession(raw.toString('utf8'))?.messages ?? []).forEach((m, i) => {
        if (hits.length < limit && m.text.toLowerCase().includes(needle)) hits.push({ session, line: i + 1, role: m.role, snippet: snippet(m.text, needle) });
      });
      found += hits.length;
      return hits;
    }, () => found >= limit);
    return per.flatMap((h) => h ?? []).slice(0, limit);
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
