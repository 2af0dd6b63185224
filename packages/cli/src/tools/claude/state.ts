/**
 * Claude Code's per-session state beside its transcripts (measured with 2.1.329, docs/CLAUDE-CODE.md
 * §"Beyond the transcript"): each kind is a folder of its own under `~/.claude` (or
 * CLAUDE_CONFIG_DIR), synced by roamd under its own folder id, removed with its session by `roam rm`.
 *
 * - `file-history/<sid>/<hash>@v<n>`: the `/rewind` checkpoints (backups of edited files; never rewritten)
 * - `tasks/<sid>/<n>.json` (+ `.lock`): the task list the Task tools keep (the todo list shown in the UI)
 * - `todos/<sid>-agent-<sid>.json`: the TodoWrite list of versions that have TodoWrite
 * - `session-env/<sid>/…`: environment files of the session's hooks
 * - `plans/<slug>.md`: plan-mode plans, named by the session's `slug` (a transcript field)
 *
 * None of them holds an absolute path in a field the CLI reads back (tasks and todos are lists of
 * texts and states; plans are the model's prose; backups are the files' old contents), so the wire
 * carries them as they are.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StateFolder } from '../types.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The first path segment when it is a session id (`<sid>/…`). */
const underId = (name: string): string | null => {
  const first = name.split('/')[0]!;
  return name.includes('/') && UUID.test(first) ? first : null;
};

/** The session a todos file is of (`<sid>.json`, `<sid>-agent-<agent id>.json`). */
const todosId = (name: string): string | null => {
  const m = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:-agent-[^/]*)?\.json$/i.exec(name);
  return m ? m[1]! : null;
};

/** The plan slugs a transcript names (`"slug":"…"` on its lines). */
export function planSlugs(transcript: string): string[] {
  let text: string;
  try {
    text = readFileSync(transcript, 'utf8');
  } catch {
    return [];
  }
  const out = new Set<string>();
  for (const m of text.matchAll(/"slug":"([a-z0-9][a-z0-9-]{0,127})"/g)) out.add(m[1]!);
  return [...out];
}

/** Claude Code's per-session state folders on this device, rooted at `home` (~/.claude). */
export function claudeStateFolders(home: string): StateFolder[] {
  const kind = (k: string, sessionOf: (name: string) => string | null, owns?: StateFolder['owns']): StateFolder => ({
    id: `claude-${k}`,
    kind: k,
    path: join(home, k),
    sessionOf,
    owns: owns ?? ((name, session) => sessionOf(name) === session),
  });
  return [
    kind('file-history', underId),
    kind('tasks', underId),
    kind('todos', todosId),
    kind('session-env', underId),
    kind('plans', () => null, (name, _session, transcript) => {
      const slugs = transcript ? planSlugs(transcript) : [];
      return slugs.some((s) => name === `${s}.md` || name.startsWith(`${s}-agent-`));
    }),
  ];
}
