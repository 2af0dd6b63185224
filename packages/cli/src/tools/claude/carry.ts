/**
 * What `roam resume` cannot carry of a Claude Code session (docs/CLAUDE-CODE.md "Beyond the
 * transcript"): the workspace trust (never copied: ~/.claude.json's project entries are this
 * machine's), user-level configuration, the other device's processes.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { configNotSynced, PROCESSES_STAY } from '../../sessions/carry.js';

/** `~/.claude.json` (or `$CLAUDE_CONFIG_DIR/.claude.json`). */
export function claudeJsonFile(env: NodeJS.ProcessEnv, home: string): string {
  return env.CLAUDE_CONFIG_DIR ? join(env.CLAUDE_CONFIG_DIR, '.claude.json') : join(home, '.claude.json');
}

/** Whether this machine's Claude Code trusts `dir` (its entry, or an ancestor's). */
export function trustedHere(file: string, dir: string): boolean {
  let projects: Record<string, { hasTrustDialogAccepted?: unknown }> = {};
  try {
    projects = (JSON.parse(readFileSync(file, 'utf8')) as { projects?: typeof projects }).projects ?? {};
  } catch {
    return false;
  }
  for (let d = dir; ; d = dirname(d)) {
    if (projects[d]?.hasTrustDialogAccepted === true) return true;
    if (dirname(d) === d) return false;
  }
}

export function claudeNotCarried(env: NodeJS.ProcessEnv, home: string, dir: string): string[] {
  const out: string[] = [];
  if (!trustedHere(claudeJsonFile(env, home), dir)) out.push(`workspace trust of ${dir}: never copied from another device; Claude Code asks before it starts here`);
  out.push(configNotSynced('~/.claude/CLAUDE.md, settings.json, commands/, agents/, skills/, hooks'));
  out.push(PROCESSES_STAY);
  return out;
}
