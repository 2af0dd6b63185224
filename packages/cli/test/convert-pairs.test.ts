/**
 * Every ordered pair of tools roam converts between, through every third format too: a
 * conversation of texts and shell calls (what each target carries as itself, docs/CONVERT.md)
 * written in one tool's format, read back, written in another's and read back keeps its texts in
 * order, its shell commands and their outputs.
 */
import { describe, expect, it } from 'vitest';
import { CONVERTIBLE, readConversation, writeConversation } from '../src/convert/index.js';
import { Notes, type Conversation, type Item } from '../src/convert/ir.js';
import { toolNamed } from '../src/tools/registry.js';

/** The tools roam writes (a captured tool, read only, is read in its own tests). */
const WRITTEN = CONVERTIBLE.filter((t) => toolNamed(t)?.about.does.includes('convert-to'));

/**
 * Targets that carry a call as a text note in the assistant's message (OpenCode replays a tool part
 * only with its own tool state: docs/tools/opencode.md; the Cline CLI's own tool calls are not
 * measured yet: docs/tools/cline.md): through them the texts, commands and outputs must still
 * arrive, in order, as text.
 */
const CALLS_AS_TEXT = new Set(['opencode', 'kilo', 'cline-cli']);

const ID = '0c0c0c0c-1111-8222-9333-444455556666';
const NEXT = '0d0d0d0d-1111-8222-9333-444455556666';
const DIR = '/home/dev/app';
const at = (s: number) => new Date(Date.UTC(2026, 10, 21, 9, 0, s)).toISOString();

const source: Conversation = {
  tool: 'claude',
  id: 'src',
  started: at(0),
  model: null,
  gitBranch: 'main',
  items: [
    { type: 'text', role: 'user', text: 'Where is the zebracorn setting?', ts: at(1) },
    { type: 'text', role: 'assistant', text: 'Let me look.', ts: at(2) },
    { type: 'call', id: 'call_1', name: 'Bash', input: { command: 'grep -rn zebracorn .' }, shell: { command: 'grep -rn zebracorn .' }, ts: at(3) },
    { type: 'result', id: 'call_1', text: './app.conf:3: zebracorn=1', isError: false, ts: at(4) },
    { type: 'text', role: 'assistant', text: 'It is on line 3 of app.conf.', ts: at(5) },
    { type: 'text', role: 'user', text: 'Thanks, and the default?', ts: at(6) },
    { type: 'text', role: 'assistant', text: 'Zero, when the line is absent.', ts: at(7) },
  ],
};

/** What must survive: texts by role, shell commands, and each command's output. */
function essence(items: readonly Item[]): string[] {
  const out: string[] = [];
  for (const it of items) {
    if (it.type === 'text' && !it.meta && it.text.trim()) out.push(`${it.role}: ${it.text.trim()}`);
    else if (it.type === 'call' && it.shell) out.push(`shell: ${it.shell.command}`);
    else if (it.type === 'result') out.push(`output: ${it.text.trim()}`);
  }
  return out;
}

/** Every text, command and output of the source, in order, somewhere in the texts of `items`. */
function carriedAsText(items: readonly Item[]): void {
  const flat = items.filter((i) => i.type === 'text').map((i) => (i.type === 'text' ? i.text : '')).join('\n');
  let at = 0;
  for (const want of essence(source.items).map((e) => e.replace(/^(user|assistant|shell|output): /, ''))) {
    const found = flat.indexOf(want, at);
    expect(found, `"${want}" after offset ${at} in:\n${flat}`).toBeGreaterThanOrEqual(0);
    at = found + want.length;
  }
}

describe('conversion between every pair of tools', () => {
  it('covers every tool roam writes', () => {
    expect(WRITTEN).toEqual(expect.arrayContaining(['claude', 'codex', 'copilot', 'gemini', 'qwen']));
    expect(WRITTEN).not.toContain('cline');
  });

  for (const a of WRITTEN) {
    for (const b of WRITTEN) {
      if (a === b) continue;
      it(`${a} → ${b}: texts, shell commands and outputs in order`, () => {
        const notes = new Notes();
        if (CALLS_AS_TEXT.has(a) || CALLS_AS_TEXT.has(b)) {
          const inA = readConversation(a, ID, writeConversation(source, a, { id: ID, cwd: DIR, fallbackTime: at(0) }, notes), notes);
          const inB = readConversation(b, NEXT, writeConversation(inA, b, { id: NEXT, cwd: DIR, fallbackTime: at(0) }, notes), notes);
          carriedAsText(inB.items);
          expect(notes.list().some((d) => d.kind === 'tool-call' || d.kind === 'tool-as-text')).toBe(true);
          return;
        }
        const inA = readConversation(a, ID, writeConversation(source, a, { id: ID, cwd: DIR, fallbackTime: at(0) }, notes), notes);
        expect(essence(inA.items)).toEqual(essence(source.items));
        const inB = readConversation(b, NEXT, writeConversation(inA, b, { id: NEXT, cwd: DIR, fallbackTime: at(0) }, notes), notes);
        expect(essence(inB.items)).toEqual(essence(source.items));
        expect(notes.list().filter((d) => d.kind === 'tool-as-text')).toEqual([]);
      });
    }
  }
});
