/** A conversation (any tool's TranscriptEntry list) as markdown, for `roam show --md` and `roam export`. */
import type { SessionInfo, TranscriptEntry } from './types.js';
import { promptText } from '../tools/claude/meta.js';

const RESULT_LINES = 20;
const LINE_CHARS = 400;
const INPUT_CHARS = 400;

/** The conversation as markdown: `## User` / `## Assistant` sections, tool calls and results fenced and cut short. */
export function renderMarkdown(info: SessionInfo, entries: readonly TranscriptEntry[]): string {
  const out: string[] = [`# ${info.title ?? info.id}`, ''];
  out.push(`- session: ${info.id} (${info.tool})`);
  if (info.cwd) out.push(`- directory: ${info.cwd}`);
  if (info.gitBranch) out.push(`- branch: ${info.gitBranch}`);
  out.push(`- last activity: ${info.lastActivity}`);
  out.push(`- file: ${info.file}`);
  let section: 'user' | 'assistant' | null = null;
  for (const e of entries) {
    if (e.meta) continue;
    const onlyResults = e.role === 'user' && !e.text.trim() && e.toolResults.length > 0;
    if (!onlyResults && e.role !== section) {
      section = e.role;
      out.push('', e.role === 'user' ? '## User' : '## Assistant');
    }
    // A slash command's expansion reads as the command the user typed.
    const text = e.role === 'user' && e.text.includes('<command-name>') ? (promptText(e.text) ?? e.text) : e.text;
    if (text.trim()) out.push('', text.trim());
    for (const u of e.toolUses) {
      let input = JSON.stringify(u.input) ?? 'null';
      if (input.length > INPUT_CHARS) input = `${input.slice(0, INPUT_CHARS)}… (${input.length} chars)`;
      out.push('', fenced(input, `tool_use ${u.name}`));
    }
    for (const r of e.toolResults) out.push('', fenced(cutLines(r.text), r.isError ? 'tool_result error' : 'tool_result'));
  }
  return `${out.join('\n')}\n`;
}

function cutLines(text: string): string {
  const lines = text.replace(/\n+$/, '').split('\n');
  const kept = lines.slice(0, RESULT_LINES).map((l) => (l.length > LINE_CHARS ? `${l.slice(0, LINE_CHARS)}…` : l));
  if (lines.length > RESULT_LINES) kept.push(`… (${lines.length - RESULT_LINES} more lines)`);
  return kept.join('\n');
}

/** A code fence longer than any run of backticks inside. */
function fenced(body: string, info: string): string {
  const longest = Math.max(0, ...(body.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${info}\n${body}\n${fence}`;
}
