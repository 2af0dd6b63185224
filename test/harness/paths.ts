/** Where the built CLI is, found from this file (its source in test/harness/ or its build in test/harness/dist/). */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRepo(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'packages', 'cli'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('test/harness: cannot find the repository root');
}

/** The repository root. */
export const REPO = findRepo();
export const CLI_DIST = join(REPO, 'packages', 'cli', 'dist');
/** The built daemon and CLI (`tsc -b` builds them). */
export const ROAMD = join(CLI_DIST, 'roamd.js');
export const ROAM = join(CLI_DIST, 'roam.js');
