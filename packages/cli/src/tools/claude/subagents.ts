/**
 * A Claude Code session's sub-agents: each Task the model delegated runs as its own conversation in
 * `<project>/<id>/subagents/agent-<agentId>.jsonl` (every line a side chain, so transcript.ts's
 * main-chain path leaves them out, as `roam show` does: the main conversation carries each
 * sub-agent's result with its call). Read for `roam ui`'s session page: each file's user and
 * assistant lines in file order, with the description its `.meta.json` gives, when it gives one.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { NL, parseLine } from '../../sessions/lines.js';
import type { SubAgent, TranscriptEntry } from '../../sessions/types.js';
import { toEntry } from './transcript.js';

/** At most this many sub-agents, and this many bytes of each, are read (a page, not an archive). */
const MAX_AGENTS = 50;
const MAX_BYTES = 4 * 1024 * 1024;

export function readSubagents(sessionFile: string): SubAgent[] {
  const dir = join(sessionFile.replace(/\.jsonl$/, ''), 'subagents');
  if (!existsSync(dir)) return [];
  const names = readdirSync(dir).filter((n) => /^agent-[\w-]+\.jsonl$/.test(n)).sort().slice(0, MAX_AGENTS);
  return names.map((name) => {
    const file = join(dir, name);
    const buf = readFileSync(file).subarray(0, MAX_BYTES);
    const entries: TranscriptEntry[] = [];
    let s = 0;
    for (let e = buf.indexOf(NL, s); e >= 0; e = buf.indexOf(NL, s)) {
      const o = parseLine(buf, s, e);
      const entry = o && (o.type === 'user' || o.type === 'assistant') ? toEntry(o) : null;
      if (entry) entries.push(entry);
      s = e + 1;
    }
    return { id: name.slice('agent-'.length, -'.jsonl'.length), description: describe(file.replace(/\.jsonl$/, '.meta.json')), entries };
  });
}

/** The sub-agent's description or type from its `.meta.json`, or null. */
function describe(meta: string): string | null {
  try {
    const o = JSON.parse(readFileSync(meta, 'utf8')) as Record<string, unknown>;
    for (const k of ['description', 'agentType', 'subagent_type', 'name']) if (typeof o[k] === 'string' && o[k]) return o[k];
  } catch {
    // no meta file, or not JSON: no description
  }
  return null;
}
