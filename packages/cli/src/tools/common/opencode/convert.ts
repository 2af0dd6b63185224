/**
 * Converting to and from an OpenCode-family session (convert/format.ts), through its roam-owned
 * log (log.ts): reading takes the latest version of each row; writing makes a new log (a session
 * row, one message row per text, its text part), which `register` brings into the database here
 * through the tool's own import (materialize.ts).
 *
 * Read: user text parts → user texts; assistant text parts → assistant texts; `tool` parts → a
 * call and its result (`bash {command}` the shell call). Dropped: reasoning, files, snapshots,
 * patches, step markers, synthetic texts (the tool's own notes).
 * Written: texts only; each call of the source becomes a text note in the assistant's message
 * (convert/tools.ts summary), since OpenCode replays a tool part only with its own tool state.
 */
import { join } from 'node:path';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import type { Format } from '../../../convert/format.js';
import { Notes, TOOL_LABEL, type CallItem, type Conversation, type Item, type ResultItem } from '../../../convert/ir.js';
import { summary } from '../../../convert/tools.js';
import type { OpencodeFamilyAdapter } from './adapter.js';
import { logDir, type Flavor } from './family.js';
import { headLine, parseLog, partsByMessage, ROAM_PROVIDER, rowLine } from './log.js';
import { materialize } from './materialize.js';

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

export function fromLog(tool: string, text: string, id: string, notes: Notes): Conversation {
  const s = parseLog(text);
  const parts = partsByMessage(s);
  const items: Item[] = [];
  let model: string | null = null;
  for (const m of s.messages) {
    const data = obj(m.data);
    const role = data.role === 'user' ? 'user' : data.role === 'assistant' ? 'assistant' : null;
    if (!role) continue;
    if (role === 'assistant' && typeof data.modelID === 'string') model = data.modelID;
    const ts = typeof m.time_created === 'number' ? new Date(m.time_created).toISOString() : null;
    for (const p of parts.get(String(m.id)) ?? []) {
      const d = obj(p.data);
      if (d.type === 'text' && typeof d.text === 'string') {
        if (d.synthetic === true || d.ignored === true) notes.add('synthetic', `${TOOL_LABEL[tool] ?? tool}'s own notes in the conversation: not carried`);
        else if (d.text.trim()) items.push({ type: 'text', role, text: d.text, ts });
      } else if (d.type === 'tool') {
        const state = obj(d.state);
        const name = typeof d.tool === 'string' ? d.tool : '?';
        const callId = typeof d.callID === 'string' ? d.callID : String(p.id);
        const input = state.input ?? null;
        const command = obj(input).command;
        items.push({ type: 'call', id: callId, name, input, shell: name === 'bash' && typeof command === 'string' ? { command } : null, ts });
        const output = typeof state.output === 'string' ? state.output : typeof state.error === 'string' ? state.error : null;
        if (output !== null) items.push({ type: 'result', id: callId, text: output, isError: state.status === 'error', ts });
      } else if (d.type === 'reasoning') notes.add('reasoning', "the model's reasoning: not carried");
      else if (d.type === 'file') notes.add('file', 'files attached to messages: not carried');
    }
  }
  const started = typeof s.firstSession?.time_created === 'number' ? new Date(s.firstSession.time_created).toISOString() : (items[0]?.ts ?? null);
  return { tool, id, items, started, model, gitBranch: null };
}

/** The converted session's id as the tool's: `ses_` and the derived UUID's hex digits. */
export function sessionIdOf(uuid: string): string {
  return uuid.startsWith('ses_') ? uuid : `ses_${uuid.replace(/-/g, '')}`;
}

export function toLog(flavor: Flavor, conv: Conversation, opts: { id: string; cwd: string; fallbackTime: string }, notes: Notes): string {
  const id = sessionIdOf(opts.id);
  const base = Date.parse(conv.started ?? opts.fallbackTime) || Date.now();
  const from = TOOL_LABEL[conv.tool] ?? conv.tool;
  const results = new Map(conv.items.filter((i): i is ResultItem => i.type === 'result').map((r) => [r.id, r]));
  const texts: Array<{ role: 'user' | 'assistant'; text: string }> = [];
  for (const it of conv.items) {
    if (it.type === 'text') {
      const last = texts[texts.length - 1];
      if (last && last.role === it.role) last.text += `\n\n${it.text}`;
      else texts.push({ role: it.role, text: it.text });
    } else if (it.type === 'call') {
      notes.add('tool-call', `tool calls: carried as text notes in the assistant's message`, 1, it.name);
      const note = summary(it as CallItem, results.get(it.id) ?? null, from as 'Claude Code');
      const last = texts[texts.length - 1];
      if (last && last.role === 'assistant') last.text += `\n\n${note}`;
      else texts.push({ role: 'assistant', text: note });
    }
  }
  const model = { providerID: ROAM_PROVIDER, modelID: conv.model ?? from };
  let t = base;
  const session = {
    id, project_id: 'global', workspace_id: null, parent_id: null, slug: 'roam-converted', directory: opts.cwd, path: null,
    title: `Continued from ${from} session ${conv.id}`, version: flavor.version, share_url: null, summary_additions: null, summary_deletions: null,
    summary_files: null, summary_diffs: null, metadata: null, cost: 0, tokens_input: 0, tokens_output: 0, tokens_reasoning: 0, tokens_cache_read: 0,
    tokens_cache_write: 0, revert: null, permission: null, agent: null, model: null, time_created: base, time_updated: base + texts.length, time_compacting: null, time_archived: null,
  };
  const lines = [headLine(flavor.name, id, flavor.schemas[0]!), rowLine('session', session)];
  let parent: string | null = null;
  texts.forEach((x, n) => {
    t = base + n;
    const mid = `msg_roam${id.slice(4, 16)}${String(n).padStart(6, '0')}`;
    const data = x.role === 'user'
      ? { role: 'user', time: { created: t }, agent: 'build', model }
      : { role: 'assistant', parentID: parent ?? mid, mode: 'build', agent: 'build', path: { cwd: opts.cwd, root: opts.cwd }, cost: 0, tokens: { input: 0, output: 0, reasoning: 0, cache: { read: 0, write: 0 } }, modelID: model.modelID, providerID: model.providerID, time: { created: t, completed: t }, finish: 'stop' };
    if (x.role === 'user') parent = mid;
    lines.push(rowLine('message', { id: mid, session_id: id, time_created: t, time_updated: t, data }, x.role));
    lines.push(rowLine('part', { id: `prt_roam${id.slice(4, 16)}${String(n).padStart(6, '0')}`, message_id: mid, session_id: id, time_created: t, time_updated: t, data: { type: 'text', text: x.text } }, x.role));
  });
  return lines.join('\n') + '\n';
}

/** The conversion format of a flavor. */
export function familyFormat(flavor: Flavor): Format<OpencodeFamilyAdapter> {
  return {
    read: (text, id, notes) => fromLog(flavor.name, text, id, notes),
    write: (conv, opts, notes) => {
      if (flavor.captured) throw new RoamError(ErrorCodes.USAGE, `--in ${flavor.name}: ${flavor.label} sessions are captured (read-only); roam converts from them, not into them`);
      return toLog(flavor, conv, opts, notes);
    },
    idOf: sessionIdOf,
    transcriptPath: (target, id) => join(logDir(flavor, target.envOf()), `${sessionIdOf(id)}.jsonl`),
    register(written, target, env) {
      const file = join(logDir(flavor, env), `${sessionIdOf(written.id)}.jsonl`);
      return materialize(flavor, env, file, sessionIdOf(written.id), written.cwd);
    },
  };
}
