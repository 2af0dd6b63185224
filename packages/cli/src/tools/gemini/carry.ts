/** What `roam resume` cannot carry of a Gemini CLI session (docs/GEMINI.md "Beyond the transcript"). */
import { configNotSynced, PROCESSES_STAY } from '../../sessions/carry.js';

export function geminiNotCarried(): string[] {
  return [
    '/restore checkpoints (the shadow git repository under ~/.gemini/history/<project>): per machine, not synced',
    configNotSynced('~/.gemini/settings.json, GEMINI.md, commands/, extensions/'),
    PROCESSES_STAY,
  ];
}
