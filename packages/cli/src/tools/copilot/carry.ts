/** What `roam resume` cannot carry of a Copilot CLI session (docs/COPILOT.md "Beyond the transcript"). */
import { configNotSynced, PROCESSES_STAY } from '../../sessions/carry.js';

export function copilotNotCarried(): string[] {
  return [
    'session-store.db (the CLI\'s index and search of sessions): per machine; the CLI indexes the session when it resumes it',
    configNotSynced('~/.copilot/config.json, mcp-config.json, agents/, copilot-instructions.md'),
    PROCESSES_STAY,
  ];
}
