/**
 * The corpus generator on its own:
 *   node bench/dist/gen.js corpus   --out <dir> [--files 10000] [--bytes 2g] [--seed roam]
 *   node bench/dist/gen.js sessions --out <dir> [--count 10000] [--bytes 1g] [--seed roam]
 *   node bench/dist/gen.js log      --out <file> [--bytes 100m] [--seed roam]
 * Prints the manifest summary (and writes <dir>.manifest.json for corpora).
 */
import { writeFileSync } from 'node:fs';
import { generateCorpus, generateLog, generateSessions } from './lib/corpus.js';
import { parseSize } from './lib/args.js';

const [mode, ...rest] = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = rest.indexOf(`--${name}`);
  return i >= 0 && rest[i + 1] !== undefined ? rest[i + 1]! : dflt;
};
const out = opt('out', '');
if (!out || !['corpus', 'sessions', 'log'].includes(mode ?? '')) {
  process.stderr.write('usage: gen.js corpus|sessions|log --out <path> [--files N] [--count N] [--bytes SIZE] [--seed S]\n');
  process.exit(2);
}
const seed = opt('seed', 'roam');
const t0 = Date.now();
if (mode === 'log') {
  const f = generateLog(out, parseSize(opt('bytes', '100m')), seed);
  process.stdout.write(`${JSON.stringify({ ...f, seconds: (Date.now() - t0) / 1000 })}\n`);
} else {
  const m = mode === 'corpus'
    ? generateCorpus(out, { seed, files: Number(opt('files', '10000')), bytes: parseSize(opt('bytes', '2g')) })
    : generateSessions(out, Number(opt('count', '10000')), parseSize(opt('bytes', '1g')), seed);
  writeFileSync(`${out.replace(/\/$/, '')}.manifest.json`, JSON.stringify(m));
  const { files, ...summary } = m;
  process.stdout.write(`${JSON.stringify({ ...summary, files: files.length, seconds: (Date.now() - t0) / 1000 })}\n`);
}
