/**
 * Reading a Qwen Code session for conversion: the history the CLI sends on `qwen -r` (session.ts,
 * qwenHistory: the parentUuid chain, from the last compression on), as Gemini API contents:
 * user texts, the model's texts and `functionCall` parts, and the `functionResponse` parts that
 * answer them. `run_shell_command {command, directory?}` is the shell call; every other tool is
 * carried as text by the writers. Dropped here: thoughts, inline data (a placeholder stands in).
 */
import { shellQuote } from '../../convert/tools.js';
import { IMAGE_PLACEHOLDER, Notes, type Conversation, type Item, type ShellCommand } from '../../convert/ir.js';
import { isObj, parseQwenSession, qwenHistory, responseText } from './session.js';

/** Qwen Code's shell tool: `run_shell_command {command, is_background?, description?, directory?}`. */
export function qwenShell(name: string, args: unknown): ShellCommand | null {
  if (name !== 'run_shell_command' || !isObj(args) || typeof args.command !== 'string') return null;
  const dir = typeof args.directory === 'string' ? args.directory : '';
  return { command: dir ? `cd ${shellQuote(dir)} && ${args.command}` : args.command };
}

/** The conversation of a Qwen Code session file's text. */
export function fromQwen(text: string, id: string, notes: Notes): Conversation {
  const s = parseQwenSession(text);
  const items: Item[] = [];
  let model: string | null = null;
  let calls = 0;
  for (const turn of s ? qwenHistory(s) : []) {
    const ts = turn.timestamp;
    const role = turn.content.role === 'model' ? 'assistant' : 'user';
    if (turn.model) model = turn.model;
    let text = '';
    const flush = (): void => {
      if (text.trim()) items.push({ type: 'text', role, text, ts });
      text = '';
    };
    for (const p of turn.content.parts) {
      if (p.thought === true) {
        notes.add('thoughts', "the model's thoughts (reasoning summaries Qwen Code records): not carried");
        continue;
      }
      if (typeof p.text === 'string') text += p.text;
      else if (isObj(p.inlineData) || isObj(p.fileData)) {
        notes.add('image', 'images and files in messages (inline data): a text placeholder stands where each was');
        text += IMAGE_PLACEHOLDER;
      } else if (isObj(p.functionCall)) {
        flush();
        const f = p.functionCall;
        const name = typeof f.name === 'string' ? f.name : '?';
        items.push({ type: 'call', id: typeof f.id === 'string' ? f.id : `qwen_call_${++calls}`, name, input: f.args ?? null, shell: qwenShell(name, f.args), ts });
      } else if (isObj(p.functionResponse)) {
        flush();
        const r = p.functionResponse;
        const resp = r.response;
        items.push({ type: 'result', id: typeof r.id === 'string' ? r.id : `qwen_call_${calls}`, text: responseText(resp), isError: isObj(resp) && typeof resp.error === 'string' && typeof resp.output !== 'string', ts });
      }
    }
    flush();
  }
  return { tool: 'qwen', id, items, started: s?.startTime ?? items[0]?.ts ?? null, model, gitBranch: null };
}
