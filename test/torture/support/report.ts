/**
 * Figures: each scenario records what it injected and what it checked, as JSON under
 * .vitest-tmp/torture/<scenario>.<quick|full>.json (gitignored) and as one line on stdout.
 * docs/RELIABILITY.md quotes the full run's files.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FULL, SEED } from './profile.js';

const dir = fileURLToPath(new URL('../../../.vitest-tmp/torture/', import.meta.url));

export function report(scenario: string, figures: Record<string, unknown>): void {
  const doc = { scenario, profile: FULL ? 'full' : 'quick', seed: SEED, node: process.version, at: new Date().toISOString(), ...figures };
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${scenario}.${FULL ? 'full' : 'quick'}.json`), `${JSON.stringify(doc, null, 2)}\n`);
  console.log(`[torture] ${scenario}: ${JSON.stringify(figures)}`);
}

/** p-th percentile (0..100) of a list of numbers (nearest rank); NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Keeps the daemons' output of a failed run under .vitest-tmp/torture/logs/ (gitignored). */
export function saveLogs(scenario: string, logs: Record<string, string>): string {
  const out = join(dir, 'logs');
  mkdirSync(out, { recursive: true });
  for (const [name, text] of Object.entries(logs)) writeFileSync(join(out, `${scenario}-${name}.log`), text);
  return out;
}
