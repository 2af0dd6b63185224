/**
 * The command table of `roam` and `roamd`, and the one place that turns errors into output and
 * exit codes: 0 ok, 1 failure, 2 usage error; an error prints one line that starts with its
 * ROAM_* code.
 */
import type { Command, CommanderError } from 'commander';
import { ErrorCodes, RoamError, isRoamError } from '@roam/core/errors';

import { VERSION } from './version.js';
import type { Io } from './io.js';
import type { DaemonFlags } from './daemon/main.js';
import { ToolExit } from './sessions/exec.js';
import { count, adaptersFor } from './sessions/index.js';
import { toolNames } from './tools/registry.js';
import type { ListFlags } from './commands/list.js';
import type { SearchFlags } from './commands/search.js';

/**
 * A command's code is loaded when the command runs, not when `roam` starts: `roam list` should not
 * pay for loading the replication core and libp2p (most of a short command's time is module loading).
 */
function lazy<M, K extends keyof M>(load: () => Promise<M>, key: K): M[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never {
  return (async (...args: any[]) => ((await load())[key] as any)(...args)) as any;
}
const devices = lazy(() => import('./commands/devices.js'), 'devices');
const doctor = lazy(() => import('./commands/doctor.js'), 'doctor');
const leave = lazy(() => import('./commands/leave.js'), 'leave');
const logs = lazy(() => import('./commands/logs.js'), 'logs');
const pair = lazy(() => import('./commands/pair.js'), 'pair');
const pause = lazy(() => import('./commands/pause.js'), 'pause');
const reload = lazy(() => import('./commands/reload.js'), 'reload');
const projects = lazy(() => import('./commands/projects.js'), 'projects');
const service = lazy(() => import('./commands/service.js'), 'service');
const status = lazy(() => import('./commands/status.js'), 'status');
const sync = lazy(() => import('./commands/sync.js'), 'sync');
const unpair = lazy(() => import('./commands/unpair.js'), 'unpair');
const fork = lazy(() => import('./commands/fork.js'), 'fork');
const list = lazy(() => import('./commands/list.js'), 'list');
const newSession = lazy(() => import('./commands/new.js'), 'newSession');
const search = lazy(() => import('./commands/search.js'), 'search');
const show = lazy(() => import('./commands/show.js'), 'show');
const resume = lazy(() => import('./commands/resume.js'), 'resume');
const map = lazy(() => import('./commands/map.js'), 'map');
const conflicts = lazy(() => import('./commands/conflicts.js'), 'conflicts');
const exportSession = lazy(() => import('./commands/export.js'), 'exportSession');
const share = lazy(() => import('./commands/share.js'), 'share');
const importBundle = lazy(() => import('./commands/import.js'), 'importBundle');
const rm = lazy(() => import('./commands/rm.js'), 'rm');
const restore = lazy(() => import('./commands/restore.js'), 'restore');
const userconfig = lazy(() => import('./commands/userconfig.js'), 'userconfig');
const tools = lazy(() => import('./commands/tools.js'), 'tools');
const ui = lazy(() => import('./commands/ui.js'), 'ui');

export type { Io } from './io.js';

const stdio: Io = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
  outBytes: (l) => {
    process.stdout.write(l);
    process.stdout.write('\n');
  },
};

/**
 * `roam status | head -1`: once the reader of stdout has gone, nothing roam prints can reach anyone,
 * so roam ends at once, quietly, with exit 0, as a Unix tool ends on SIGPIPE (Node ignores that
 * signal, so the write fails with EPIPE instead). 0 rather than the shell's 141: the reader stopped
 * because it had what it wanted, and under `set -o pipefail` a 141 would fail a pipeline that
 * worked. A closed stderr is ignored (there is nowhere left to report it). Called by the `roam`
 * entry only: roamd, whose output is its log, keeps Node's default.
 */
export function endQuietlyOnClosedPipe(): void {
  const closed = (err: NodeJS.ErrnoException) => err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED';
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (closed(err)) process.exit(0);
    throw err;
  });
  process.stderr.on('error', (err: NodeJS.ErrnoException) => {
    if (!closed(err)) throw err;
  });
}

