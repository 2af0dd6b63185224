/**
 * Fault injection for the torture suite, off unless its environment variable is set.
 *
 * ROAM_TEST_KILL_IN_APPEND=<file>: while <file> exists, the next append to a replica stops
 * midway (about half its batch written and synced, cut inside a line), the file is removed and
 * roamd SIGKILLs itself: a crash inside the store's write window, on demand. Nothing secret is
 * involved; without the variable the append path is the ordinary one.
 */
import { existsSync, rmSync } from 'node:fs';

export function killInAppendHook(env: NodeJS.ProcessEnv = process.env): ((name: string) => Promise<void>) | undefined {
  const arm = env.ROAM_TEST_KILL_IN_APPEND;
  if (!arm) return undefined;
  return async () => {
    if (!existsSync(arm)) return;
    rmSync(arm, { force: true });
    process.kill(process.pid, 'SIGKILL');
    await new Promise<never>(() => undefined); // the signal ends the process before this resolves
  };
}
