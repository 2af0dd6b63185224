/**
 * Reading a Copilot CLI session (`session-state/<id>/events.jsonl`, docs/COPILOT.md) for
 * conversion: the main agent's events in file order, which is what `copilot --resume` rebuilds the
 * model's history from (measured: user.message → user, assistant.message with toolRequests →
 * assistant with tool_calls, tool.execution_complete → tool).
 *
 *   user.message              user text (`content`, as typed; `transformedContent` adds the CLI's
 *                             `<current_datetime>` and is not carried)
 *   assistant.message         assistant text; each of `toolRequests` a call (`bash {command}` is
 *                             the shell call)
 *   tool.execution_complete   the call's output (`result.content`, else `error.message`;
 *                             `success: false` an error)
 *   session.compaction_complete  its `summaryContent` as a hidden user note, after the history
 *                             it summarises (carried whole)
 *
 * Dropped: `system.message` (Copilot's instructions; the target sends its own), reasoning,
 * attachments (a note stands where they were), sub-agents' events (`agentId`), and bookkeeping
 * (turns, usage, model calls, session start/resume/shutdown).
 */
import { copilotEvents, isSubagent, resultText, userText } from './events.js';
import { Notes, type Conversation, type Item, type ShellCommand } from '../../convert/ir.js';

/** Copilot CLI's shell tool (1.0.102 on Linux and macOS: `bash`; on Windows: `powershell`) takes `{command, description, …}`. */
export function copilotShell(name: string, args: unknown): ShellCommand | null {
  if ((name !== 'bash' && name !== 'powershell') || !args || typeof args !== 'object') return null;
  const command = (args as { command?: unknown }).command;
  return typeof command === 'string' ? { command } : null;
}

export function fromCopilot(text: string, id: string, notes: Notes): Conversation {
  const items: Item[] = [];
  let started: string | null = null;
  let model: string | null = null;
  let branch: string | null = null;
  let calls = 0;
  for (const e of copilotEvents(text)) {
    const ts = e.timestamp;
    if (e.type === 'session.start') {
      started = typeof e.data.startTime === 'string' ? e.data.startTime : ts;
      if (typeof e.data.selectedModel === 'string') model = e.data.selectedModel;
    }
    const ctx = e.data.context as { branch?: unknown } | undefined;
    if ((e.type === 'session.start' || e.type === 'session.resume') && ctx && typeof ctx.branch === 'string') branch = ctx.branch;
    if (isSubagent(e)) {
      if (e.type === 'user.message' || e.type === 'assistant.message' || e.type === 'tool.execution_complete') notes.add('subagent', "sub-agents' messages and tool calls (their own conversations): not carried");
      continue;
    }
    switch (e.type) {
      case 'user.message': {
        started ??= ts;
        const t = userText(e);
        if (Array.isArray(e.data.attachments) && e.data.attachments.length) {
          notes.add('attachment', 'attachments of user messages (files, images): not carried', e.data.attachments.length);
        }
        if (t.trim()) items.push({ type: 'text', role: 'user', text: t, ts });
        break;
      }
      case 'assistant.message': {
        if (typeof e.data.model === 'string') model = e.data.model;
        if (typeof e.data.reasoningText === 'string' || typeof e.data.reasoningOpaque === 'string' || typeof e.data.encryptedContent === 'string') {
          notes.add('reasoning', "the model's reasoning: not carried");
        }
        const t = typeof e.data.content === 'string' ? e.data.content : '';
        if (t.trim()) items.push({ type: 'text', role: 'assistant', text: t, ts });
        const reqs = Array.isArray(e.data.toolRequests) ? (e.data.toolRequests as Array<Record<string, unknown>>) : [];
        for (const r of reqs) {
          if (!r || typeof r !== 'object') continue;
          calls++;
          const name = typeof r.name === 'string' ? r.name : '?';
          let input: unknown = r.arguments ?? null;
          if (typeof input === 'string') {
            try {
              input = JSON.parse(input) as unknown;
            } catch {
              // kept as the string
            }
          }
          items.push({ type: 'call', id: typeof r.toolCallId === 'string' ? r.toolCallId : `call_roam_${calls}`, name, input, shell: copilotShell(name, input), ts });
        }
        break;
      }
      case 'tool.execution_complete':
        items.push({ type: 'result', id: typeof e.data.toolCallId === 'string' ? e.data.toolCallId : '', text: resultText(e.data), isError: e.data.success === false, ts });
        break;
      case 'session.compaction_complete':
        if (typeof e.data.summaryContent === 'string' && e.data.summaryContent.trim()) {
          notes.add('compaction', 'compactions: the history before each is carried whole, its summary as a hidden user note after it');
          items.push({ type: 'text', role: 'user', text: e.data.summaryContent, meta: true, ts });
        }
        break;
      case 'system.message':
        notes.add('system', "Copilot CLI's system messages (its instructions; the target tool sends its own)");
        break;
      default:
        break;
    }
  }
  return { tool: 'copilot', id, items, started, model, gitBranch: branch };
}
