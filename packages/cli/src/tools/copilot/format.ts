/** Copilot CLI's conversion format (convert/format.ts): its source, its target and where a converted session lives. */
import { dirname, join } from 'node:path';
import type { Format } from '../../convert/format.js';
import type { CopilotAdapter } from './adapter.js';
import { fromCopilot } from './source.js';
import { copilotWorkspace, toCopilot } from './target.js';

/**
 * Copilot CLI: a session is a directory, `session-state/<id>/` with `events.jsonl` (the transcript)
 * and `workspace.yaml`; the CLI resumes it from these alone (measured, docs/COPILOT.md: no index
 * entry needed). The directory existing at all takes the id.
 */
export const copilotFormat: Format<CopilotAdapter> = {
  read: fromCopilot,
  write: toCopilot,
  transcriptPath: (target, id) => join(target.root(), 'session-state', id, 'events.jsonl'),
  companions: (conv, opts, transcript) => [{ path: join(dirname(transcript), 'workspace.yaml'), bytes: Buffer.from(copilotWorkspace(conv, opts), 'utf8') }],
  taken: (transcript) => [dirname(transcript)],
};

