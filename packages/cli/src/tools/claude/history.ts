/**
 * Claude Code's prompt history, `$CLAUDE_CONFIG_DIR/history.jsonl` (else `~/.claude/history.jsonl`):
 * one line per prompt typed interactively, `{"display","pastedContents","timestamp","project",
 * "sessionId"}`, which ↑ recalls for the project of the cwd (docs/CLAUDE-CODE.md). Every device
 * appends to it: roam syncs it as the union log `claude-history` (docs/PROTOCOL.md, "Union logs"),
 * `project` mapped between this device's path and its home-relative form.
 */
import { join } from 'node:path';
import type { UnionLogSpec } from '../types.js';
import { CLAUDE } from './adapter.js';

export const claudeHistory: UnionLogSpec = {
  id: 'claude-history',
  label: 'Claude Code prompt history',
  file: (env) => join(CLAUDE.home(env), 'history.jsonl'),
  mapLine(line, map) {
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      return line; // not a line Claude Code wrote: carried as it is
    }
    if (!o || typeof o !== 'object' || Array.isArray(o)) return line;
    const rec = o as Record<string, unknown>;
    if (typeof rec.project !== 'string') return line;
    const project = map(rec.project);
    return project === rec.project ? line : JSON.stringify({ ...rec, project });
  },
};
