/**
 * Codex's prompt history, `$CODEX_HOME/history.jsonl` (else `~/.codex/history.jsonl`): one line per
 * prompt, `{"session_id","ts","text"}`, with no path in it (docs/CODEX.md). Every device appends to
 * it: roam syncs it as the union log `codex-history` (docs/PROTOCOL.md, "Union logs"), lines as
 * they are.
 */
import { join } from 'node:path';
import type { UnionLogSpec } from '../types.js';
import { CODEX } from './adapter.js';

export const codexHistory: UnionLogSpec = {
  id: 'codex-history',
  label: 'Codex prompt history',
  file: (env) => join(CODEX.home(env), 'history.jsonl'),
  mapLine: (line) => line,
};
