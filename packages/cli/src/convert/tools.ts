/**
 * Tool calls between the tools: the shell command, which both have, and the text note that carries
 * any other call.
 *
 * Claude Code's `Bash` takes `{command}` (a command line); Codex 0.169's `exec_command` takes
 * `{cmd, workdir?}`, older Codex's `shell` and `local_shell_call` an argv (`["bash", "-lc", "…"]`)
 * and a workdir. A shell call becomes the target's own (`Bash {command}` or `exec_command {cmd}`),
 * a workdir becoming `cd <dir> && …`. Every other tool (Read, Edit, Write, Task, TodoWrite, …;
 * apply_patch, update_plan, web_search, …) has no same-shaped tool on the other side, so its call
 * and its output are written as a note in the assistant's message (`summary`).
 */
import type { CallItem, ResultItem, ShellCommand } from './ir.js';

/** The first line of every note roam writes for a tool call carried as text. */
export const SUMMARY_HEAD = /^\[(.+) tool call from (Claude Code|Codex), carried as text by roam\]/;

/** `s` quoted for a POSIX shell when it needs it. */
export function shellQuote(s: string): string {
  return s !== '' && /^[A-Za-z0-9_/.,:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A command line from an argv: the script of `bash -lc <script>` (and sh, zsh), else the argv quoted. */
export function argvCommand(argv: readonly unknown[]): string | null {
  if (!argv.length || !argv.every((a) => typeof a === 'string')) return null;
  const a = argv as readonly string[];
  const shell = a[0]!.slice(a[0]!.lastIndexOf('/') + 1);
  if (a.length === 3 && ['bash', 'sh', 'zsh', 'dash'].includes(shell) && ['-c', '-lc', '-ic'].includes(a[1]!)) return a[2]!;
  return a.map(shellQuote).join(' ');
}

function withWorkdir(command: string, workdir: unknown): string {
  return typeof workdir === 'string' && workdir ? `cd ${shellQuote(workdir)} && ${command}` : command;
}

/** Claude Code: `Bash {command}` is a shell call. */
export function claudeShell(name: string, input: unknown): ShellCommand | null {
  if (name !== 'Bash' || !input || typeof input !== 'object') return null;
  const command = (input as { command?: unknown }).command;
  return typeof command === 'string' ? { command } : null;
}

/** Codex: `exec_command {cmd, workdir}`, `shell`/`container.exec` `{command: argv|string, workdir}`. */
export function codexShell(name: string, args: unknown): ShellCommand | null {
  if (!args || typeof args !== 'object') return null;
  const a = args as { cmd?: unknown; command?: unknown; workdir?: unknown };
  if (name === 'exec_command' && typeof a.cmd === 'string') return { command: withWorkdir(a.cmd, a.workdir) };
  if (name === 'shell' || name === 'container.exec' || name === 'local_shell') {
    const command = Array.isArray(a.command) ? argvCommand(a.command) : typeof a.command === 'string' ? a.command : null;
    return command === null ? null : { command: withWorkdir(command, a.workdir) };
  }
  return null;
}

/** Codex's `local_shell_call` action `{type: "exec", command: argv, working_directory}`. */
export function codexLocalShell(action: unknown): ShellCommand | null {
  if (!action || typeof action !== 'object') return null;
  const a = action as { command?: unknown; working_directory?: unknown };
  const command = Array.isArray(a.command) ? argvCommand(a.command) : null;
  return command === null ? null : { command: withWorkdir(command, a.working_directory) };
}

/** The text note of a call carried as text, with its output (null: none was recorded). */
export function summary(call: CallItem, result: ResultItem | null, from: 'Claude Code' | 'Codex'): string {
  const input = typeof call.input === 'string' ? call.input : (JSON.stringify(call.input) ?? 'null');
  const lines = [`[${call.name} tool call from ${from}, carried as text by roam]`];
  lines.push(input.includes('\n') ? `input:\n${input}` : `input: ${input}`);
  if (!result) lines.push('output: none recorded');
  else lines.push(`output${result.isError ? ' (error)' : ''}:\n${result.text}`);
  return lines.join('\n');
}

/** What a call with no recorded output gets as its output, so that the target's history stays valid. */
export const NO_OUTPUT = '[no output was recorded for this call]';
