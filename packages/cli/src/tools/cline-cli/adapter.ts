/**
 * The Cline CLI's session adapter (docs/tools/cline.md, "The Cline CLI"; measured with `cline`
 * 3.0.65): a session is `~/.cline/data/sessions/<id>/<id>.messages.json` beside its metadata
 * `<id>.json` (session.ts). `cline --id <id>` resumes it, in the CLI's interactive terminal UI only
 * (it refuses `--json` and a prompt with an id, and needs a terminal); it finds the session from
 * these two files alone, with no entry in its SQLite index (`data/db/sessions.db`, measured).
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import { oneLine, withCwd } from '../../sessions/paths.js';
import type { SearchHit, SearchOptions, SessionInfo, ToolCommand, TranscriptEntry } from '../../sessions/types.js';
import { BaseAdapter, messageHits, type About, type FoundFile } from '../common/base.js';
import { filesIn } from '../common/files.js';
import { taskTranscript, textOf, type TaskMessage } from '../common/tasks.js';
import { CLINE_CLI_ID, clineCliHome, parseClineCli, parseClineCliMeta } from './session.js';

const TITLE_MAX = 200;

export interface ClineCliFile extends FoundFile {
  readonly id: string;
}

export const CLINE_CLI: About = { label: 'Cline CLI', cacheName: 'sessions-cache-cline-cli.json', home: clineCliHome };

export class ClineCliAdapter extends BaseAdapter<ClineCliFile> {
  readonly tool = 'cline-cli' as const;
  protected readonly about = CLINE_CLI;

  /** A session has no project key: its directory as recorded. */
  projectKey(path: string): string {
    return path;
  }

  /** `data/sessions/<id>/<id>.messages.json`. */
  files(): ClineCliFile[] {
    const dir = this.filesRoot();
    return filesIn(dir, (id) => (CLINE_CLI_ID.test(id) ? { file: join(dir, id, `${id}.messages.json`), extra: { id } } : null));
  }

  protected filesRoot(): string {
    return join(this.root(), 'data', 'sessions');
  }

  private read(file: string): TaskMessage[] | null {
    try {
      return parseClineCli(readFileSync(file, 'utf8'));
    } catch {
      return null;
    }
  }

  protected readInfo(f: ClineCliFile): SessionInfo | null {
    const msgs = this.read(f.file);
    if (!msgs?.length) return null;
    let metaText: string | null = null;
    try {
      metaText = readFileSync(join(this.filesRoot(), f.id, `${f.id}.json`), 'utf8');
    } catch {
      metaText = null;
    }
    const meta = parseClineCliMeta(metaText);
    const first = msgs.find((m) => m.role === 'user');
    const firstPrompt = oneLine(first ? textOf(first.blocks, 'user') : null, TITLE_MAX);
    const messages = msgs.filter((m) => textOf(m.blocks, m.role).trim()).length;
    const last = [...msgs].reverse().find((m) => m.ts)?.ts ?? meta.startedAt;
    return this.sessionInfo(f, {
      id: f.id, projectKey: meta.cwd ?? '-', cwd: meta.cwd, title: oneLine(meta.title, TITLE_MAX) ?? firstPrompt, firstPrompt,
      lastTimestamp: last, messages, messagesExact: true, gitBranch: null,
    });
  }

  protected mayHold(f: ClineCliFile, id: string): boolean {
    return f.id === id;
  }


  override async search(text: string, opts: SearchOptions = {}): Promise<SearchHit[]> {
    return this.searchParsed(text, opts, (raw, session, needle, limit) => messageHits(session, (parseClineCli(raw) ?? []).map((m) => ({ role: m.role, text: textOf(m.blocks, m.role) })), needle, limit));
  }

  protected transcript(info: SessionInfo): TranscriptEntry[] {
    const msgs = this.read(info.file);
    if (!msgs) throw new RoamError(ErrorCodes.SESSION_UNREADABLE, `${info.file} is not a Cline CLI session`, { file: info.file });
    return taskTranscript(msgs);
  }

  /** `cline --id <id>`: the interactive terminal UI, the session's history on screen, waiting for a prompt. */
  resumeCommand(id: string, opts: { cwd?: string } = {}): ToolCommand {
    return withCwd(['cline', '--id', id], opts.cwd);
  }

  /**
   * Before `cline --id`: the CLI reads a session's messages from the path its metadata names
   * (`messages_path`, measured), which is the device's that wrote it last. It is pointed at this
   * device's copy when it names another: right before `roam resume` runs the CLI only (beforeRun),
   * never when roamd registers an arriving session, which would carry the change back at once.
   */
  async beforeRun(session: SessionInfo): Promise<string[]> {
    const metaFile = join(dirname(session.file), `${session.id}.json`);
    let meta: Record<string, unknown>;
    try {
      const v = JSON.parse(readFileSync(metaFile, 'utf8')) as unknown;
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return [];
      meta = v as Record<string, unknown>;
    } catch {
      throw new RoamError(ErrorCodes.SESSION_UNREADABLE, `${metaFile}, the Cline CLI's metadata of session ${session.id}, is missing or unreadable: the CLI cannot resume the session without it`, { file: metaFile });
    }
    if (meta.messages_path === session.file) return [];
    const tmp = `${metaFile}.roam-${process.pid}`;
    writeFileSync(tmp, `${JSON.stringify({ ...meta, messages_path: session.file }, null, 2)}\n`);
    renameSync(tmp, metaFile);
    return [`pointed the Cline CLI session's messages_path at ${session.file}`];
  }

  /** Cline CLI 3.0 has no fork from the command line. */
  forkCommand(id: string, _opts: { cwd?: string } = {}): ToolCommand {
    throw new RoamError(ErrorCodes.USAGE, `the Cline CLI 3.0 has no fork from the command line; \`roam resume ${id} --in claude\` (or codex, gemini) continues it as a new session of another tool`, { id, tool: 'cline-cli' });
  }

  /** Cline CLI 3.0 cannot name a session when it starts. */
  newCommand(name: string, _opts: { cwd?: string } = {}): ToolCommand {
    throw new RoamError(ErrorCodes.USAGE, `cline cannot name a new session from the command line: run \`cline\` and start with "${name}"`, { tool: 'cline-cli' });
  }
}
