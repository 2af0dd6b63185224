/**
 * Codex CLI's session adapter (docs/CODEX.md).
 *
 * Root: `$CODEX_HOME`, else `~/.codex`. A session is a rollout file,
 * `sessions/YYYY/MM/DD/rollout-<local time>-<uuid>.jsonl` (archived ones under `archived_sessions/`),
 * or the same compressed, `.jsonl.zst`: listed always, read only when this Node.js has zstd in zlib
 * (22.15+; Node 20 does not, and then the session is listed with a title that says so).
 *
 * The lines are read in rollout.ts. Titles: the thread's name (`/rename`, kept in `session_index.jsonl`), else the
 * first prompt.
 *
 * Codex has no project key: it files sessions by date and filters its picker by the recorded cwd,
 * so this adapter's `projectKey(path)` is the path, a session's projectKey is the directory it
 * started in (session_meta's cwd), its cwd the last one recorded (turn_context), and
 * `list({project})` matches either.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import { oneLine, withCwd } from '../../sessions/paths.js';
import { snippet, type Needle, type LineMatch, type ScanBuffer } from '../../sessions/scan.js';
import type { SessionInfo, ToolCommand, TranscriptEntry } from '../../sessions/types.js';
import { codexNotCarried } from './carry.js';
import { BaseAdapter, toolHome, type About, type FoundFile, type LineCheck, type LineHit } from '../common/base.js';
import type { AdapterOptions } from '../types.js';
import {
  CODEX_EXACT_LIMIT, ROLLOUT_NAME, TITLE_MAX, ZSTD_TITLE, codexTranscript, hasZstd, historyBase, isContextMessage, messageOf, parse,
  readCodexMeta, scanText, windows, type CodexMeta, type Line, type ZstdZlib,
} from './rollout.js';
import * as zlib from 'node:zlib';

export interface CodexAdapterOptions extends AdapterOptions {
  /** Pretend zstd is (un)available (tests). */
  readonly zstd?: boolean;
}

export interface RolloutFile extends FoundFile {
  readonly compressed: boolean;
  /** The uuid in the file's name. */
  readonly nameId: string;
}

/** Codex to the base adapter: its home is `$CODEX_HOME`, else `~/.codex`. */
export const CODEX: About = { label: 'Codex', cacheName: 'sessions-cache-codex.json', home: (env) => toolHome(env, 'CODEX_HOME', '.codex') };

export class CodexAdapter extends BaseAdapter<RolloutFile> {
  readonly tool = 'codex' as const;
  protected readonly about = CODEX;

  constructor(private readonly opts: CodexAdapterOptions = {}) {
    super(opts);
  }


  /** Codex has no project key: a session belongs to the directory it recorded as its cwd. */
  projectKey(path: string): string {
    return path;
  }

  private zstd(): boolean {
    return this.opts.zstd ?? hasZstd();
  }

  /** The rollout files under `sessions/` and `archived_sessions/` (not read). */
  files(): RolloutFile[] {
    const out: RolloutFile[] = [];
    const root = this.root();
    for (const top of ['sessions', 'archived_sessions']) collect(join(root, top), 0, out);
    return out;
  }

  /** The bytes of a rollout, decompressed. Throws ROAM_SESSION_UNREADABLE for `.zst` without zstd. */
  readRollout(file: string): Buffer {
    const raw = readFileSync(file);
    if (!file.endsWith('.zst')) return raw;
    const z = (zlib as unknown as ZstdZlib).zstdDecompressSync;
    if (!this.zstd() || !z) {
      throw new RoamError(ErrorCodes.SESSION_UNREADABLE, `${file} is compressed with zstd, which this Node.js (${process.version}) cannot read; Node 22.15 or newer can (or: zstd -d it next to the original)`, { file });
    }
    return z(raw);
  }

  /**
   * For `roam share`: the transcript's bytes. A fork written by Codex 0.16x keeps its history in the
   * rollout it was forked from (`history_base`), which a bundle does not carry: refused.
   */
  readTranscript(session: SessionInfo): Buffer {
    const bytes = this.readRollout(session.file);
    const base = historyBase(bytes.toString('utf8', 0, Math.min(bytes.length, 1024 * 1024)));
    if (base) {
      throw new RoamError(ErrorCodes.USAGE, `Codex session ${session.id} is a fork of ${base.threadId} and keeps the history before the fork in that session's rollout, which a bundle does not carry; share ${base.threadId} instead`, { id: session.id, parent: base.threadId });
    }
    return bytes;
  }

  /** Thread names (`/rename`) by id: the last entry of each id in `session_index.jsonl`. */
  private names(): Map<string, string> {
    const names = new Map<string, string>();
    let text: string;
    try {
      text = readFileSync(join(this.root(), 'session_index.jsonl'), 'utf8');
    } catch {
      return names;
    }
    for (const line of text.split('\n')) {
      const o = parse(line) as { id?: unknown; thread_name?: unknown } | null;
      if (o && typeof o.id === 'string' && typeof o.thread_name === 'string') {
        if (o.thread_name.trim()) names.set(o.id, o.thread_name);
        else names.delete(o.id);
      }
    }
    return names;
  }

  protected filesRoot(): string {
    return this.root();
  }

