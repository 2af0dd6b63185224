/**
 * Session conversion between Claude Code and Codex (src/convert/, docs/CONVERT.md), on the real
 * sessions in the fixtures (MIT, fixtures/SOURCES.md and fixtures/codex/SOURCES.md) and on
 * generated ones: what each target format gets, that the result is a valid history for the
 * target's API (tool calls answered in place), what is reported as dropped, the round trip, and
 * the deterministic ids (a second conversion reuses the first; a grown one gets a new id).
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sandbox } from './support/sandbox.js';
import { bashCommands, CLAUDE_FIXTURES, claudeSource, CODEX_FIXTURE, convertFixture, DIR, FIX, homes, jsonl, kinds, type Obj } from './support/convert.js';
import { applyConversion, convertText, planConversion, resumeArgv } from '../src/convert/index.js';
import { SUMMARY_HEAD, argvCommand, codexShell } from '../src/convert/tools.js';
import { IMAGE_PLACEHOLDER } from '../src/tools/claude/source.js';
import { ClaudeAdapter, projectKey } from '../src/tools/claude/index.js';
import { CodexAdapter, codexTranscript } from '../src/tools/codex/index.js';
import { readTranscript } from '../src/tools/claude/transcript.js';
import type { TranscriptEntry } from '../src/sessions/types.js';
import { Session } from './fixtures/claude-lines.js';
import { Rollout } from './fixtures/codex/codex-lines.js';

const NEW_ID = '0b0b0b0b-1111-8222-9333-444455556666';

let scratch: string;
sandbox('roam-convert-', (dir) => {
  scratch = dir;
});


/** (role, text) of the entries with text, roam's tool notes and hidden Codex context left out. */
function texts(entries: readonly TranscriptEntry[]): Array<[string, string]> {
  return entries.filter((e) => e.text.trim() && !SUMMARY_HEAD.test(e.text) && !(e.meta && e.role === 'user' && /^<environment_context|^\[This conversation was continued/.test(e.text)))
    .map((e) => [e.role, e.text]);
}

function claudeFile(text: string): string {
  const f = join(scratch, `t-${Math.random().toString(36).slice(2)}.jsonl`);
  writeFileSync(f, text);
  return f;
}


/**
 * The messages Claude Code sends for a transcript written by roam: the lines form one chain;
 * assistant lines of one `message.id` are one message, consecutive user lines one message. Checks
 * what the API requires: user first, roles alternate, and every tool_use is answered by a
 * tool_result in the very next message (and no tool_result answers anything else).
 */
function claudeApi(text: string, id: string, cwd: string): Array<{ role: string; content: Obj[] }> {
  const lines = jsonl(text);
  const out: Array<{ role: string; content: Obj[]; mid?: string }> = [];
  let parent: string | null = null;
  for (const l of lines) {
    expect(l).toMatchObject({ parentUuid: parent, sessionId: id, cwd, isSidechain: false });
    expect(l.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    parent = l.uuid;
    const content: Obj[] = typeof l.message.content === 'string' ? [{ type: 'text', text: l.message.content }] : l.message.content;
    const prev = out[out.length - 1];
    if (l.type === 'assistant') {
      expect(l.message.content).toHaveLength(1);
      if (prev?.role === 'assistant' && prev.mid === l.message.id) prev.content.push(...content);
      else out.push({ role: 'assistant', content: [...content], mid: l.message.id });
    } else if (prev?.role === 'user') prev.content.push(...content);
    else out.push({ role: 'user', content: [...content] });
  }
  expect(out[0]?.role).toBe('user');
  out.forEach((m, i) => {
    if (i > 0) expect(m.role).not.toBe(out[i - 1]!.role);
    const uses = m.content.filter((b) => b.type === 'tool_use').map((b) => b.id as string);
    const answered = (out[i + 1]?.content ?? []).filter((b) => b.type === 'tool_result').map((b) => b.tool_use_id as string);
    if (m.role === 'assistant') expect(answered.sort()).toEqual([...uses].sort());
    for (const b of m.content) if (b.type === 'tool_use') expect(b.id).toMatch(/^[A-Za-z0-9_-]+$/);
  });
  return out;
}

/** The Codex items, checked: session_meta first; every function_call answered once, after it; no stray output. */
function codexItems(text: string, id: string, cwd: string): Obj[] {
  const lines = jsonl(text);
  expect(lines[0]).toMatchObject({ type: 'session_meta', payload: { id, cwd, originator: 'roam', source: 'cli' } });
  const items = lines.filter((l) => l.type === 'response_item').map((l) => l.payload as Obj);
  const open = new Set<string>();
  for (const p of items) {
    if (p.type === 'function_call') {
      expect(open.has(p.call_id)).toBe(false);
      expect(() => JSON.parse(p.arguments)).not.toThrow();
      open.add(p.call_id);
    } else if (p.type === 'function_call_output') {
      expect(open.delete(p.call_id)).toBe(true);
    }
  }
  expect([...open]).toEqual([]);
  for (const l of lines) expect(typeof l.timestamp).toBe('string');
  return items;
}


describe('Claude Code → Codex', () => {
  for (const name of CLAUDE_FIXTURES) {
    it(`the real session ${name.slice(0, 8)}: texts in order, Bash as exec_command, other tools as notes`, () => {
      const { source, r } = convertFixture(name, 'codex', NEW_ID);
      const items = codexItems(r.text, NEW_ID, DIR);
      // What Codex will replay, read back by roam's own Codex reader.
      const back = codexTranscript(r.text);
      expect(texts(back)).toEqual(texts(source));
      // Each Bash call is a real exec_command call with its output; every other call a note.
      const calls = items.filter((p) => p.type === 'function_call');
      expect(calls.map((c) => JSON.parse(c.arguments).cmd)).toEqual(bashCommands(source));
      expect(calls.every((c) => c.name === 'exec_command')).toBe(true);
      const others = source.flatMap((e) => e.toolUses).filter((u) => u.name !== 'Bash');
      const notes = back.filter((e) => SUMMARY_HEAD.test(e.text));
      expect(notes.map((e) => SUMMARY_HEAD.exec(e.text)![1])).toEqual(others.map((u) => u.name));
      expect(notes.every((e) => e.role === 'assistant' && /\noutput( \(error\))?:\n/.test(e.text))).toBe(true);
      expect(kinds(r.dropped)['tool-as-text']).toBe(others.length);
      expect(r.dropped.find((d) => d.kind === 'tool-as-text')!.detail).toMatch(/TodoWrite ×\d/);
      // The UI events: one per message shown (meta lines are sent, not shown).
      const lines = jsonl(r.text);
      const shownUser = source.filter((e) => e.role === 'user' && e.text.trim() && !e.meta).length;
      expect(lines.filter((l) => l.type === 'event_msg' && l.payload.type === 'user_message')).toHaveLength(shownUser);
    });
  }

  it('the side chains of the large fixture are reported, not carried', () => {
    const name = CLAUDE_FIXTURES[1]!;
    const r = convertText({ tool: 'claude', id: name }, readFileSync(join(FIX, `${name}.jsonl`), 'utf8'), 'codex', { id: NEW_ID, cwd: DIR });
    expect(kinds(r.dropped)['side-chain']).toBe(405);
  });

  it('generated: thinking, images, API errors, a call with no output, meta lines', () => {
    const s = new Session('5e550000-0000-4000-8000-000000000001');
    s.user('Look at this screenshot');
    s.user([{ type: 'text', text: 'Here:' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } }]);
    s.user('<local-command-caveat>Caveat: …</local-command-caveat>', { isMeta: true });
    const bash = s.toolUse('Bash', { command: 'ls -la', description: 'list' });
    const read = s.toolUse('Read', { file_path: '/x/a.ts' });
    s.assistant([{ type: 'thinking', thinking: 'hmm', signature: 'c2ln' }, { type: 'text', text: 'Checking.' }, bash, read]);
    s.toolResult(bash.id, 'a.ts\nb.ts');
    s.toolResult(read.id, [{ type: 'text', text: 'export const a = 1;' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AA==' } }]);
    const lost = s.toolUse('Bash', { command: 'sleep 100' });
    s.assistant([lost]);
    s.user('[Request interrupted by user for tool use]');
    s.assistant([{ type: 'text', text: 'API Error: overloaded' }]);
    (s.lines[s.lines.length - 1] as Obj).isApiErrorMessage = true;
    s.assistant([{ type: 'text', text: 'Done.' }]);
    const r = convertText({ tool: 'claude', id: s.id }, s.text(), 'codex', { id: NEW_ID, cwd: DIR });
    const items = codexItems(r.text, NEW_ID, DIR);
    expect(kinds(r.dropped)).toEqual({ image: 2, thinking: 1, 'api-error': 1, 'tool-as-text': 1, 'missing-output': 1 });
    const msgs = items.filter((p) => p.type === 'message').map((p) => [p.role, p.content[0].text]);
    expect(msgs.map(([role, t]) => [role, SUMMARY_HEAD.test(t) ? 'NOTE' : t])).toEqual([
      ['user', 'Look at this screenshot'],
      ['user', `Here:\n\n${IMAGE_PLACEHOLDER}`],
      ['user', '<local-command-caveat>Caveat: …</local-command-caveat>'],
      ['assistant', 'Checking.'],
      ['assistant', 'NOTE'],
      ['user', '[Request interrupted by user for tool use]'],
      ['assistant', 'Done.'],
    ]);
    expect(msgs[4]![1]).toBe(`[Read tool call from Claude Code, carried as text by roam]\ninput: {"file_path":"/x/a.ts"}\noutput:\nexport const a = 1;\n${IMAGE_PLACEHOLDER}`);
    const fc = items.filter((p) => p.type.startsWith('function_call'));
    expect(fc).toEqual([
      { type: 'function_call', name: 'exec_command', arguments: '{"cmd":"ls -la"}', call_id: bash.id },
      { type: 'function_call_output', call_id: bash.id, output: 'a.ts\nb.ts' },
      { type: 'function_call', name: 'exec_command', arguments: '{"cmd":"sleep 100"}', call_id: lost.id },
      { type: 'function_call_output', call_id: lost.id, output: '[no output was recorded for this call]' },
    ]);
    // No thinking, no API error text, no image data anywhere.
    expect(r.text).not.toMatch(/hmm|c2ln|overloaded|iVBORw0KGgo|AA==/);
    // The hidden caveat has no UI event; the typed prompts have.
    const events = jsonl(r.text).filter((l) => l.type === 'event_msg' && l.payload.type === 'user_message').map((l) => l.payload.message);
    expect(events).toEqual(['Look at this screenshot', `Here:\n\n${IMAGE_PLACEHOLDER}`, '[Request interrupted by user for tool use]']);
    // Timestamps are the source's.
    expect(jsonl(r.text)[0]!.timestamp).toBe(s.lines[0]!.timestamp);
  });

  it('the conversation is the current branch: a rewound branch is not carried', () => {
    const s = new Session('5e550000-0000-4000-8000-000000000002');
    const root = s.user('First');
    s.assistant([{ type: 'text', text: 'Abandoned answer' }]);
    s.user('Rewound prompt');
    s.assistant([{ type: 'text', text: 'Other abandoned answer' }]);
    s.last = root;
    s.assistant([{ type: 'text', text: 'Kept answer' }]);
    const r = convertText({ tool: 'claude', id: s.id }, s.text(), 'codex', { id: NEW_ID, cwd: DIR });
    expect(texts(codexTranscript(r.text))).toEqual([['user', 'First'], ['assistant', 'Kept answer']]);
  });
});

describe('Codex → Claude Code', () => {
  it('the real 0.34 rollout: texts in order, shell calls as Bash with their outputs, a valid API history', () => {
    const text = readFileSync(CODEX_FIXTURE, 'utf8');
    const r = convertText({ tool: 'codex', id: '97b66f6c-a160-40e0-bd0f-1fdcbbb9498b' }, text, 'claude', { id: NEW_ID, cwd: DIR });
    const api = claudeApi(r.text, NEW_ID, DIR);
    const back = readTranscript(claudeFile(r.text));
    const source = codexTranscript(text);
    expect(texts(back)).toEqual(texts(source));
    const shells = source.flatMap((e) => e.toolUses).map((u) => argvCommand((u.input as { command: string[] }).command));
    expect(shells).toHaveLength(329);
    expect(bashCommands(back)).toEqual(shells);
    // Outputs: the text of the 0.34 JSON, errors from the exit code.
    const results = back.flatMap((e) => e.toolResults);
    expect(results).toHaveLength(329);
    expect(results.map((x) => x.text)).toEqual(source.flatMap((e) => e.toolResults).map((x) => x.text));
    expect(results.filter((x) => x.isError).length).toBe(source.flatMap((e) => e.toolResults).filter((x) => x.isError).length);
    expect(kinds(r.dropped)).toEqual({ reasoning: 122, context: 1 });
    expect(api.length).toBeGreaterThan(100);
    const assistantLine = jsonl(r.text).find((l) => l.type === 'assistant')!;
    expect(assistantLine).toMatchObject({ version: '2.1.329', userType: 'external', gitBranch: 'main', message: { model: 'Codex', type: 'message', role: 'assistant' } }); // 0.34 recorded no model
  });

  it('the real rollout with nothing but its context converts to nothing to resume', () => {
    const text = readFileSync(join(FIX, 'codex', 'rollout-2025-10-31T18-36-16-fa1ac8bf-348e-4b9a-a06d-767050fa1e10.jsonl'), 'utf8');
    const r = convertText({ tool: 'codex', id: 'fa1ac8bf-348e-4b9a-a06d-767050fa1e10' }, text, 'claude', { id: NEW_ID, cwd: DIR });
    expect(r.text).toBe('');
    expect(kinds(r.dropped)).toEqual({ context: 1 });
  });

  it('generated 0.169-style: exec_command with a workdir, apply_patch and update_plan as notes, parallel calls, a message between a call and its output', () => {
    const ro = new Rollout('01a1fdb8-0000-7000-8000-000000000001');
    ro.push('response_item', { type: 'message', role: 'developer', content: [{ type: 'input_text', text: '<permissions instructions>…' }] });
    ro.turnContext();
    ro.user('Fix the build');
    ro.reasoning();
    ro.assistant('Looking.');
    ro.push('response_item', { type: 'function_call', name: 'exec_command', arguments: JSON.stringify({ cmd: 'npm test', workdir: '/home/dev/app/pkg' }), call_id: 'call_a' });
    ro.push('response_item', { type: 'function_call', name: 'update_plan', arguments: JSON.stringify({ plan: [{ step: 'fix', status: 'in_progress' }] }), call_id: 'call_b' });
    ro.push('response_item', { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Both started.' }] });
    ro.push('response_item', { type: 'function_call_output', call_id: 'call_b', output: 'Plan updated' });
    ro.push('response_item', { type: 'function_call_output', call_id: 'call_a', output: 'Chunk ID: 1\nWall time: 0.1 seconds\nProcess exited with code 1\nOutput:\nFAIL' });
    ro.patch('*** Begin Patch\n*** Update File: a.ts\n-x\n+y\n*** End Patch', 'Success. Updated the following files:\nM a.ts');
    ro.push('response_item', { type: 'function_call_output', call_id: 'call_zz', output: 'stray' });
    ro.push('response_item', { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'See' }, { type: 'input_image', image_url: 'data:image/png;base64,iVBORw0KGgo=' }] });
    ro.assistant('Fixed.');
    const r = convertText({ tool: 'codex', id: ro.id }, ro.text(), 'claude', { id: NEW_ID, cwd: DIR });
    const api = claudeApi(r.text, NEW_ID, DIR);
    expect(kinds(r.dropped)).toEqual({ developer: 1, context: 1, reasoning: 1, 'tool-as-text': 2, 'orphan-output': 1, image: 1 });
    const simple = api.map((m) => [m.role, m.content.map((b) =>
      b.type === 'text' ? (SUMMARY_HEAD.test(b.text) ? `note:${SUMMARY_HEAD.exec(b.text)![1]}` : b.text)
        : b.type === 'tool_use' ? `use:${b.input.command}` : `result:${b.is_error}:${b.content}`)]);
    expect(simple).toEqual([
      ['user', ['Fix the build']],
      ['assistant', ['Looking.', "use:cd /home/dev/app/pkg && npm test", 'note:update_plan', 'Both started.']],
      ['user', ['result:true:Chunk ID: 1\nWall time: 0.1 seconds\nProcess exited with code 1\nOutput:\nFAIL']],
      ['assistant', ['note:apply_patch']],
      ['user', [`See\n${IMAGE_PLACEHOLDER}`]],
      ['assistant', ['Fixed.']],
    ]);
    const patchNote = api[3]!.content[0]!.text as string;
    expect(patchNote).toBe('[apply_patch tool call from Codex, carried as text by roam]\ninput:\n*** Begin Patch\n*** Update File: a.ts\n-x\n+y\n*** End Patch\noutput:\nSuccess. Updated the following files:\nM a.ts');
  });

  it('a compaction: the history Codex keeps (the user messages and the summary, or its replacement history)', () => {
    const ro = new Rollout('01a1fdb8-0000-7000-8000-000000000002');
    ro.user('One');
    ro.assistant('Answer one');
    ro.push('compacted', { message: 'Summary of one.' });
    ro.user('Two');
    ro.assistant('Answer two');
    let r = convertText({ tool: 'codex', id: ro.id }, ro.text(), 'claude', { id: NEW_ID, cwd: DIR });
    claudeApi(r.text, NEW_ID, DIR);
    expect(readTranscript(claudeFile(r.text)).map((e) => [e.role, e.text, e.meta === true])).toEqual([
      ['user', 'One', false], ['user', 'Summary of one.', true], ['user', 'Two', false], ['assistant', 'Answer two', false],
    ]);
    const ro2 = new Rollout('01a1fdb8-0000-7000-8000-000000000003');
    ro2.user('One');
    ro2.assistant('Answer one');
    ro2.push('compacted', { message: '', replacement_history: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Condensed' }] }] });
    ro2.user('Two');
    r = convertText({ tool: 'codex', id: ro2.id }, ro2.text(), 'claude', { id: NEW_ID, cwd: DIR });
    expect(texts(readTranscript(claudeFile(r.text)))).toEqual([['user', 'Condensed'], ['user', 'Two']]);
    expect(kinds(r.dropped).compaction).toBe(1);
  });

  it('a history that starts with the assistant gets a hidden user line first; event-only rollouts use their events', () => {
    const ro = new Rollout('01a1fdb8-0000-7000-8000-000000000004');
    ro.push('response_item', { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Hello first' }] });
    let r = convertText({ tool: 'codex', id: ro.id }, ro.text(), 'claude', { id: NEW_ID, cwd: DIR });
    expect(claudeApi(r.text, NEW_ID, DIR).map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(jsonl(r.text)[0]).toMatchObject({ isMeta: true, message: { content: '[This conversation was continued from a Codex session; roam converted it.]' } });
    const old = [
      { timestamp: '2025-09-01T10:00:00.000Z', type: 'session_meta', payload: { id: 'x', cwd: '/a' } },
      { timestamp: '2025-09-01T10:00:01.000Z', type: 'event_msg', payload: { type: 'user_message', message: 'Hi' } },
      { timestamp: '2025-09-01T10:00:02.000Z', type: 'event_msg', payload: { type: 'agent_message', message: 'Hello' } },
    ].map((l) => JSON.stringify(l)).join('\n');
    r = convertText({ tool: 'codex', id: 'x' }, old, 'claude', { id: NEW_ID, cwd: DIR });
    expect(texts(readTranscript(claudeFile(r.text)))).toEqual([['user', 'Hi'], ['assistant', 'Hello']]);
    expect(jsonl(r.text).map((l) => l.timestamp)).toEqual(['2025-09-01T10:00:01.000Z', '2025-09-01T10:00:02.000Z']);
  });

  it('shell shapes: exec_command, shell argv (bash -lc and plain), local_shell_call', () => {
    expect(codexShell('exec_command', { cmd: 'ls' })).toEqual({ command: 'ls' });
    expect(codexShell('shell', { command: ['bash', '-lc', 'echo "a b"'], workdir: '/w d' })).toEqual({ command: "cd '/w d' && echo \"a b\"" });
    expect(codexShell('shell', { command: ['rg', '-n', "it's", 'src'] })).toEqual({ command: `rg -n 'it'\\''s' src` });
    expect(codexShell('apply_patch', { input: 'x' })).toBeNull();
    const ro = new Rollout('01a1fdb8-0000-7000-8000-000000000005');
    ro.user('Go');
    ro.push('response_item', { type: 'local_shell_call', call_id: 'ls1', status: 'completed', action: { type: 'exec', command: ['/bin/zsh', '-lc', 'pwd'], working_directory: null } });
    ro.push('response_item', { type: 'local_shell_call_output', call_id: 'ls1', output: '/home' });
    const r = convertText({ tool: 'codex', id: ro.id }, ro.text(), 'claude', { id: NEW_ID, cwd: DIR });
    expect(bashCommands(readTranscript(claudeFile(r.text)))).toEqual(['pwd']);
  });
});

describe('round trips', () => {
  for (const name of CLAUDE_FIXTURES) {
    it(`Claude → Codex → Claude (${name.slice(0, 8)}): the user and assistant texts in order, the Bash calls`, () => {
      const text = readFileSync(join(FIX, `${name}.jsonl`), 'utf8');
      const toCodex = convertText({ tool: 'claude', id: name }, text, 'codex', { id: NEW_ID, cwd: DIR });
      const back = convertText({ tool: 'codex', id: NEW_ID }, toCodex.text, 'claude', { id: name, cwd: DIR });
      claudeApi(back.text, name, DIR);
      const source = readTranscript(join(FIX, `${name}.jsonl`));
      const again = readTranscript(claudeFile(back.text));
      expect(texts(again)).toEqual(texts(source));
      expect(bashCommands(again)).toEqual(bashCommands(source));
      expect(again.filter((e) => e.meta).map((e) => e.text)).toEqual([]); // Codex keeps no "meta" mark: hidden lines come back shown
      expect(kinds(back.dropped)).toEqual({});
    });
  }

  it('Claude → Codex → Claude on a generated session with tool calls of every kind', () => {
    const s = new Session('5e550000-0000-4000-8000-000000000003');
    s.user('Start');
    const g = s.toolUse('Grep', { pattern: 'x' });
    const b1 = s.toolUse('Bash', { command: 'git status' });
    const b2 = s.toolUse('Bash', { command: "printf '%s\\n' a" });
    s.assistant([{ type: 'text', text: 'Searching.' }, g, b1, b2]);
    s.toolResult(g.id, 'a.ts:1:x');
    s.toolResult(b1.id, 'clean');
    s.user([{ tool_use_id: b2.id, type: 'tool_result', content: 'a', is_error: true }]);
    s.assistant([{ type: 'text', text: 'Done.' }]);
    s.user('Thanks');
    const there = convertText({ tool: 'claude', id: s.id }, s.text(), 'codex', { id: NEW_ID, cwd: DIR });
    const back = convertText({ tool: 'codex', id: NEW_ID }, there.text, 'claude', { id: s.id, cwd: DIR });
    const api = claudeApi(back.text, s.id, DIR);
    const again = readTranscript(claudeFile(back.text));
    expect(texts(again)).toEqual([['user', 'Start'], ['assistant', 'Searching.'], ['assistant', 'Done.'], ['user', 'Thanks']]);
    expect(bashCommands(again)).toEqual(['git status', "printf '%s\\n' a"]);
    expect(again.flatMap((e) => e.toolResults).map((r) => [r.toolUseId, r.text, r.isError])).toEqual([[b1.id, 'clean', false], [b2.id, '[error]\na', false]]);
    expect(api.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user']);
  });

  it('Codex → Claude → Codex on the real rollout: the texts in order and every shell command', () => {
    const text = readFileSync(CODEX_FIXTURE, 'utf8');
    const there = convertText({ tool: 'codex', id: 'src' }, text, 'claude', { id: NEW_ID, cwd: DIR });
    const back = convertText({ tool: 'claude', id: NEW_ID }, there.text, 'codex', { id: NEW_ID, cwd: DIR });
    const items = codexItems(back.text, NEW_ID, DIR);
    expect(texts(codexTranscript(back.text))).toEqual(texts(codexTranscript(text)));
    expect(items.filter((p) => p.type === 'function_call').map((p) => JSON.parse(p.arguments).cmd)).toEqual(
      codexTranscript(text).flatMap((e) => e.toolUses).map((u) => argvCommand((u.input as { command: string[] }).command)),
    );
  });
});

describe('planConversion / applyConversion: ids, paths, reuse', () => {
  const codeApp = () => homes(scratch, ['code', 'app']);

  it('Claude → Codex: a rollout of the source date, the same id again while unchanged, a new one once it grew; the source untouched', async () => {
    const h = codeApp();
    const { s, src, before, session } = await claudeSource(h, '5e550000-0000-4000-8000-000000000010', 'Hello', 'Hi there');
    const plan = await planConversion({ adapter: h.claude, session }, h.codex, h.project);
    expect(plan).toMatchObject({ target: 'codex', exists: false, cwd: h.project, source: { tool: 'claude', id: s.id, file: src } });
    const d = new Date(s.lines[0]!.timestamp as string);
    const p = (n: number) => String(n).padStart(2, '0');
    expect(plan.file).toBe(join(h.env.CODEX_HOME, 'sessions', String(d.getFullYear()), p(d.getMonth() + 1), p(d.getDate()),
      `rollout-${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}-${plan.id}.jsonl`));
    applyConversion(plan);
    expect(readFileSync(plan.file).equals(plan.bytes)).toBe(true);
    // roam's Codex adapter finds it, in this project, with the source's texts.
    expect(await h.codex.list({ project: h.project })).toEqual([expect.objectContaining({ id: plan.id, title: 'Hello', messages: 2 })]);
    // Again: the same id, reused.
    const again = await planConversion({ adapter: h.claude, session }, h.codex, h.project);
    expect(again).toMatchObject({ id: plan.id, file: plan.file, exists: true });
    applyConversion(again);
    // Codex appended a turn to the converted session: the next conversion is a new one.
    appendFileSync(plan.file, `${JSON.stringify({ timestamp: '2026-05-01T00:00:00.000Z', type: 'event_msg', payload: { type: 'task_started' } })}\n`);
    const grown = readFileSync(plan.file);
    const third = await planConversion({ adapter: h.claude, session }, h.codex, h.project);
    expect(third.exists).toBe(false);
    expect(third.id).not.toBe(plan.id);
    applyConversion(third);
    expect(readFileSync(plan.file).equals(grown)).toBe(true);
    expect((await h.codex.list()).map((x) => x.id).sort()).toEqual([plan.id, third.id].sort());
    // A changed source converts to another id; converting in another directory too.
    appendFileSync(src, `${JSON.stringify({ ...s.lines[1], uuid: 'ffff0000-0000-4000-8000-000000000001', parentUuid: s.lines[1]!.uuid, message: { role: 'assistant', content: [{ type: 'text', text: 'More' }] } })}\n`);
    const changed = await planConversion({ adapter: h.claude, session: (await h.claude.find(s.id))! }, h.codex, h.project);
    expect([plan.id, third.id]).not.toContain(changed.id);
    const elsewhere = await planConversion({ adapter: h.claude, session }, h.codex, join(scratch, 'other'));
    expect([plan.id, third.id, changed.id]).not.toContain(elsewhere.id);
    expect(readFileSync(src).subarray(0, before.length).equals(before)).toBe(true);
  });

  it('Codex → Claude: the transcript under the project key of the directory; reused when identical; never overwritten', async () => {
    const h = codeApp();
    const ro = new Rollout('01a1fdb8-0000-7000-8000-000000000020', h.project);
    ro.user('Hello codex');
    ro.assistant('Hi from codex');
    const src = ro.write(h.env.CODEX_HOME);
    const before = readFileSync(src);
    const session = (await h.codex.find(ro.id))!;
    const plan = await planConversion({ adapter: h.codex, session }, h.claude, h.project);
    expect(plan.file).toBe(join(h.env.CLAUDE_CONFIG_DIR, 'projects', projectKey(h.project), `${plan.id}.jsonl`));
    expect(plan.dropped.map((x) => x.kind)).toEqual(['context']);
    applyConversion(plan);
    const found = (await h.claude.find(plan.id))!;
    expect(found).toMatchObject({ file: plan.file, cwd: h.project, title: 'Hello codex', messages: 2, gitBranch: 'main' });
    expect(readTranscript(plan.file).map((e) => e.text)).toEqual(['Hello codex', 'Hi from codex']);
    expect((await planConversion({ adapter: h.codex, session }, h.claude, h.project))).toMatchObject({ id: plan.id, exists: true });
    // A folder by the next id's name (tool results of some session) is skipped; the id after it is used.
    appendFileSync(plan.file, '{"type":"last-prompt","lastPrompt":"x"}\n');
    const next = await planConversion({ adapter: h.codex, session }, h.claude, h.project);
    mkdirSync(next.file.slice(0, -'.jsonl'.length));
    const after = await planConversion({ adapter: h.codex, session }, h.claude, h.project);
    expect(new Set([plan.id, next.id, after.id]).size).toBe(3);
    // The plan of a file that appeared meanwhile is refused, not overwritten.
    writeFileSync(after.file, 'someone else\n');
    expect(() => applyConversion(after)).toThrow(/exists already/);
    expect(readFileSync(after.file, 'utf8')).toBe('someone else\n');
    expect(readFileSync(src).equals(before)).toBe(true);
    expect(readdirSync(join(h.env.CLAUDE_CONFIG_DIR, 'projects', projectKey(h.project))).filter((n) => n.endsWith('.jsonl')).length).toBe(2);
    expect(statSync(plan.file).mode & 0o777).toBe(0o600);
  });

  it('a Codex fork is converted with the history it inherits from its parent', async () => {
    const h = codeApp();
    const parent = new Rollout('01a1fdb8-0000-7000-8000-000000000030', h.project);
    parent.user('Parent question');
    parent.assistant('Parent answer');
    const pfile = parent.write(h.env.CODEX_HOME);
    const offset = readFileSync(pfile).length;
    parent.user('After the fork (not inherited)');
    parent.write(h.env.CODEX_HOME);
    const fork = new Rollout('01a1fdb8-0000-7000-8000-000000000031', h.project, Date.UTC(2026, 0, 6));
    fork.lines[0]!.payload.history_base = { thread_id: parent.id, end_byte_offset: offset };
    fork.user('Fork question');
    fork.write(h.env.CODEX_HOME);
    const plan = await planConversion({ adapter: h.codex, session: (await h.codex.find(fork.id))! }, h.claude, h.project);
    expect(readTranscript(claudeFile(plan.bytes.toString())).map((e) => e.text)).toEqual(['Parent question', 'Parent answer', 'Fork question']);
  });

  it('refuses a session with no messages, a same-tool conversion, and tools it cannot convert', async () => {
    const h = codeApp();
    const ro = new Rollout('01a1fdb8-0000-7000-8000-000000000040', h.project);
    ro.write(h.env.CODEX_HOME);
    const session = (await h.codex.find(ro.id))!;
    await expect(planConversion({ adapter: h.codex, session }, h.claude, h.project)).rejects.toThrow(/has no messages to convert/);
    await expect(planConversion({ adapter: h.codex, session }, h.codex, h.project)).rejects.toThrow(/is a codex session already/);
    const vim = { ...h.claude, tool: 'vim' as unknown as 'claude', root: () => scratch, list: async () => [], search: async () => [], find: async () => null, show: async () => [], resumeCommand: () => ({ argv: [] }), forkCommand: () => ({ argv: [] }), newCommand: () => ({ argv: [] }), projectKey: (p: string) => p };
    await expect(planConversion({ adapter: h.codex, session }, vim, h.project)).rejects.toThrow(/--in vim: roam converts sessions between claude, codex, .* only/);
  });
});

describe('resumeArgv', () => {
  const codex = new CodexAdapter({ env: {}, cacheFile: null });
  const claude = new ClaudeAdapter({ env: {}, cacheFile: null });
  it("Codex: `exec …` after -- gives `codex exec resume <id> …`; anything else follows `codex resume <id>`", () => {
    expect(resumeArgv(codex, 'ID', ['exec', '--skip-git-repo-check', 'go on'], '/w')).toEqual(['codex', 'exec', 'resume', 'ID', '--skip-git-repo-check', 'go on']);
    expect(resumeArgv(codex, 'ID', ['-m', 'o3'], '/w')).toEqual(['codex', 'resume', 'ID', '-m', 'o3']);
    expect(resumeArgv(codex, 'ID', [], '/w')).toEqual(['codex', 'resume', 'ID']);
  });
  it('Claude Code: the arguments follow `claude --resume <id>`', () => {
    expect(resumeArgv(claude, 'ID', ['-p', 'go on'], '/w')).toEqual(['claude', '--resume', 'ID', '-p', 'go on']);
  });
});
