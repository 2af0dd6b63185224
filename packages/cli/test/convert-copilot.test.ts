/**
 * `roam resume --in copilot` and `--in claude|codex` from Copilot CLI sessions: the pure conversion
 * (convertText) from the Claude Code and Codex fixtures and from generated Copilot sessions, checked
 * by roam's own readers and against what Copilot CLI 1.0.102 needs (docs/COPILOT.md: an event chain,
 * each tool output right after the assistant message that made the call); and planConversion /
 * applyConversion writing a session directory (events.jsonl + workspace.yaml) under COPILOT_HOME.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sandbox } from './support/sandbox.js';
import { bashCommands, CLAUDE_FIXTURES, claudeSource, CODEX_FIXTURE, convertFixture, DIR, homes, jsonl, kinds, type Obj, unansweredBash } from './support/convert.js';
import { applyConversion, CONVERTIBLE, convertText, planConversion, resumeArgv } from '../src/convert/index.js';
import { codexTranscript } from '../src/tools/codex/index.js';
import { CopilotAdapter, copilotTranscript, parseWorkspaceYaml } from '../src/tools/copilot/index.js';
import { readTranscript } from '../src/tools/claude/transcript.js';
import type { TranscriptEntry } from '../src/sessions/types.js';
import { CopilotSession } from './fixtures/copilot-lines.js';

const NEW_ID = '0c0c0c0c-1111-8222-9333-444455556666';
/** The first line of the note roam writes for a tool call carried as text (any source tool). */
const NOTE = /^\[(.+) tool call from (Claude Code|Codex|Copilot CLI), carried as text by roam\]/;

let scratch: string;
sandbox('roam-convert-copilot-', (dir) => {
  scratch = dir;
});