/** Help and version go to stdout; commander's own error lines are replaced by ours (see run). */
function output(io: Io) {
  return { writeOut: (s: string) => io.out(s.trimEnd()), writeErr: (s: string) => io.err(s.trimEnd()), outputError: () => {} };
}

/** The command table of `roam`; `completionVerb` false leaves out `completion` (the completion library adds its own). */
function roamProgram(C: typeof Command, io: Io, toolArgs: readonly string[] = [], completionVerb = true): Command {
  const program = new C('roam')
    .description('Keep AI coding sessions in sync across your machines, peer to peer.')
    .version(VERSION, '-V, --version')
    .configureOutput(output(io))
    .exitOverride()
    .showHelpAfterError(false);
  const cmd = (name: string, description: string) => program.command(name).description(description).configureOutput(output(io)).exitOverride();
  cmd('status', 'show this device, its folders and its devices, with sync progress')
    .option('--json', 'print JSON')
    .option('-v, --verbose', "also list the addresses this device knows for each device")
    .action((o: { json?: boolean; verbose?: boolean }) => status(o, io));
  cmd('sync', 'look at the disk now; with --wait, wait until in sync with every connected device')
    .option('--wait', 'wait until in sync')
    .option('--timeout <seconds>', 'give up after this many seconds (exit 1)', seconds)
    .option('--all', 'also wait for devices that are offline')
    .option('--json', 'print JSON')
    .action((o: { wait?: boolean; timeout?: number; all?: boolean; json?: boolean }) => sync(o, io));
  cmd('pause', 'stop syncing with one device, or all')
    .argument('[device]', 'device name or peer id')
    .option('--json', 'print JSON')
    .action((d: string | undefined, o: { json?: boolean }) => pause('pause', d, o, io));
  cmd('unpause', 'start syncing again with one device, or all')
    .argument('[device]', 'device name or peer id')
    .option('--json', 'print JSON')
    .action((d: string | undefined, o: { json?: boolean }) => pause('unpause', d, o, io));
  cmd('projects', 'list projects and choose which ones this device syncs')
    .option('--folder <id>', 'the folder (default: claude for --only/--all, every folder for the list)')
    .option('--only <name...>', 'sync only these projects')
    .option('--all', 'sync every project again')
    .option('--force', 'with --only: keep names no device has shown yet (a choice made before the first sync)')
    .option('--json', 'print JSON')
    .action((o: { folder?: string; only?: string[]; all?: boolean; force?: boolean; json?: boolean }) => projects(o, io));
  cmd('pair', 'pair a device: print a one-time code here, or join with the code another device printed')
    .argument('[code]', 'the code `roam pair` printed on a device of the group (a `roam1-` code, or a short one like 7-acorn-tulip-zebra)')
    .option('--short', 'print a short code (a number and three words, one attempt, found on the local network) instead of the long one')
    .option('--peer <multiaddr>', "joining with a short code: the inviter's pairing address (`roam pair --short` shows it), when mDNS cannot find it (repeatable)", collect, [])
    .option('--timeout <seconds>', 'how long the code stays valid (default 600), or how long to try to join (default 30)', seconds)
    .option('--json', 'print JSON (inviting: one JSON line per event, the code first; progress stays on stderr)')
    .action((code: string | undefined, o: { timeout?: number; json?: boolean; short?: boolean; peer?: string[] }) => pair(code, o, io));
  cmd('devices', "list this device's group: name, peer id, last seen, addresses, who added it, whether it is new")
    .option('--json', 'print JSON')
    .option('--ack <device>', 'acknowledge a device another member added (for the whole group)')
    .option('--approve <device>', 'approve a device another member added (with --require-approval on, it gets no data before)')
    .option('--require-approval <on|off>', "the group's trust.approve setting: a new device needs a second member's approval")
    .action((o: { json?: boolean; ack?: string; approve?: string; requireApproval?: string }) => devices(o, io));
  cmd('unpair', 'remove a device from the group everywhere, and replace the group secret')
    .argument('<device>', 'device name or peer id')
    .option('--json', 'print JSON')
    .action((d: string, o: { json?: boolean }) => unpair(d, o, io));
  cmd('leave', 'take this device out of its group; it takes a new identity (the old one stays removed) and roamd restarts with it')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) => leave(o, io));
  cmd('reload', "re-read config.json's selective sync and each folder's .roamignore (an edited .roamignore applies by itself)")
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) => reload(o, io));
  cmd('doctor', 'check the daemon, its folders and devices, and what to fix')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      if (!(await doctor(o, io))) throw new RoamError(ErrorCodes.DOCTOR, 'doctor found problems (see above)');
    });
  cmd('logs', "print the daemon's log (read from its file: roamd need not run)")
    .option('-f, --follow', 'keep printing new lines')
    .option('-n, --lines <n>', 'print at most the last n lines (default 2000)', count)
    .option('--json', 'one JSON object per line: {"time", "message"}')
    .action((o: { follow?: boolean; lines?: number; json?: boolean }) => logs(o, io));
  cmd('list', "list the current directory's sessions, newest first (on a terminal: pick one to resume)")
    .option('--all', 'every project')
    .option('--tool <tool>', `only this tool (${toolNames().join(', ')})`)
    .option('--limit <n>', 'at most this many', count)
    .option('--json', 'print JSON')
    .action((o: { all?: boolean; tool?: string; limit?: number; json?: boolean }) => list(o, io));
  cmd('search', "search every session's messages and titles (case-insensitive)")
    .argument('<text>', 'the text to look for')
    .option('--tool <tool>', 'only this tool')
    .option('--limit <n>', 'at most this many hits (default 100, 0: all)', count)
    .option('--json', 'print JSON')
    .action((text: string, o: { tool?: string; limit?: number; json?: boolean }) => search(text, o, io));
  cmd('show', 'print a session as markdown (the conversation up to its latest message)')
    .argument('<session>', 'session id, or a unique prefix of one')
    .option('--json', 'print JSON')
    .action((id: string, o: { json?: boolean }) => show(id, o, io));
  cmd('new', 'start a new named session in the current directory (Claude Code unless --tool)')
    .argument('<name>', "the session's name")
    .option('--tool <tool>', 'claude (default) or copilot (codex and gemini cannot name a new session)')
    .option('--dry-run', 'print the command as JSON instead of running it')
    .action((name: string, o: { dryRun?: boolean; tool?: string }) => newSession(name, o, io));
  cmd('fork', "fork a session with the tool's own fork (new id, the original untouched)")
    .argument('[session]', "session id or unique prefix (default: the current directory's latest)")
    .option('--tool <tool>', `only sessions of this tool (${toolNames().join(', ')})`)
    .option('--dry-run', 'print the command as JSON instead of running it')
    .action((id: string | undefined, o: { dryRun?: boolean; tool?: string }) => fork(id, o, io));
  cmd('resume', "wait until this device has caught up, then resume a session in its tool (default: this directory's latest)")
    .argument('[session]', 'session id, or a unique prefix of one')
    .option('--tool <tool>', `only sessions of this tool (${toolNames().join(', ')})`)
    .option('--in <tool>', 'resume it in another tool')
    .option('--force', 'resume even while another device is writing the session, or sync timed out')
    .option('--json', 'print what it prepared and could not carry as one JSON line before the tool starts')
    .option('--dry-run', 'print {"cwd", "command"} as JSON instead of running it')
    .option('--timeout <seconds>', 'how long to wait for sync (default 120, config resume.syncTimeout)', seconds)
    .addHelpText('after', '\nArguments after `--` go to the tool: roam resume <id> -- -p "go on"')
    .action((id: string | undefined, o: { tool?: string; in?: string; force?: boolean; dryRun?: boolean; json?: boolean; timeout?: number }) =>
      resume(id, toolArgs, o, io, { adapters: (t) => adaptersFor(t) }),
    );
  cmd('userconfig', "the tools' user configuration, opt-in per device and kind: show what arrived, enable/disable kinds, publish, apply")
    .argument('[action]', 'enable <tool> <kind…> | disable <tool> [kind…] | publish | apply (default: show what arrived)')
    .argument('[args...]', 'the tool and kinds')
    .option('--hooks', 'apply: also apply hooks that arrived in a settings file')
    .option('--json', 'print JSON')
    .action((action: string | undefined, args: string[], o: { hooks?: boolean; json?: boolean }) => userconfig(action, args, o, io));
  cmd('conflicts', 'list sessions that diverged and where each continuation went')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) => conflicts(o, io));
  cmd('export', 'print a session as markdown or JSON, secrets redacted')
    .argument('<session>', 'session id, or a unique prefix of one')
    .option('--format <format>', 'md (as roam show prints it) or json (the entries)', 'md')
    .option('--out <file>', 'write it to this file (not overwritten) instead of stdout')
    .option('--no-redact', 'keep secrets as they are')
    .option('--tool <tool>', 'only this tool')
    .option('--json', 'report what was exported and where as JSON (on stderr when the export goes to stdout)')
    .action((id: string, o: { format?: string; out?: string; redact?: boolean; tool?: string; json?: boolean }) => exportSession(id, o, io));
  cmd('share', 'put a session in one portable file (redacted, with a manifest of hashes) for roam import')
    .argument('<session>', 'session id, or a unique prefix of one')
    .option('--out <file>', 'the bundle file (default: roam-<id>.json.gz here; not overwritten)')
    .option('--tool <tool>', 'only this tool')
    .option('--json', 'print JSON')
    .action((id: string, o: { out?: string; tool?: string; json?: boolean }) => share(id, o, io));
  cmd('import', "verify a bundle made by roam share and add its session to the current directory's project")
    .argument('<bundle>', 'the file roam share wrote')
    .option('--dry-run', 'verify it and print what would be written, write nothing')
    .option('--json', 'print JSON')
    .action(async (file: string, o: { dryRun?: boolean; json?: boolean }) => {
      await importBundle(file, o, io);
    });
  cmd('map', "show where other devices' projects live here; or put one in another directory")
    .argument('[project]', 'a project as `roam map` shows it (~/code/app, /work/app)')
    .argument('[directory]', 'its directory on this device')
    .option('--json', 'print JSON')
    .action((project: string | undefined, dir: string | undefined, o: { json?: boolean }) => map(project, dir, o, io));
  cmd('rm', 'delete a session on every device (each keeps it in its trash for 30 days: roam restore)')
    .argument('<session>', 'session id, or a unique prefix of one')
    .option('--force', 'remove it even while it is open here or another device holds it')
    .option('--dry-run', 'print what would be removed, remove nothing')
    .option('-y, --yes', 'do not ask (roam asks only on a terminal)')
    .option('--json', 'print JSON')
    .action((id: string, o: { force?: boolean; dryRun?: boolean; yes?: boolean; json?: boolean }) => rm(id, o, io));
  cmd('restore', "list roam's trash (newest first), or put an entry or a session's files back")
    .argument('[entry]', 'an id from the list, or a session id (or unique prefix)')
    .option('--list', 'list the trash (with an argument: only that entry or session)')
    .option('--json', 'print JSON')
    .action((ref: string | undefined, o: { list?: boolean; json?: boolean }) => restore(ref, o, io));
  cmd('tools', 'list the tools roam knows: the version measured, what roam does with each (sync, resume, capture, convert, share), whether it is here')
    .option('--json', 'print JSON')
    .option('--markdown', "print the README's table")
    .action((o: { json?: boolean; markdown?: boolean }) => tools(o, io));
  cmd('ui', 'serve the local web page (devices, sync, sessions, pairing) on 127.0.0.1 and open it')
    .option('--port <n>', 'listen on this port (default: any free one)', (v: string) => Number(v))
    .option('--no-open', 'print where the page is, open no browser')
    .option('--json', 'print JSON')
    .action((o: { port?: number; open?: boolean; json?: boolean }) => ui(o, io));
  const svc = cmd('service', 'run roamd at login (systemd user unit on Linux, launchd agent on macOS)');
  for (const action of ['install', 'uninstall'] as const) {
    svc
      .command(action)
      .description(action === 'install' ? 'install and start the service' : 'stop and remove the service')
      .option('--dry-run', 'print the unit file and the commands, write and run nothing')
      .option('--json', 'print JSON')
      .configureOutput(output(io))
      .exitOverride()
      .action((o: { dryRun?: boolean; json?: boolean }) => service(action, o, io));
  }
  if (completionVerb) {
    // Run by commands/completion.ts (see run()); here for `roam help` and the man page.
    cmd('completion', 'print the shell completion script: source <(roam completion bash), or zsh, fish')
      .argument('<shell>', 'bash, zsh or fish');
  }
  cmd('man', "print roam's manual page (roff), made from this command table: roam man | man -l -")
    .action(async () => io.out((await import('./commands/man.js')).manPage(program)));
  return program;
}

