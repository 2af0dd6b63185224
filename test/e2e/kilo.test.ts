/**
 * Kilo CLI (`@kilocode/cli` 7.7.7, an OpenCode fork) end to end with its real CLI: a session made
 * on A travels as its roam-owned log, is resumed on B through `kilo import`, and B's turn reaches A
 * (test/support/opencode-suite.ts). The guards on the database are the code OpenCode's test runs
 * (test/e2e/opencode.test.ts). docs/tools/kilo.md.
 */
import { familySuite } from '../support/opencode-suite.js';
import { KILO_CLI } from '../support/opencode.js';

familySuite(KILO_CLI, { guards: false });
