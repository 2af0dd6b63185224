/**
 * `roam tools [--json | --markdown]`: every tool roam knows (tools/registry.ts), the version of it
 * roam was measured against, what roam does with it, where its facts are written, and whether its
 * sessions folder is on this machine. Each tool's folder declares its row (`about` in
 * tools/<tool>/index.ts); `--markdown` prints the table the README holds (test/e2e keeps them equal).
 */
import { existsSync } from 'node:fs';
import type { Io } from '../io.js';
import { allTools, type Tool, type ToolCapability } from '../tools/registry.js';

export interface ToolRow {
  readonly tool: string;
  readonly label: string;
  readonly measured: string;
  readonly does: readonly ToolCapability[];
  readonly doc: string;
  /** The folder roamd syncs for it on this machine (null: it has none, Aider). */
  readonly sessions: string | null;
  /** Whether that folder exists here (the tool has been used on this machine). */
  readonly here: boolean;
}

/** The columns of the table, in order: a capability and its heading. */
const COLUMNS: ReadonlyArray<readonly [ToolCapability, string]> = [
  ['sync', 'sync'], ['resume', 'resume'], ['capture', 'capture'], ['convert-from', 'convert from'], ['convert-to', 'convert to'], ['share', 'share'],
];

export function toolRows(env: NodeJS.ProcessEnv = process.env): ToolRow[] {
  return allTools().map((t: Tool) => {
    const sessions = t.sessionsDir?.(env) ?? null;
    return { tool: t.name, label: t.label, measured: t.about.measured, does: t.about.does, doc: t.about.doc, sessions, here: sessions !== null && existsSync(sessions) };
  });
}

/** The README's table (what roam does with each tool, and the version measured). */
export function toolsMarkdown(rows: readonly ToolRow[]): string[] {
  const out = [
    `| tool | \`--tool\` | measured with | ${COLUMNS.map(([, h]) => h).join(' | ')} | facts |`,
    `| --- | --- | --- | ${COLUMNS.map(() => ':---:').join(' | ')} | --- |`,
  ];
  for (const r of rows) out.push(`| ${r.label} | \`${r.tool}\` | ${r.measured} | ${COLUMNS.map(([c]) => (r.does.includes(c) ? 'yes' : '')).join(' | ')} | [${r.doc.slice(r.doc.lastIndexOf('/') + 1)}](${r.doc}) |`);
  return out;
}

export function tools(opts: { json?: boolean; markdown?: boolean }, io: Io): void {
  const rows = toolRows();
  if (opts.json) {
    io.out(JSON.stringify(rows, null, 2));
    return;
  }
  if (opts.markdown) {
    for (const l of toolsMarkdown(rows)) io.out(l);
    return;
  }
  const w = (f: (r: ToolRow) => string, head: string) => Math.max(head.length, ...rows.map((r) => f(r).length));
  const wt = w((r) => r.tool, 'TOOL');
  const wl = w((r) => r.label, 'NAME');
  const wm = w((r) => r.measured, 'MEASURED');
  const line = (a: string, b: string, c: string, d: string, e: string) => `${a.padEnd(wt)}  ${b.padEnd(wl)}  ${c.padEnd(wm)}  ${d.padEnd(4)}  ${e}`.trimEnd();
  io.out(line('TOOL', 'NAME', 'MEASURED', 'HERE', 'ROAM DOES'));
  for (const r of rows) io.out(line(r.tool, r.label, r.measured, r.here ? 'yes' : 'no', r.does.map((c) => COLUMNS.find(([k]) => k === c)?.[1] ?? c).join(', ')));
}
