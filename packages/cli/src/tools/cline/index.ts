/**
 * Cline (the VS Code extension `saoudrizwan.claude-dev`), captured: its task folders under VS Code's
 * globalStorage (tools/common/tasks.ts), read from the format its public source writes
 * (docs/tools/cline.md). Listed in tools/registry.ts.
 */
import { taskTool } from '../common/tasks.js';

export const cline = taskTool(
  { tool: 'cline', label: 'Cline', id: 'saoudrizwan.claude-dev' },
  { measured: 'source@0162b82', does: ['sync', 'capture', 'convert-from'], doc: 'docs/tools/cline.md' },
);