function roamdProgram(C: typeof Command, io: Io): Command {
  return new C('roamd')
    .description('The roam daemon: watches the session folders and replicates them to your other devices.')
    .version(VERSION, '-V, --version')
    .configureOutput(output(io))
    .exitOverride()
    .option('--listen <multiaddr>', 'listen address (repeatable; default /ip4/0.0.0.0/tcp/0)', collect, [])
    .option('--peer <multiaddr>', 'a device to dial beyond the LAN (repeatable)', collect, [])
    .option('--no-mdns', 'do not look for devices on the LAN')
    .option('--name <name>', "this device's name (default: the host name)")
    .option('--relay', "a relay-only device (a small server): relays the group's members to each other, holds no folders")
    .action(async (o: DaemonFlags) => {
      // Loaded only here, so `roam` commands start without loading libp2p.
      const { runDaemon } = await import('./daemon/main.js');
      await runDaemon(o, io);
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new RoamError(ErrorCodes.USAGE, `not a number of seconds: ${value}`);
  return n;
}

/**
 * `roam list` and `roam search` in their plain forms (known flags, each at most once, values that do
 * not start with '-'), parsed without commander: loading it and building the command table was a
 * tenth of a warm `roam list`. Anything else (help, `--opt=value`, unknown flags, a text that starts
 * with '-', …) is null and goes through commander. Throws ROAM_USAGE for a --limit that is no count,
 * as commander's parse does.
 */
export function quickCommand(argv: readonly string[]): { name: 'list'; flags: ListFlags } | { name: 'search'; text: string; flags: SearchFlags } | null {
  const [name, ...rest] = argv;
  if (name !== 'list' && name !== 'search') return null;
  const flags: { json?: boolean; all?: boolean; tool?: string; limit?: number } = {};
  let text: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--json' || (a === '--all' && name === 'list')) {
      const k = a === '--json' ? 'json' : 'all';
      if (k in flags) return null;
      flags[k] = true;
    } else if (a === '--tool' || a === '--limit') {
      const v = rest[i + 1];
      const k = a === '--tool' ? 'tool' : 'limit';
      if (v === undefined || v.startsWith('-') || k in flags) return null;
      if (k === 'tool') flags.tool = v;
      else flags.limit = count(v);
      i++;
    } else if (name === 'search' && text === undefined && !a.startsWith('-')) {
      text = a;
    } else {
      return null;
    }
  }
  if (name === 'list') return { name, flags };
  return text === undefined ? null : { name, text, flags };
}

