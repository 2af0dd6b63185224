/**
 * `roam resume --in gemini` and `--in claude|codex` from Gemini CLI sessions: the pure conversion
 * (convertText) from the Claude Code and Codex fixtures and from generated Gemini sessions, read
 * back with roam's own readers and checked against what Gemini CLI 0.61.0 replays (docs/GEMINI.md:
 * a user message first, each model turn's calls answered in the call records, text after calls in
 * the next model message); and planConversion / applyConversion writing a session under the
 * directory's slug and registering it in projects.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sandbox } from './support/sandbox.js';
import { bashCommands as shellCommands, CLAUDE_FIXTURES, claudeSource, CODEX_FIXTURE, convertFixture, DIR, homes, jsonl, kinds, type Obj, unansweredBash } from './support/convert.js';
import { applyConversion, CONVERTIBLE, convertText, planConversion, resumeArgv } from '../src/convert/index.js';
import { geminiShell } from '../src/tools/gemini/source.js';
import { TOOL_LABEL, type Conversation } from '../src/convert/ir.js';
import { pairResults } from '../src/convert/pairs.js';
import { summary } from '../src/convert/tools.js';
import { codexTranscript } from '../src/tools/codex/index.js';
import { GeminiAdapter, geminiTranscript, parseGeminiSession, projectHash } from '../src/tools/gemini/index.js';
import { readTranscript } from '../src/tools/claude/transcript.js';
import type { TranscriptEntry } from '../src/sessions/types.js';

const NEW_ID = '0c0c0c0c-1111-8222-9333-444455556666';
const NOTE = /^\[(.+) tool call from (Claude Code|Codex|Gemini CLI|Copilot CLI), carried as text by roam\]/;

let scratch: string;
sandbox('roam-convert-gemini-', (dir) => {
  scratch = dir;
});


/** (role, text) of the entries with text; roam's tool notes and the tools' context left out. */
function texts(entries: readonly TranscriptEntry[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const e of entries) {
    // Hidden user lines are written as ordinary ones (Gemini has no hidden kind); the tools' own context is not carried.
    if (!e.text.trim() || (e.meta && /^(<session_context>|<environment_context|\[This conversation was continued|\[compacted\])/.test(e.text.trimStart()))) continue;
    const parts = e.text.split('\n\n').filter((p) => !NOTE.test(p));
    if (!parts.length) continue;
    out.push([e.role, parts.join('\n\n')]);
  }
  return out;
}

/** The notes roam wrote for the calls carried as text (to take them out of a model message that holds them among its texts). */
function notesOf(conv: Conversation): string[] {
  const pairs = pairResults(conv.items);
  return conv.items.flatMap((i) => (i.type === 'call' && !i.shell ? [summary(i, pairs.get(i) ?? null, TOOL_LABEL[conv.tool] as 'Claude Code')] : []));
}

function withoutNotes(entries: readonly TranscriptEntry[], notes: readonly string[]): TranscriptEntry[] {
  return entries.map((e) => (e.role === 'assistant' ? { ...e, text: notes.reduce((t, n) => t.split(n).join(''), e.text) } : e));
}

/** The texts split into paragraphs, so that joined and separate assistant messages compare equal. */
const paragraphs = (t: Array<[string, string]>) => t.flatMap(([r, x]) => x.split('\n\n').filter((p) => !NOTE.test(p) && p.trim()).map((p) => `${r}: ${p}`));


/**
 * A converted Gemini session, checked as the CLI reads it: the metadata line first (id, the
 * directory's sha256), then messages with ids and timestamps; a user message first; a model message
 * with tool calls has each call answered (run_shell_command, a functionResponse with the call's id).
 */
function geminiRecords(text: string, id: string, cwd: string): Obj[] {
  const records = jsonl(text);
  expect(records[0]).toMatchObject({ sessionId: id, projectHash: projectHash(cwd), kind: 'main' });
  const messages = records.slice(1);
  expect(messages[0]?.type).toBe('user');
  let prev = '';
  for (const m of messages) {
    expect(typeof m.id).toBe('string');
    expect(Number.isFinite(Date.parse(m.timestamp))).toBe(true);
    expect(['user', 'gemini']).toContain(m.type);
    if (m.type === 'gemini' && prev === 'gemini') throw new Error('two model messages in a row with no calls between');
    prev = m.type === 'gemini' && m.toolCalls ? 'calls' : m.type;
    for (const c of m.toolCalls ?? []) {
      expect(c).toMatchObject({ name: 'run_shell_command', args: { command: expect.any(String) }, status: expect.stringMatching(/^(success|error)$/) });
      expect(c.result).toEqual([{ functionResponse: { id: c.id, name: 'run_shell_command', response: expect.any(Object) } }]);
    }
  }
  expect(parseGeminiSession(text)!.sessionId).toBe(id);
  return records;
}

describe('Claude Code → Gemini CLI', () => {
  for (const name of CLAUDE_FIXTURES) {
    it(`the real session ${name.slice(0, 8)}: texts in order, Bash as run_shell_command, other tools as notes`, () => {
      const { source, r } = convertFixture(name, 'gemini', NEW_ID);
      geminiRecords(r.text, NEW_ID, DIR);
      const back = withoutNotes(geminiTranscript(parseGeminiSession(r.text)!), notesOf(r.conversation));
      expect(paragraphs(texts(back))).toEqual(paragraphs(texts(source)));
      expect(shellCommands(back, 'run_shell_command')).toEqual(shellCommands(source, 'Bash'));
      const others = source.flatMap((e) => e.toolUses).filter((u) => u.name !== 'Bash');
      expect(kinds(r.dropped)['tool-as-text'] ?? 0).toBe(others.length);
    });
  }

  it('a Bash call with no output gets a note as its output; an error stays an error; text after calls is the next model message', () => {
    const s = unansweredBash('5e550000-0000-4000-8000-0000000000d1');
    s.assistant([{ type: 'text', text: 'One failed.' }]);
    s.user('Stop that');
    const r = convertText({ tool: 'claude', id: s.id }, s.text(), 'gemini', { id: NEW_ID, cwd: DIR });
    const records = geminiRecords(r.text, NEW_ID, DIR).slice(1);
    expect(records.map((m) => [m.type, typeof m.content === 'string' ? m.content : m.content[0].text, (m.toolCalls ?? []).map((c: Obj) => [c.status, c.result[0].functionResponse.response])])).toEqual([
      ['user', 'Run two things', []],
      ['gemini', 'Running.', [['error', { error: 'exit 1' }], ['success', { output: '[no output was recorded for this call]' }]]],
      ['gemini', 'One failed.', []],
      ['user', 'Stop that', []],
    ]);
    expect(kinds(r.dropped)['missing-output']).toBe(1);
  });
});

describe('Codex → Gemini CLI', () => {
  it('the real rollout: the texts Codex replays, in order; shell calls as run_shell_command', () => {
    const text = readFileSync(CODEX_FIXTURE, 'utf8');
    const source = codexTranscript(text);
    const r = convertText({ tool: 'codex', id: '97b66f6c-a160-40e0-bd0f-1fdcbbb9498b' }, text, 'gemini', { id: NEW_ID, cwd: DIR });
    geminiRecords(r.text, NEW_ID, DIR);
    const back = withoutNotes(geminiTranscript(parseGeminiSession(r.text)!), notesOf(r.conversation));
    expect(paragraphs(texts(back))).toEqual(paragraphs(texts(source).filter(([role, t]) => !(role === 'user' && /^<(environment_context|user_instructions)|^# AGENTS\.md/.test(t)))));
    const shells = r.conversation.items.filter((i) => i.type === 'call' && i.shell).length;
    expect(shells).toBeGreaterThan(0);
    expect(shellCommands(back, 'run_shell_command')).toHaveLength(shells);
  });
});

describe('Gemini CLI → Claude Code and Codex', () => {
  const ctx = '<session_context>\nThis is the Gemini CLI.\n- **Workspace Directories:**\n  - /home/dev/app\n</session_context>';
  function geminiText(): string {
    const call = (id: string, name: string, args: Obj, output: string, status = 'success') => ({
      id, name, args, status, timestamp: '2026-11-21T12:00:03.000Z',
      result: [{ functionResponse: { id, name, response: status === 'error' ? { error: output } : { output } } }],
    });
    const g1 = { id: 'g1', timestamp: '2026-11-21T12:00:02.000Z', type: 'gemini', content: 'Looking.', thoughts: [{ subject: 'Plan', description: 'grep it' }], model: 'gemini-2.5-pro' };
    const lines: Obj[] = [
      { sessionId: 'a0a0a0a0-0000-4000-8000-000000000001', projectHash: projectHash('/home/dev/app'), startTime: '2026-11-21T12:00:00.000Z', lastUpdated: '2026-11-21T12:00:00.000Z', kind: 'main' },
      { $set: { messages: [{ id: 'ctx', timestamp: '2026-11-21T12:00:00.000Z', type: 'user', content: [{ text: ctx }] }] } },
      { id: 'u1', timestamp: '2026-11-21T12:00:01.000Z', type: 'user', content: [{ text: 'Find the zebracorn config' }] },
      g1,
      { ...g1, toolCalls: [call('c1', 'run_shell_command', { command: 'grep -r zebracorn .', dir_path: 'src' }, 'Output: ./app.conf: zebracorn=1'), call('c2', 'read_file', { absolute_path: '/home/dev/app/app.conf' }, 'zebracorn=1')] },
      { id: 'u1r', timestamp: '2026-11-21T12:00:03.000Z', type: 'user', content: [{ functionResponse: { id: 'c1', name: 'run_shell_command', response: { output: 'x' } } }] },
      { id: 'g2', timestamp: '2026-11-21T12:00:04.000Z', type: 'gemini', content: 'It is in app.conf.', model: 'gemini-2.5-pro' },
      { id: 'i1', timestamp: '2026-11-21T12:00:05.000Z', type: 'info', content: 'Switched model' },
      { id: 'u2', timestamp: '2026-11-21T12:00:06.000Z', type: 'user', content: [{ text: '/stats' }] },
      { id: 'u3', timestamp: '2026-11-21T12:00:07.000Z', type: 'user', content: [{ text: 'Thanks' }] },
      { id: 'g3', timestamp: '2026-11-21T12:00:08.000Z', type: 'gemini', content: 'You are welcome.' },
      { id: 'u4', timestamp: '2026-11-21T12:00:09.000Z', type: 'user', content: [{ text: 'rewound away' }] },
      { $rewindTo: 'u4' },
    ];
    return lines.map((l) => `${JSON.stringify(l)}\n`).join('');
  }

  it('→ Claude Code: texts in order, run_shell_command as Bash (dir_path as cd) with its output, read_file as a note; what was dropped', () => {
    const r = convertText({ tool: 'gemini', id: 'a0a0a0a0-0000-4000-8000-000000000001' }, geminiText(), 'claude', { id: NEW_ID, cwd: DIR });
    const out = join(scratch, 'x.jsonl');
    writeFileSync(out, r.text);
    const back = readTranscript(out);
    expect(texts(back)).toEqual([
      ['user', 'Find the zebracorn config'], ['assistant', 'Looking.'], ['assistant', 'It is in app.conf.'], ['user', 'Thanks'], ['assistant', 'You are welcome.'],
    ]);
    expect(shellCommands(back, 'Bash')).toEqual(['cd src && grep -r zebracorn .']);
    expect(back.flatMap((e) => e.toolResults).map((t) => t.text)).toEqual(['Output: ./app.conf: zebracorn=1']);
    const note = back.find((e) => NOTE.test(e.text))!;
    expect(NOTE.exec(note.text)!.slice(1)).toEqual(['read_file', 'Gemini CLI']);
    expect(note.text).toContain('zebracorn=1');
    expect(kinds(r.dropped)).toMatchObject({ context: 1, thoughts: 1, info: 1, command: 1, 'tool-as-text': 1 });
    expect(r.conversation.model).toBe('gemini-2.5-pro');
  });

  it('→ Codex: texts in order, run_shell_command as exec_command', () => {
    const r = convertText({ tool: 'gemini', id: 'a0a0a0a0-0000-4000-8000-000000000001' }, geminiText(), 'codex', { id: NEW_ID, cwd: DIR });
    expect(texts(codexTranscript(r.text)).map(([, t]) => t)).toEqual(['Find the zebracorn config', 'Looking.', 'It is in app.conf.', 'Thanks', 'You are welcome.']);
    const calls = jsonl(r.text).filter((l) => l.type === 'response_item' && l.payload.type === 'function_call');
    expect(calls.map((c) => [c.payload.name, JSON.parse(c.payload.arguments).cmd])).toEqual([['exec_command', 'cd src && grep -r zebracorn .']]);
  });

  it('round trip Gemini → Claude → Gemini keeps texts and shell calls', () => {
    const there = convertText({ tool: 'gemini', id: 'a0a0a0a0-0000-4000-8000-000000000001' }, geminiText(), 'claude', { id: NEW_ID, cwd: DIR });
    const back = convertText({ tool: 'claude', id: NEW_ID }, there.text, 'gemini', { id: 'a0a0a0a0-0000-4000-8000-000000000001', cwd: DIR });
    geminiRecords(back.text, 'a0a0a0a0-0000-4000-8000-000000000001', DIR);
    const t = geminiTranscript(parseGeminiSession(back.text)!);
    expect(paragraphs(texts(t))).toEqual(paragraphs(texts(geminiTranscript(parseGeminiSession(geminiText())!))).filter((p) => p !== 'user: /stats')); // the CLI does not replay slash commands
    expect(shellCommands(t, 'run_shell_command')).toEqual(['cd src && grep -r zebracorn .']);
  });

  it('function calls recorded as parts (no toolCalls) with their results in the next user record; the legacy .json format', () => {
    const lines = [
      { sessionId: 's', projectHash: 'h', startTime: '2026-01-01T00:00:00.000Z' },
      { id: 'u', type: 'user', content: 'go' },
      { id: 'g', type: 'gemini', content: [{ text: 'ok' }, { functionCall: { id: 'f1', name: 'run_shell_command', args: { command: 'ls' } } }] },
      { id: 'r', type: 'user', content: [{ functionResponse: { id: 'f1', name: 'run_shell_command', response: { output: 'a.txt' } } }] },
    ];
    const r = convertText({ tool: 'gemini', id: 's' }, lines.map((l) => JSON.stringify(l)).join('\n'), 'claude', { id: NEW_ID, cwd: DIR });
    expect(r.conversation.items.map((i) => i.type)).toEqual(['text', 'text', 'call', 'result']);
    const legacy = JSON.stringify({ sessionId: 's', projectHash: 'h', messages: [{ id: 'u', type: 'user', content: 'old prompt' }, { id: 'g', type: 'gemini', content: 'old answer' }] });
    const l = convertText({ tool: 'gemini', id: 's' }, legacy, 'codex', { id: NEW_ID, cwd: DIR });
    expect(texts(codexTranscript(l.text)).map(([, t]) => t)).toEqual(['old prompt', 'old answer']);
    expect(geminiShell('run_shell_command', { command: 'ls', dir_path: 'a b' })).toEqual({ command: "cd 'a b' && ls" });
    expect(geminiShell('read_file', { command: 'ls' })).toBeNull();
  });

  it('Gemini is convertible, and resumeArgv appends the arguments after --', () => {
    expect(CONVERTIBLE).toContain('gemini');
    const target = new GeminiAdapter({ env: { HOME: scratch }, cacheFile: null });
    expect(resumeArgv(target, NEW_ID, ['-p', 'go on'], DIR)).toEqual(['gemini', '--resume', NEW_ID, '-p', 'go on']);
  });
});

describe('planConversion / applyConversion into the Gemini home', () => {
  function geminiHomes() {
    const h = homes(scratch, ['code', 'My App']);
    return { ...h, gemini: new GeminiAdapter({ env: h.env, cacheFile: null }) };
  }

  it('Claude → Gemini: a session under the directory\'s slug, registered in projects.json, listed in the project; reused while identical; a new id once it grew', async () => {
    const h = geminiHomes();
    // Another project here already has the slug "my-app": the conversion takes the next one, as the CLI would.
    const other = join(scratch, 'elsewhere', 'my-app');
    mkdirSync(other, { recursive: true });
    mkdirSync(join(h.env.HOME, '.gemini'), { recursive: true });
    writeFileSync(join(h.env.HOME, '.gemini', 'projects.json'), JSON.stringify({ projects: { [other]: 'my-app' } }));
    const { src, before, session } = await claudeSource(h, '5e550000-0000-4000-8000-0000000000d2', 'Hello gemini', 'Hi from claude');
    const plan = await planConversion({ adapter: h.claude, session }, h.gemini, h.project);
    expect(plan).toMatchObject({ target: 'gemini', exists: false, cwd: h.project });
    expect(plan.file).toMatch(new RegExp(`/home/\\.gemini/tmp/my-app-1/chats/session-\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-${plan.id.slice(0, 8)}\\.jsonl$`));
    const did = applyConversion(plan, h.gemini, h.env);
    expect(did.join('\n')).toMatch(/registered .*My App as Gemini CLI project "my-app-1"/);
    expect(JSON.parse(readFileSync(join(h.env.HOME, '.gemini', 'projects.json'), 'utf8')).projects).toEqual({ [other]: 'my-app', [h.project]: 'my-app-1' });
    expect(readFileSync(join(h.env.HOME, '.gemini', 'tmp', 'my-app-1', '.project_root'), 'utf8')).toBe(h.project);
    expect(await h.gemini.list({ project: h.project })).toEqual([expect.objectContaining({ id: plan.id, title: 'Hello gemini', messages: 2, projectKey: 'my-app-1' })]);
    const again = await planConversion({ adapter: h.claude, session }, h.gemini, h.project);
    expect(again).toMatchObject({ id: plan.id, exists: true, file: plan.file });
    expect(applyConversion(again, h.gemini, h.env)).toEqual([]);
    // Gemini CLI appended a turn: the next conversion is a new one.
    writeFileSync(plan.file, `${readFileSync(plan.file, 'utf8')}${JSON.stringify({ id: 'later', timestamp: '2026-11-21T13:00:00.000Z', type: 'user', content: [{ text: 'more' }] })}\n`);
    const third = await planConversion({ adapter: h.claude, session }, h.gemini, h.project);
    expect(third.exists).toBe(false);
    expect(third.id).not.toBe(plan.id);
    expect(readFileSync(src).equals(before)).toBe(true);
  });

  it('Gemini → Codex: a rollout Codex lists in the directory; the source file untouched', async () => {
    const h = geminiHomes();
    const lines = [
      { sessionId: 'b0b0b0b0-0000-4000-8000-000000000002', projectHash: projectHash(h.project), startTime: '2026-11-21T12:00:00.000Z', lastUpdated: '2026-11-21T12:00:02.000Z', kind: 'main' },
      { id: 'u', timestamp: '2026-11-21T12:00:01.000Z', type: 'user', content: [{ text: 'Hello from gemini' }] },
      { id: 'g', timestamp: '2026-11-21T12:00:02.000Z', type: 'gemini', content: 'Gemini answer' },
    ];
    const dir = join(h.env.HOME, '.gemini', 'tmp', 'my-app', 'chats');
    mkdirSync(dir, { recursive: true });
    const src = join(dir, 'session-2026-11-21T12-00-b0b0b0b0.jsonl');
    writeFileSync(src, lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
    const before = readFileSync(src);
    const session = (await h.gemini.find('b0b0b0b0-0000-4000-8000-000000000002'))!;
    const plan = await planConversion({ adapter: h.gemini, session }, h.codex, h.project);
    applyConversion(plan, h.codex, h.env);
    expect(await h.codex.list({ project: h.project })).toEqual([expect.objectContaining({ id: plan.id, title: 'Hello from gemini', messages: 2 })]);
    expect(readFileSync(src).equals(before)).toBe(true);
  });
});