  protected readInfo(f: RolloutFile): SessionInfo | null {
    let meta: CodexMeta | null;
    if (f.compressed && !this.zstd()) {
      meta = { id: f.nameId, cwd: null, startCwd: null, firstPrompt: null, lastTimestamp: null, messages: 0, messagesExact: false, gitBranch: null };
    } else {
      try {
        if (f.compressed || f.size <= CODEX_EXACT_LIMIT) meta = readCodexMeta(this.readRollout(f.file).toString('utf8'), f.nameId, true);
        else meta = readCodexMeta(windows(f.file, f.size), f.nameId, false, f.size);
      } catch {
        return null; // vanished or unreadable since the listing
      }
    }
    if (!meta) return null;
    return this.sessionInfo(f, { ...meta, projectKey: meta.startCwd ?? meta.cwd ?? '-', title: f.compressed && !this.zstd() ? ZSTD_TITLE : meta.firstPrompt });
  }

  /** Titles from the thread names (`/rename`), read once per batch. */
  protected override decorator(): (info: SessionInfo) => SessionInfo {
    const names = this.names();
    return (info) => {
      const name = names.get(info.id);
      return name ? { ...info, title: oneLine(name, TITLE_MAX) } : info;
    };
  }

  /** The id is nearly always the uuid in the file's name. */
  protected mayHold(f: RolloutFile, id: string): boolean {
    return f.nameId.toLowerCase() === id.toLowerCase();
  }

  protected override searchable(f: RolloutFile): boolean {
    return !f.compressed || this.zstd();
  }

  protected override lineCheck(needle: string): LineCheck {
    return (o) => {
      const m = messageOf(o as Line);
      if (!m || (m.role !== 'user' && m.role !== 'assistant') || (m.role === 'user' && isContextMessage(m.text))) return null;
      if (!m.text.toLowerCase().includes(needle)) return null;
      return { role: m.role, snippet: snippet(m.text, needle) };
    };
  }

  /** A `.zst` rollout is decompressed and scanned whole. */
  protected override async scanOne(f: RolloutFile, needle: Needle, check: LineCheck, limit: number, buffers: ScanBuffer[]): Promise<LineMatch<LineHit>[]> {
    return f.compressed ? scanText(this.readRollout(f.file).toString('utf8'), check, limit) : super.scanOne(f, needle, check, limit, buffers);
  }

  protected transcript(info: SessionInfo): Promise<TranscriptEntry[]> {
    return this.withHistory(this.readRollout(info.file).toString('utf8'), 0);
  }

  /**
   * A rollout's conversation, preceded by the history it inherits: a fork made by Codex 0.16x
   * starts with `session_meta.history_base` = {thread_id, end_byte_offset}, the first bytes of the
   * rollout it was forked from (itself perhaps a fork), which Codex replays before the fork's own lines.
   */
  private async withHistory(text: string, depth: number): Promise<TranscriptEntry[]> {
    const own = codexTranscript(text);
    const base = historyBase(text);
    if (!base || depth >= 16) return own;
    const parent = await this.find(base.threadId);
    if (!parent) {
      return [{ role: 'user', uuid: null, timestamp: null, text: `[the history before this fork is in Codex session ${base.threadId}, which is not on this machine]`, toolUses: [], toolResults: [], meta: true }, ...own];
    }
    let bytes = this.readRollout(parent.file);
    if (base.endByteOffset !== null) bytes = bytes.subarray(0, base.endByteOffset);
    return [...(await this.withHistory(bytes.toString('utf8'), depth + 1)), ...own];
  }

  /** What `roam resume` cannot carry here (carry.ts). */
  notCarried(session: SessionInfo, dir: string): string[] {
    return codexNotCarried(session.cwd, dir);
  }

  resumeCommand(id: string, opts: { cwd?: string } = {}): ToolCommand {
    return withCwd(['codex', 'resume', id], opts.cwd);
  }

  /** `codex fork <id>` (Codex CLI 0.169: "Fork a previous interactive session"). */
  forkCommand(id: string, opts: { cwd?: string } = {}): ToolCommand {
    return withCwd(['codex', 'fork', id], opts.cwd);
  }

  /**
   * Codex has no option to name a session when it starts (0.169: names are given inside, with
   * `/rename`), so a named new session cannot be started for it.
   */
  newCommand(name: string, _opts: { cwd?: string } = {}): ToolCommand {
    throw new RoamError(ErrorCodes.USAGE, `codex cannot name a new session from the command line: run \`codex\` and type /rename ${name}`, { tool: 'codex' });
  }
}

/** Rollout files under `dir` (YYYY/MM/DD folders, or flat), at most 4 levels deep. */
function collect(dir: string, depth: number, out: RolloutFile[]): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const p = join(dir, name);
    const m = ROLLOUT_NAME.exec(name);
    if (m) {
      const st = statSync(p, { throwIfNoEntry: false });
      if (st?.isFile()) out.push({ file: p, size: st.size, mtimeMs: st.mtimeMs, compressed: m[3] !== undefined, nameId: m[2]! });
    } else if (depth < 4 && !name.includes('.')) {
      const st = statSync(p, { throwIfNoEntry: false });
      if (st?.isDirectory()) collect(p, depth + 1, out);
    }
  }
}
