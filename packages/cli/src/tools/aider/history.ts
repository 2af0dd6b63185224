/**
 * Aider's chat history, `.aider.chat.history.md` at the root of the project (its git root), read as
 * Aider itself reads it back for `--restore-chat-history` (split_chat_history_markdown in
 * aider/utils.py; docs/tools/aider.md): a line `# …` is a heading (each run starts with `# aider chat
 * started at YYYY-MM-DD HH:MM:SS`), a line `#### …` is the user's input (one such line per line of
 * it, ending in two spaces), a line `> …` is the tool's own output (commands, notices: not sent to
 * the model), and every other line is the model's answer.
 */
import type { TranscriptEntry } from '../../sessions/types.js';

export const AIDER_HISTORY = '.aider.chat.history.md';

export interface AiderMessage {
  readonly role: 'user' | 'assistant';
  readonly text: string;
  /** The start of the run it belongs to (local time as Aider wrote it, ISO without zone), or null. */
  readonly run: string | null;
  /** 1-based line of its first line. */
  readonly line: number;
}

const STARTED = /^# aider chat started at (\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)\s*$/;

/** The messages of a history, in order, and the start of each run. */
export function parseAider(text: string): { messages: AiderMessage[]; runs: string[] } {
  const messages: AiderMessage[] = [];
  const runs: string[] = [];
  let role: 'user' | 'assistant' | 'tool' | null = null;
  let buf: string[] = [];
  let at = 0;
  let run: string | null = null;
  const flush = (): void => {
    const t = buf.join('\n').trim();
    if ((role === 'user' || role === 'assistant') && t) messages.push({ role, text: t, run, line: at });
    buf = [];
    role = null;
  };
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    const started = STARTED.exec(line);
    let kind: 'user' | 'assistant' | 'tool' | 'heading';
    let body = line;
    if (line.startsWith('# ')) kind = 'heading';
    else if (line.startsWith('> ')) kind = 'tool';
    else if (line.startsWith('#### ')) {
      kind = 'user';
      body = line.slice(5).replace(/ {2}$/, '');
    } else kind = 'assistant';
    if (kind === 'heading') {
      if (started) {
        flush();
        run = `${started[1]}T${started[2]}`;
        runs.push(run);
      }
      return;
    }
    if (kind !== role) {
      flush();
      role = kind;
      at = i + 1;
    }
    buf.push(body);
  });
  flush();
  return { messages, runs };
}

/** The conversation as `roam show` prints it. */
export function aiderTranscript(messages: readonly AiderMessage[]): TranscriptEntry[] {
  return messages.map((m) => ({ role: m.role, uuid: null, timestamp: m.run, text: m.text, toolUses: [], toolResults: [] }));
}
