/**
 * `roam man`: roam's manual page in roff, made from the command table (main.ts) that parses the
 * command line, so every verb, argument and option in it is the one the CLI takes. Read it with
 * `roam man | man -l -`, or install it as roam.1.
 */
import type { Command } from 'commander';
import { VERSION } from '../version.js';

/** Text made safe for roff: backslashes, hyphens (as minus signs) and a leading dot or quote. */
function esc(s: string): string {
  return s.replace(/\\/g, '\\e').replace(/-/g, '\\-').replace(/^([.'])/gm, '\\&$1');
}

function usage(cmd: Command, path: string): string {
  const args = cmd.registeredArguments.map((a) => (a.required ? `<${a.name()}${a.variadic ? '...' : ''}>` : `[${a.name()}${a.variadic ? '...' : ''}]`));
  return [path, ...args].join(' ');
}

function section(cmd: Command, path: string, out: string[]): void {
  const help = cmd.createHelp();
  const subs = help.visibleCommands(cmd).filter((c) => c.name() !== 'help');
  if (!subs.length || cmd.registeredArguments.length) {
    out.push('.TP', `.B ${esc(usage(cmd, path))}`, esc(cmd.description()));
    const opts = help.visibleOptions(cmd).filter((o) => o.long !== '--help');
    if (opts.length) {
      out.push('.RS');
      for (const o of opts) out.push('.TP', `.B ${esc(o.flags)}`, esc(o.description + (o.defaultValue !== undefined && typeof o.defaultValue !== 'boolean' ? ` (default: ${String(o.defaultValue)})` : '')));
      out.push('.RE');
    }
  }
  for (const c of subs) section(c, `${path} ${c.name()}`, out);
}

export function manPage(program: Command): string {
  const out = [
    `.TH ROAM 1 "" "roam ${VERSION}" "User Commands"`,
    '.SH NAME',
    `roam \\- ${esc(program.description().replace(/\.$/, ''))}`,
    '.SH SYNOPSIS',
    '.B roam',
    '.I command',
    '[\\fIarguments\\fR] [\\fIoptions\\fR]',
    '.br',
    '.B roam help',
    '.I command',
    '.SH DESCRIPTION',
    'roam keeps the sessions of AI coding tools (Claude Code, Codex CLI, Gemini CLI, Copilot CLI) in sync across one person\'s machines, peer to peer. \\fBroamd\\fR, the daemon, runs on each machine; \\fBroam\\fR talks to it. Verbs that only read this machine\'s files (list, search, show, logs, restore \\-\\-list, map, projects) work without it.',
    '.SH COMMANDS',
  ];
  for (const c of program.createHelp().visibleCommands(program)) if (c.name() !== 'help') section(c, `roam ${c.name()}`, out);
  out.push(
    '.SH EXIT STATUS',
    '0: done. 1: failed (one line on standard error, starting with its ROAM_* code). 2: the command line was not understood (ROAM_USAGE).',
    '.SH ENVIRONMENT',
    '.TP', '.B HOME', "Where the tools keep their sessions; \\fBCLAUDE_CONFIG_DIR\\fR, \\fBCODEX_HOME\\fR, \\fBGEMINI_CLI_HOME\\fR, \\fBCOPILOT_HOME\\fR override it per tool.",
    '.TP', '.B ROAM_HOME', "roam's identity, config.json, state and control socket (default: ~/.config/roam and ~/.local/state/roam).",
    '.TP', '.B ROAM_GROUP_KEY', 'For automation and tests: 64 hexadecimal characters; roamd joins the group with that secret.',
    '.SH FILES',
    '.TP', '.I ~/.config/roam/config.json', 'Folders, selective sync (\\fBroam projects\\fR), project placement (\\fBroam map\\fR).',
    '.TP', '.I ~/.local/state/roam/roamd.log', "The daemon's log (\\fBroam logs\\fR).",
    '.SH SEE ALSO',
    '.BR roamd (1),',
    '.BR claude (1),',
    '.BR codex (1)',
  );
  return out.join('\n');
}
