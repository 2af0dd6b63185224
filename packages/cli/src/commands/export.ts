/**
 * `roam export <session> [--format md|json] [--out <file>] [--no-redact] [--tool <t>]`: a session
 * as the markdown `roam show` prints, or as its entries in JSON, with secrets redacted
 * (src/share/redact.ts) unless --no-redact. To stdout, or to --out (created, never overwritten).
 * What was redacted is reported on stderr. With --json the report (what was exported, where, what
 * was redacted) is one JSON object: on stdout with --out, on stderr without (stdout holds the export).
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ErrorCodes, RoamError } from '@roam/core/errors';
import type { Io } from '../io.js';
import { adaptersFor, resolveSession, type SessionContext } from '../sessions/index.js';
import { renderMarkdown } from '../sessions/markdown.js';
import { describeCounts, redactString, redactValue, type RedactionCounts } from '../share/redact.js';

export interface ExportFlags {
  format?: string;
  out?: string;
  /** commander's --no-redact: false when given. */
  redact?: boolean;
  tool?: string;
  /** Report what was exported (tool, id, format, file, entries, redactions) as JSON. */
  json?: boolean;
}

export async function exportSession(id: string, flags: ExportFlags, io: Io, ctx: SessionContext = {}): Promise<void> {
  const env = ctx.env ?? process.env;
  const format = flags.format ?? 'md';
  if (format !== 'md' && format !== 'json') throw new RoamError(ErrorCodes.USAGE, `--format ${format}: one of md, json`);
  const { adapter, session } = await resolveSession(adaptersFor(flags.tool, { env }), id);
  let entries = await adapter.show(session.id);
  let info = session;
  const counts: RedactionCounts = {};
  const redact = flags.redact !== false;
  if (redact) {
    entries = redactValue(entries, counts);
    info = { ...session, title: session.title === null ? null : redactString(session.title, counts), firstPrompt: session.firstPrompt === null ? null : redactString(session.firstPrompt, counts) };
  }
  let text = format === 'json' ? `${JSON.stringify(entries, null, 2)}\n` : renderMarkdown(info, entries);
  // The markdown quotes tool inputs as JSON text: a second pass over it finds nothing new, or what the first could not see.
  if (redact && format === 'md') text = redactString(text, counts);
  let file: string | null = null;
  if (flags.out) {
    file = resolve(ctx.cwd ?? process.cwd(), flags.out);
    try {
      writeFileSync(file, text, { flag: 'wx', mode: 0o600 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new RoamError(ErrorCodes.USAGE, `${file} exists already`, { file });
      throw err;
    }
    if (!flags.json) io.err(`roam: wrote ${file} (${entries.length} entries; ${redact ? describeCounts(counts) : 'not redacted'})`);
  } else {
    io.out(text.trimEnd());
    if (!flags.json) io.err(`roam: ${redact ? describeCounts(counts) : 'not redacted (--no-redact)'}`);
  }
  if (flags.json) {
    const report = { tool: adapter.tool, id: session.id, title: info.title, format, file, bytes: Buffer.byteLength(text), entries: entries.length, redacted: redact, redactions: redact ? counts : {} };
    (file ? io.out : io.err)(JSON.stringify(report));
  }
}
