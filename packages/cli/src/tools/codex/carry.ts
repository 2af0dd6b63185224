/**
 * What `roam resume` cannot carry of a Codex session (docs/CODEX.md "The session index and
 * `--last`"): Codex 0.169 filters `codex resume --last` by the directory the
 * rollout last recorded, which roam never rewrites; and the user's configuration.
 */
import { configNotSynced, PROCESSES_STAY } from '../../sessions/carry.js';

export function codexNotCarried(recorded: string | null, dir: string): string[] {
  const out: string[] = [];
  if (recorded && recorded !== dir) {
    out.push(`\`codex resume --last\` here picks a session by the directory it last ran in (${recorded}), which roam does not rewrite: roam resumes it by id, after which \`--last\` finds it in ${dir}`);
  }
  out.push(configNotSynced('config.toml, AGENTS.md, skills/, prompts/'));
  out.push('shell snapshots (shell_snapshots/): per machine');
  out.push(PROCESSES_STAY);
  return out;
}
