/** What the conversion tests (convert*.test.ts) share: the fixtures they convert, readers of the results, the homes they write into. */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertText, type ConvertibleTool, type Dropped } from '../../src/convert/index.js';
import type { TranscriptEntry } from '../../src/sessions/types.js';
import { ClaudeAdapter, projectKey } from '../../src/tools/claude/index.js';
import { CodexAdapter } from '../../src/tools/codex/index.js';
import { readTranscript } from '../../src/tools/claude/transcript.js';
import { Session } from '../fixtures/claude-lines.js';

export const FIX = join(import.meta.dirname, '..', 'fixtures');
/** The real Claude Code sessions in the fixtures (MIT, fixtures/SOURCES.md). */
export const CLAUDE_FIXTURES = ['1af7fc5e-8455-4414-9ccd-011d40f70b2a', 'fe5e1c67-53e7-4862-81ae-d0e013e3270b'];
/** The real Codex rollout in the fixtures (MIT, fixtures/codex/SOURCES.md). */
export const CODEX_FIXTURE = join(FIX, 'codex', 'rollout-2025-11-01T11-34-37-97b66f6c-a160-40e0-bd0f-1fdcbbb9498b.jsonl');
/** The directory a conversion is made for. */
export const DIR = '/home/dev/target';

export type Obj = Record<string, any>;
export const jsonl = (text: string): Obj[] => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Obj);
/** What a conversion dropped, as { kind: count }. */
export const kinds = (d: readonly Dropped[]) => Object.fromEntries(d.map((x) => [x.kind, x.count]));
/** The commands of the `name` tool calls in a transcript. */
export const bashCommands = (entries: readonly TranscriptEntry[], name = 'Bash') => entries.flatMap((e) => e.toolUses.filter((u) => u.name === name).map((u) => (u.input as { command: string }).command));

/**
 * The tools' homes under `base` as an environment (HOME, CLAUDE_CONFIG_DIR, CODEX_HOME, ROAM_HOME,
 * and `more`), not the process's; the project directory `base/<rel…>` made; Claude Code's and
 * Codex's adapters on that environment.
 */
export function homes<E extends Record<string, string>>(base: string, rel: string[], more: E = {} as E) {
  const env = { HOME: join(base, 'home'), CLAUDE_CONFIG_DIR: join(base, 'claude'), CODEX_HOME: join(base, 'codex'), ROAM_HOME: join(base, 'roam'), ...more };
  const project = join(base, ...rel);
  mkdirSync(project, { recursive: true });
  return { env, project, claude: new ClaudeAdapter({ env, cacheFile: null }), codex: new CodexAdapter({ env, cacheFile: null }) };
}

/** The real Claude Code session `name` of the fixtures, converted to `target` for DIR as `id`: its transcript and the result. */
export function convertFixture(name: string, target: ConvertibleTool, id: string) {
  const file = join(FIX, `${name}.jsonl`);
  return { source: readTranscript(file), r: convertText({ tool: 'claude', id: name }, readFileSync(file, 'utf8'), target, { id, cwd: DIR }) };
}

/** A Claude Code session `id`: "Run two things", two Bash calls, only the first answered (an error, `exit 1`). */
export function unansweredBash(id: string): Session {
  const s = new Session(id, '/home/dev/app');
  s.user('Run two things');
  const a = s.toolUse('Bash', { command: 'false' });
  const b = s.toolUse('Bash', { command: 'sleep 100' });
  s.assistant([{ type: 'text', text: 'Running.' }, a, b]);
  s.user([{ tool_use_id: a.id, type: 'tool_result', content: 'exit 1', is_error: true }]);
  return s;
}

/**
 * The source of a conversion: a Claude Code session `id` (`prompt`, then `answer`) in the project
 * of `h` (from homes()): the session, its file, the file's bytes now, and what the adapter finds.
 */
export async function claudeSource(h: ReturnType<typeof homes>, id: string, prompt: string, answer: string) {
  const s = new Session(id, h.project);
  s.user(prompt);
  s.assistant([{ type: 'text', text: answer }]);
  const src = s.write(join(h.env.CLAUDE_CONFIG_DIR, 'projects', projectKey(h.project), `${s.id}.jsonl`));
  return { s, src, before: readFileSync(src), session: (await h.claude.find(s.id))! };
}
