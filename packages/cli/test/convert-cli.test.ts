/**
 * `roam resume <id> --in <tool>` through the command table (run() of main.ts), with HOME,
 * CLAUDE_CONFIG_DIR, CODEX_HOME and ROAM_HOME in temporary directories and stand-in `claude` and
 * `codex` scripts on PATH that record how they were run. (test/e2e/convert.test.ts runs the real CLIs.)
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { roam } from './support/roam.js';
import { isolate, onPath, sandbox } from './support/sandbox.js';
import { projectKey } from '../src/tools/claude/index.js';
import { Session } from './fixtures/claude-lines.js';
import { Rollout } from './fixtures/codex/codex-lines.js';

let base: string;
let project: string;
let record: string;
const PATH = process.env.PATH;
const CLAUDE_ID = 'c1a0de00-0000-4000-8000-000000000001';
const CODEX_ID = '01a1fdb8-0000-7000-8000-0000000000c0';

sandbox('roam-convert-cli-', (dir) => {
  base = dir;
  project = isolate(base, 'code', 'app');
  record = join(base, 'record');
  const standIn = (tool: string) => `#!/bin/sh\nprintf '%s\\n' "${tool}" "$PWD" "$@" > '${record}'\nexit 3\n`;
  onPath(join(base, 'bin'), { claude: standIn('claude'), codex: standIn('codex') }, PATH);

  const s = new Session(CLAUDE_ID, project);
  s.user('Remember zebracorn');
  const t = s.toolUse('Read', { file_path: 'a.ts' });
  s.assistant([{ type: 'thinking', thinking: 'secret thoughts', signature: 'x' }, { type: 'text', text: 'Noted.' }, t]);
  s.toolResult(t.id, 'const a = 1');
  s.write(join(base, 'claude', 'projects', projectKey(project), `${CLAUDE_ID}.jsonl`));
  const r = new Rollout(CODEX_ID, project, Date.UTC(2025, 11, 1));
  r.user('Codex prompt');
  r.reasoning();
  r.assistant('Codex answer');
  r.write(join(base, 'codex'));
});

function rollouts(): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const n of existsSync(d) ? readdirSync(d, { withFileTypes: true }) : []) {
      if (n.isDirectory()) walk(join(d, n.name));
      else out.push(n.name);
    }
  };
  walk(join(base, 'codex', 'sessions'));
  return out.sort();
}

/** The rollouts other than the source's. */
const converted = () => rollouts().filter((n) => !n.includes(CODEX_ID));

describe('roam resume --in', () => {
  it('--dry-run: {cwd, command, session, convertedFrom, dropped}; what was dropped on stderr; nothing written', async () => {
    const r = await roam('resume', CLAUDE_ID.slice(0, 8), '--in', 'codex', '--dry-run', '--', 'exec', '--skip-git-repo-check', 'go on');
    expect(r.code, r.err).toBe(0);
    const plan = JSON.parse(r.out) as { cwd: string; command: string[]; session: string; file: string; exists: boolean; convertedFrom: unknown; dropped: Array<{ kind: string; count: number; detail: string }> };
    expect(plan).toMatchObject({
      cwd: project,
      command: ['codex', 'exec', 'resume', plan.session, '--skip-git-repo-check', 'go on'],
      exists: false,
      convertedFrom: { tool: 'claude', session: CLAUDE_ID, file: join(base, 'claude', 'projects', projectKey(project), `${CLAUDE_ID}.jsonl`) },
    });
    expect(plan.session).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(plan.file.startsWith(join(base, 'codex', 'sessions', '2026', '01', ''))).toBe(true);
    expect(plan.dropped.map((d) => [d.kind, d.count])).toEqual([['thinking', 1], ['tool-as-text', 1]]);
    expect(r.err).toMatch(/roam: Claude Code session c1a0de00-.* converted to Codex session .* \(dry run: not written\)/);
    expect(r.err).toMatch(/not carried as it was: 1 × thinking blocks/);
    expect(r.err).toMatch(/not carried as it was: 1 × tool calls with no same-shaped tool in Codex.*\(Read ×1\)/);
    expect(converted()).toEqual([]);
    // The same conversion again: the same id.
    expect(JSON.parse((await roam('resume', CLAUDE_ID, '--in', 'codex', '--dry-run')).out).session).toBe(plan.session);
  });

  it('runs the target tool on the converted session in its directory, exits with its code, and reuses it next time', async () => {
    const first = await roam('resume', CLAUDE_ID, '--in', 'codex', '--', 'exec', 'go on');
    expect(first.code).toBe(3);
    const [tool, cwd, ...args] = readFileSync(record, 'utf8').trim().split('\n');
    expect([tool, cwd]).toEqual(['codex', project]);
    const id = args[2]!;
    expect(args).toEqual(['exec', 'resume', id, 'go on']);
    const file = rollouts().find((n) => n.includes(id));
    expect(file).toBeDefined();
    expect(first.err).toMatch(new RegExp(`converted to Codex session ${id}`));
    const again = await roam('resume', CLAUDE_ID, '--in', 'codex');
    expect(again.code).toBe(3);
    expect(again.err).toMatch(new RegExp(`was converted before: resuming Codex session ${id}`));
    expect(readFileSync(record, 'utf8').trim().split('\n').slice(2)).toEqual(['resume', id]);
    expect(converted()).toEqual([file]);
  });

  it('Codex → Claude Code: `claude --resume <new id>` with the arguments after --, the transcript under this directory\'s key', async () => {
    const r = await roam('resume', CODEX_ID, '--in', 'claude', '--', '-p', 'next');
    expect(r.code).toBe(3);
    const [tool, cwd, ...args] = readFileSync(record, 'utf8').trim().split('\n');
    expect([tool, cwd, args[0], args[2], args[3]]).toEqual(['claude', project, '--resume', '-p', 'next']);
    const text = readFileSync(join(base, 'claude', 'projects', projectKey(project), `${args[1]}.jsonl`), 'utf8');
    expect(text.split('\n').filter(Boolean).map((l) => JSON.parse(l).sessionId)).toEqual([args[1], args[1]]);
    expect(r.err).toMatch(/1 × reasoning items/);
    // `roam show` reads the new session like any other.
    const shown = await roam('show', args[1]!);
    expect(shown.out).toMatch(/## User\s+Codex prompt\s+## Assistant\s+Codex answer\s*$/);
  });

  it('without an id: the newest session here, whichever tool; --in of the same tool is a plain resume', async () => {
    const r = await roam('resume', '--in', 'claude', '--dry-run');
    expect(r.code, r.err).toBe(0);
    // The Claude session is the newest (2026 against 2025): a plain resume.
    expect(JSON.parse(r.out)).toMatchObject({ command: ['claude', '--resume', CLAUDE_ID], session: CLAUDE_ID });
  });

  it('the target tool not installed: ROAM_TOOL_NOT_FOUND before anything is written', async () => {
    process.env.PATH = join(base, 'nothing-here');
    const r = await roam('resume', CLAUDE_ID, '--in', 'codex');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/ROAM_TOOL_NOT_FOUND: codex is not on PATH/);
    expect(converted()).toEqual([]);
  });

  it('--in a tool roam does not convert to: ROAM_USAGE, nothing written', async () => {
    const r = await roam('resume', CLAUDE_ID, '--in', 'vim');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/ROAM_USAGE: --in vim: roam converts sessions between claude(, | and )codex\b.* only/);
    expect(converted()).toEqual([]);
    expect(existsSync(record)).toBe(false);
  });
});