/** Runs a program and returns its exit code; never throws. */
export async function run(which: 'roam' | 'roamd', argv: readonly string[], io: Io = stdio): Promise<number> {
  // `roam resume … -- <args>`: what follows `--` goes to the tool untouched.
  const dash = which === 'roam' && argv[0] === 'resume' ? argv.indexOf('--') : -1;
  const toolArgs = dash >= 0 ? argv.slice(dash + 1) : [];
  if (dash >= 0) argv = argv.slice(0, dash);
  let Err: typeof CommanderError | undefined;
  try {
    const quick = which === 'roam' ? quickCommand(argv) : null;
    if (quick?.name === 'list') await list(quick.flags, io);
    else if (quick?.name === 'search') await search(quick.text, quick.flags, io);
    if (quick) return 0;
    const { Command, CommanderError } = await import('commander');
    Err = CommanderError;
    if (which === 'roam' && (argv[0] === 'completion' || argv[0] === 'complete')) {
      const { completion } = await import('./commands/completion.js');
      await completion(roamProgram(Command, io, toolArgs, false), argv, io);
      return 0;
    }
    const program = which === 'roam' ? roamProgram(Command, io, toolArgs) : roamdProgram(Command, io);
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof ToolExit) return err.code; // the tool ran and said everything itself
    if (Err && err instanceof Err) {
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
