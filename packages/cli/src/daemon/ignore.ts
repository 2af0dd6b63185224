/** A folder's ignore rules as the daemon applies them: roam's defaults plus its `.roamignore`. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IgnoreRules } from '@roam/core';

export function ignoreRulesFor(root: string, only: readonly string[] | null = null): IgnoreRules {
  let own: string[] = [];
  try {
    own = readFileSync(join(root, '.roamignore'), 'utf8').split(/\r?\n/);
  } catch {
    // No .roamignore: defaults only.
  }
  return IgnoreRules.withDefaults(own, only);
}
