/**
 * Roo Code (the VS Code extension `rooveterinaryinc.roo-cline`, a fork of Cline), captured: its
 * task folders under VS Code's globalStorage (tools/common/tasks.ts), read from the format its
 * public source writes (docs/tools/cline.md). Listed in tools/registry.ts.
 */
import { taskTool } from '../common/tasks.js';

export const roo = taskTool(
  { tool: 'roo', label: 'Roo Code', id: 'rooveterinaryinc.roo-cline' },
  { measured: 'source@1b629c0', does: ['sync', 'capture', 'convert-from'], doc: 'docs/tools/cline.md' },
);
