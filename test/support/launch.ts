/**
 * The real agent CLIs' child processes in tests: a launcher for a pinned CLI's script, and the
 * kill that takes a CLI down with its process group.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** `dir` holding `name`, a launcher of `script` with this Node.js, to put first on PATH. */
export function nodeLauncherDir(dir: string, name: string, script: string): string {
  mkdirSync(dir, { recursive: true });
  const bin = join(dir, name);
  writeFileSync(bin, `#!/bin/sh\nexec "${process.execPath}" "${script}" "$@"\n`);
  chmodSync(bin, 0o755);
  return dir;
}

/** SIGKILL to each pid's process group and to the pid itself (undefined: none; already gone: nothing). */
export function killGroups(pids: ReadonlyArray<number | undefined>): void {
  for (const target of pids) {
    if (target === undefined) continue;
    for (const pid of [-target, target]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}
