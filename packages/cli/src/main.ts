/**
 * The command table of `roam` and `roamd`, and the one place that turns errors into output and
 * exit codes: 0 ok, 1 failure, 2 usage error; an error prints one line that starts with its
 * ROAM_* code.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ErrorCodes, RoamError, isRoamError } from '@roam/core';

export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface Io {
  out(line: string): void;
  err(line: string): void;
}

const stdio: Io = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
};

/** Help and version go to stdout; commander's own error lines are replaced by ours (see run). */
function output(io: Io) {
  return { writeOut: (s: string) => io.out(s.trimEnd()), writeErr: (s: string) => io.err(s.trimEnd()), outputError: () => {} };
}

function roamProgram(io: Io): Command {
  const program = new Command('roam')
    .description('Keep AI coding sessions in sync across your machines, peer to peer.')
    .version(VERSION, '-V, --version')
    .configureOutput(output(io))
    .exitOverride();
  return program;
}

function roamdProgram(io: Io): Command {
  return new Command('roamd')
    .description('The roam daemon: watches the session folders and replicates them to your other devices.')
    .version(VERSION, '-V, --version')
    .configureOutput(output(io))
    .exitOverride()
    .action(() => {
      throw new RoamError(ErrorCodes.INTERNAL, 'the daemon is not part of this build yet');
    });
}

/** Runs a program and returns its exit code; never throws. */
export async function run(which: 'roam' | 'roamd', argv: readonly string[], io: Io = stdio): Promise<number> {
  const program = which === 'roam' ? roamProgram(io) : roamdProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version end through here too, with exit code 0.
      if (err.exitCode === 0) return 0;
      io.err(`${ErrorCodes.USAGE}: ${err.message.replace(/^error: /, '')}`);
      return 2;
    }
    if (isRoamError(err)) {
      io.err(`${err.code}: ${err.message}`);
      return err.code === ErrorCodes.USAGE ? 2 : 1;
    }
    io.err(`${ErrorCodes.INTERNAL}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
