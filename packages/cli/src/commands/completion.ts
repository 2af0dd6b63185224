/**
 * `roam completion bash|zsh|fish`: the shell's completion script, and `roam complete -- <words>`,
 * which that script calls for each Tab: both from @bomb.sh/tab's commander adapter, which reads
 * the same command table as the CLI (main.ts), so a new verb or option completes with nothing to
 * add here. Loaded only for these two commands (`roam` starts without it).
 *
 * @bomb.sh/tab (pinned): kept up (Bombshell, the team behind clack), no dependencies, MIT, its
 * commander adapter supports commander 13-15 and declares no Node engine (it runs on 20); it
 * generates dynamic scripts, so completions follow the installed roam without regenerating.
 * (omelette and tabtab have seen no release in years and know nothing of commander.)
 */
import type { Command } from 'commander';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import type { Io } from '../io.js';
import { toolNames } from '../tools/registry.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;

/** Runs `roam completion <shell>` or `roam complete -- …` on `program` (a command table without its own `completion`). */
export async function completion(program: Command, argv: readonly string[], io: Io): Promise<void> {
  if (argv[0] === 'completion' && argv[1] !== undefined && !(SHELLS as readonly string[]).includes(argv[1])) {
    throw new RoamError(ErrorCodes.USAGE, `roam completion ${argv[1]}: one of ${SHELLS.join(', ')}`);
  }
  const { default: tab } = await import('@bomb.sh/tab/commander');
  const root = tab(program, { completionCommandName: 'completion' });
  // Values the table's options take from a fixed list (commander knows them only as text).
  for (const c of [root, ...root.commands.values()]) {
    for (const name of ['tool', 'in']) {
      const o = c.options.get(name);
      if (o) o.handler = (complete) => toolNames().forEach((t) => complete(t, ''));
    }
    const format = c.value === 'export' ? c.options.get('format') : undefined;
    if (format) format.handler = (complete) => ['md', 'json'].forEach((f) => complete(f, ''));
  }
  // The library prints with console.log: through the Io, like everything roam prints.
  const log = console.log;
  console.log = (...parts: unknown[]) => io.out(parts.map(String).join(' '));
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } finally {
    console.log = log;
  }
}