/** (role, text) of the entries with text, roam's tool notes and hidden context left out. */
function texts(entries: readonly TranscriptEntry[]): Array<[string, string]> {
  return entries.filter((e) => e.text.trim() && !NOTE.test(e.text) && !(e.meta && e.role === 'user' && /^<environment_context|^\[This conversation was continued/.test(e.text)))
    .map((e) => [e.role, e.text]);
}

/**
 * The events of a converted session, checked as the CLI reads them: session.start first with the
 * id and cwd; each event's parentId the id before; every tool request answered by a
 * tool.execution_complete before the next message; timestamps everywhere.
 */
function copilotEvents(text: string, id: string, cwd: string): Obj[] {
  const events = jsonl(text);
  expect(events[0]).toMatchObject({ type: 'session.start', parentId: null, data: { sessionId: id, version: 1, producer: 'roam', context: { cwd } } });
  let parent: string | null = null;
  let open: string[] = [];
  for (const e of events) {
    expect(e.parentId).toBe(parent);
    expect(e.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Number.isFinite(Date.parse(e.timestamp))).toBe(true);
    parent = e.id;
    if (e.type === 'user.message' || e.type === 'assistant.message') expect(open).toEqual([]);
    if (e.type === 'assistant.message') {
      open = (e.data.toolRequests as Obj[]).map((r) => r.toolCallId as string);
      for (const r of e.data.toolRequests as Obj[]) {
        expect(r).toMatchObject({ name: 'bash', type: 'function', arguments: { command: expect.any(String) } });
        expect(r.toolCallId).toMatch(/^[A-Za-z0-9_-]+$/);
      }
    }
    if (e.type === 'tool.execution_complete') {
      expect(open).toContain(e.data.toolCallId);
      open = open.filter((x) => x !== e.data.toolCallId);
      expect(typeof e.data.result.content).toBe('string');
    }
  }
  expect(open).toEqual([]);
  return events;
}

describe('Claude Code → Copilot CLI', () => {
  for (const name of CLAUDE_FIXTURES) {
    it(`the real session ${name.slice(0, 8)}: texts in order, Bash as bash, other tools as notes`, () => {
      const { source, r } = convertFixture(name, 'copilot', NEW_ID);
      copilotEvents(r.text, NEW_ID, DIR);
      const back = copilotTranscript(r.text);
      expect(texts(back)).toEqual(texts(source));
      expect(bashCommands(back, 'bash')).toEqual(bashCommands(source));
      const others = source.flatMap((e) => e.toolUses).filter((u) => u.name !== 'Bash');
      const notes = back.filter((e) => NOTE.test(e.text));
      expect(notes.map((e) => NOTE.exec(e.text)![1])).toEqual(others.map((u) => u.name));
      expect(kinds(r.dropped)['tool-as-text'] ?? 0).toBe(others.length);
    });
  }

  it('a Bash call with no output gets a note as its output; an error stays an error', () => {
    const s = unansweredBash('5e550000-0000-4000-8000-0000000000c1');
    s.user('Stop that');
    const r = convertText({ tool: 'claude', id: s.id }, s.text(), 'copilot', { id: NEW_ID, cwd: DIR });
    const events = copilotEvents(r.text, NEW_ID, DIR);
    const done = events.filter((e) => e.type === 'tool.execution_complete').map((e) => [e.data.success, e.data.result.content]);
    expect(done).toEqual([[false, 'exit 1'], [true, '[no output was recorded for this call]']]);
    expect(kinds(r.dropped)['missing-output']).toBe(1);
    expect(texts(copilotTranscript(r.text))).toEqual([['user', 'Run two things'], ['assistant', 'Running.'], ['user', 'Stop that']]);
  });
});

describe('Codex → Copilot CLI', () => {
  it('the real rollout: the texts Codex replays, in order; shell calls as bash', () => {
    const text = readFileSync(CODEX_FIXTURE, 'utf8');
    const source = codexTranscript(text);
    const r = convertText({ tool: 'codex', id: '97b66f6c-a160-40e0-bd0f-1fdcbbb9498b' }, text, 'copilot', { id: NEW_ID, cwd: DIR });
    copilotEvents(r.text, NEW_ID, DIR);
    const back = copilotTranscript(r.text);
    expect(texts(back)).toEqual(texts(source).filter(([role, t]) => !(role === 'user' && /^<(environment_context|user_instructions)|^# AGENTS\.md/.test(t))));
    expect(bashCommands(back, 'bash').length).toBe(r.conversation.items.filter((i) => i.type === 'call' && i.shell).length);
    expect(bashCommands(back, 'bash').length).toBeGreaterThan(0);
  });
});

describe('Copilot CLI → Claude Code and Codex', () => {
  function copilotSession(): CopilotSession {
    const s = new CopilotSession('c0c0c0c0-0000-4000-8000-000000000001', '/home/dev/app');
    s.user('Find the zebracorn config')
      .assistant('Looking.', [{ toolCallId: 'call_1', name: 'bash', arguments: { command: 'grep -r zebracorn .', description: 'search' } }])
      .tool('call_1', 'bash', { command: 'grep -r zebracorn .' }, './app.conf: zebracorn=1')
      .assistant('Reading it.', [{ toolCallId: 'call_2', name: 'view', arguments: { path: '/home/dev/app/app.conf' } }])
      .tool('call_2', 'view', { path: '/home/dev/app/app.conf' }, '1. zebracorn=1')
      .assistant('It is in app.conf.')
      .user('Thanks')
      .assistant('You are welcome.');
    s.event('assistant.message', { messageId: 'sub', content: 'sub-agent chatter' }, { agentId: 'agent-7' });
    return s;
  }

  it('→ Claude Code: texts in order, bash as Bash with its output, view as a note; system messages and sub-agents reported', () => {
    const s = copilotSession();
    const r = convertText({ tool: 'copilot', id: s.id }, s.text(), 'claude', { id: NEW_ID, cwd: DIR });
    const out = join(scratch, 'x.jsonl');
    writeFileSync(out, r.text);
    const back = readTranscript(out);
    expect(texts(back)).toEqual([
      ['user', 'Find the zebracorn config'], ['assistant', 'Looking.'], ['assistant', 'Reading it.'], ['assistant', 'It is in app.conf.'],
      ['user', 'Thanks'], ['assistant', 'You are welcome.'],
    ]);
    expect(bashCommands(back)).toEqual(['grep -r zebracorn .']);
    expect(back.flatMap((e) => e.toolResults).map((t) => t.text)).toEqual(['./app.conf: zebracorn=1']);
    const note = back.find((e) => NOTE.test(e.text))!;
    expect(NOTE.exec(note.text)!.slice(1)).toEqual(['view', 'Copilot CLI']);
    expect(note.text).toContain('1. zebracorn=1');
    expect(kinds(r.dropped)).toMatchObject({ system: 2, subagent: 1, 'tool-as-text': 1 });
  });

  it('→ Codex: texts in order, bash as exec_command', () => {
    const s = copilotSession();
    const r = convertText({ tool: 'copilot', id: s.id }, s.text(), 'codex', { id: NEW_ID, cwd: DIR });
    const back = codexTranscript(r.text);
    expect(texts(back).map(([, t]) => t)).toEqual(['Find the zebracorn config', 'Looking.', 'Reading it.', 'It is in app.conf.', 'Thanks', 'You are welcome.']);
    const calls = jsonl(r.text).filter((l) => l.type === 'response_item' && l.payload.type === 'function_call');
    expect(calls.map((c) => [c.payload.name, JSON.parse(c.payload.arguments).cmd])).toEqual([['exec_command', 'grep -r zebracorn .']]);
  });

  it('round trip Copilot → Claude → Copilot keeps texts and shell calls', () => {
    const s = copilotSession();
    const there = convertText({ tool: 'copilot', id: s.id }, s.text(), 'claude', { id: NEW_ID, cwd: DIR });
    const back = convertText({ tool: 'claude', id: NEW_ID }, there.text, 'copilot', { id: s.id, cwd: DIR });
    const t = copilotTranscript(back.text);
    expect(texts(t)).toEqual(texts(copilotTranscript(s.text())).filter(([, x]) => x !== 'sub-agent chatter'));
    expect(bashCommands(t, 'bash')).toEqual(['grep -r zebracorn .']);
  });

  it('Copilot is convertible, and resumeArgv appends the arguments after --', () => {
    expect(CONVERTIBLE).toContain('copilot');
    const target = new CopilotAdapter({ env: { HOME: scratch }, cacheFile: null });
    expect(resumeArgv(target, NEW_ID, ['-p', 'go on', '--allow-all-tools'], DIR)).toEqual(['copilot', '--resume', NEW_ID, '-C', DIR, '-p', 'go on', '--allow-all-tools']);
  });
});

describe('planConversion / applyConversion into COPILOT_HOME', () => {
  function copilotHomes() {
    const h = homes(scratch, ['code', 'app'], { COPILOT_HOME: join(scratch, 'copilot') });
    return { ...h, copilot: new CopilotAdapter({ env: h.env, cacheFile: null }) };
  }

  it('Claude → Copilot: a session directory with events.jsonl and workspace.yaml, listed in the project; reused while identical; a new id once it grew', async () => {
    const h = copilotHomes();
    const { src, before, session } = await claudeSource(h, '5e550000-0000-4000-8000-0000000000c2', 'Hello copilot', 'Hi from claude');
    const plan = await planConversion({ adapter: h.claude, session }, h.copilot, h.project);
    const dir = join(h.env.COPILOT_HOME, 'session-state', plan.id);
    expect(plan).toMatchObject({ target: 'copilot', exists: false, cwd: h.project, file: join(dir, 'events.jsonl') });
    expect(plan.files.map((f) => f.path)).toEqual([join(dir, 'events.jsonl'), join(dir, 'workspace.yaml')]);
    expect(applyConversion(plan, h.copilot, h.env)).toEqual([]);
    expect(readFileSync(plan.file).equals(plan.bytes)).toBe(true);
    expect(parseWorkspaceYaml(readFileSync(join(dir, 'workspace.yaml'), 'utf8'))).toMatchObject({ id: plan.id, cwd: h.project, name: 'Hello copilot', user_named: 'false' });
    expect(await h.copilot.list({ project: h.project })).toEqual([expect.objectContaining({ id: plan.id, title: 'Hello copilot', messages: 2, cwd: h.project })]);
    // Again: the same id, reused.
    const again = await planConversion({ adapter: h.claude, session }, h.copilot, h.project);
    expect(again).toMatchObject({ id: plan.id, exists: true });
    // Copilot appended to the converted session: the next conversion is a new one.
    appendFileSync(plan.file, `${JSON.stringify({ type: 'session.resume', data: { resumeTime: '2026-05-01T00:00:00.000Z', eventCount: 3 }, id: 'r', timestamp: '2026-05-01T00:00:00.000Z', parentId: null })}\n`);
    const third = await planConversion({ adapter: h.claude, session }, h.copilot, h.project);
    expect(third.exists).toBe(false);
    expect(third.id).not.toBe(plan.id);
    // A directory by that id with no session in it takes the id too.
    mkdirSync(join(h.env.COPILOT_HOME, 'session-state', third.id), { recursive: true });
    const fourth = await planConversion({ adapter: h.claude, session }, h.copilot, h.project);
    expect([plan.id, third.id]).not.toContain(fourth.id);
    expect(readFileSync(src).equals(before)).toBe(true);
  });

  it('Copilot → Codex: a rollout Codex lists in the directory; the source directory untouched', async () => {
    const h = copilotHomes();
    const s = new CopilotSession('c0c0c0c0-0000-4000-8000-000000000003', h.project).user('Hello from copilot').assistant('Copilot answer');
    const src = s.write(h.env.COPILOT_HOME);
    const before = readFileSync(src);
    const session = (await h.copilot.find(s.id))!;
    const plan = await planConversion({ adapter: h.copilot, session }, h.codex, h.project);
    applyConversion(plan, h.codex, h.env);
    expect(await h.codex.list({ project: h.project })).toEqual([expect.objectContaining({ id: plan.id, title: 'Hello from copilot', messages: 2 })]);
    expect(readFileSync(src).equals(before)).toBe(true);
    expect(existsSync(join(h.env.COPILOT_HOME, 'session-state', plan.id))).toBe(false);
  });
});
