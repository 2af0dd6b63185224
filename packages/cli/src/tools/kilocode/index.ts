/**
 * Kilo Code (the VS Code extension `kilocode.kilo-code`, a fork of Roo Code), captured: its task
 * folders under VS Code's globalStorage (tools/common/tasks.ts), read from the format its public
 * source writes (docs/tools/cline.md). Listed in tools/registry.ts. (The Kilo CLI is another tool.)
 */
import { taskTool } from '../common/tasks.js';

export const kilocode = taskTool(
  { tool: 'kilocode', label: 'Kilo Code', id: 'kilocode.kilo-code' },
  { measured: 'source@74d6e48', does: ['sync', 'capture', 'convert-from'], doc: 'docs/tools/cline.md' },
);
