/**
 * `roam import <bundle> [--dry-run] [--json]`: a bundle made by `roam share` becomes a session here.
 * The bundle is verified first (format, file names, every hash: src/share/bundle.ts); then a Claude
 * Code session is written under the current directory's project key, a Codex session as a rollout
 * of its own date whose cwd is the current directory, a Gemini CLI session under the current
 * directory's slug (registered in projects.json afterwards), a Copilot CLI session directory whose
 * cwd is the current directory, each with a new id when its id is taken here
 * (tools/<tool>/share.ts), derived from the bundle, so that --dry-run names the id the import
 * uses (src/share/import-once.ts). Prints the id and the command that resumes it. --dry-run
 * verifies and prints the plan, writing nothing. A bundle whose session is here already, as the
 * import would write it, is not imported again: roam says where it is and writes nothing.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import type { Io } from '../io.js';
import { realDir, type SessionContext } from '../sessions/index.js';
import { decodeBundle } from '../share/bundle.js';
import { alreadyImported, derivedIds } from '../share/import-once.js';
import { noteImport } from '../machine/imported.js';
import { roamPaths } from '../machine/paths.js';
import { applyPlan, type ImportPlan } from '../share/importer.js';
import { toolNamed } from '../tools/registry.js';

export interface ImportFlags {
  dryRun?: boolean;
  json?: boolean;
}

export async function importBundle(path: string, flags: ImportFlags, io: Io, ctx: SessionContext = {}): Promise<ImportPlan> {
  const env = ctx.env ?? process.env;
  const cwd = realDir(ctx.cwd ?? process.cwd());
  const file = resolve(cwd, path);
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    throw new RoamError(ErrorCodes.USAGE, `cannot read ${file}: ${(err as Error).message}`, { file });
  }
  const bundle = await decodeBundle(data, (t) => toolNamed(t) !== undefined);
  const m = bundle.manifest;
  const tool = toolNamed(m.tool)!;
  const adapter = tool.adapter({ env });
  const ids = derivedIds(bundle);
  if (!tool.importPlan) throw new RoamError(ErrorCodes.USAGE, `roam cannot import ${m.tool} sessions yet`);
  const plan = await tool.importPlan(bundle, adapter, cwd, ids.next);
  const here = await alreadyImported(plan, ids, adapter);
  if (here) {
    const command = adapter.resumeCommand(here.id, { cwd });
    if (flags.json) io.out(JSON.stringify({ dryRun: !!flags.dryRun, already: true, tool: plan.tool, id: here.id, originalId: plan.originalId, transcript: here.transcript, files: [], command }, null, 2));
    else io.out(`already imported: ${plan.tool} session ${here.id} is ${here.transcript} (nothing written)`);
    return { ...plan, id: here.id, transcript: here.transcript, files: [], command };
  }
  if (!flags.dryRun) {
    // Before the files appear: roamd must not take the import's write for a tool writing the session.
    const transcript = plan.files.find((f) => f.path === plan.transcript);
    if (transcript) noteImport(roamPaths(env).state, plan.id, transcript.bytes.length);
  }
  const did = flags.dryRun ? [] : applyPlan(plan);
  if (!flags.json) for (const line of did) io.err(`roam: ${line}`);
  for (const w of plan.warnings ?? []) io.err(`roam: warning: ${w}`);
  const report = {
    dryRun: !!flags.dryRun,
    already: false,
    tool: plan.tool,
    id: plan.id,
    originalId: plan.originalId,
    renamed: plan.renamed,
    transcript: plan.transcript,
    files: plan.files.map((f) => f.path),
    command: plan.command,
    ...(plan.after ? { then: plan.after.describe, did } : {}),
    ...(plan.warnings?.length ? { warnings: plan.warnings } : {}),
    manifest: { title: m.title, sourceDevice: m.sourceDevice, exported: m.exported, created: m.created, redacted: m.redacted },
  };
  if (flags.json) io.out(JSON.stringify(report, null, 2));
  else {
    const verb = flags.dryRun ? 'would import' : 'imported';
    io.out(`${verb} ${m.tool} session ${plan.id}${m.title ? ` "${m.title}"` : ''} from ${m.sourceDevice}${plan.renamed ? ` (a new id: ${plan.originalId} is taken here)` : ''}`);
    io.out(`${flags.dryRun ? 'into' : 'in'} ${plan.transcript}${plan.files.length > 1 ? ` (+${plan.files.length - 1} files)` : ''}`);
    if (plan.after) io.out(`${flags.dryRun ? 'then' : 'with'} ${plan.after.describe}`);
    const cmd = plan.command;
    io.out(`resume it: ${cmd.cwd && cmd.cwd !== cwd ? `cd ${shellQuote(cmd.cwd)} && ` : ''}${cmd.argv.map(shellQuote).join(' ')}${plan.tool === 'claude' ? `   (or: roam resume ${plan.id})` : ''}`);
  }
  return plan;
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
