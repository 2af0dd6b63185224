#!/usr/bin/env node
// `npm run test:conformance [-- --record] [-- <more vitest arguments>]`: runs the conformance suite
// (test/conformance) with vitest. `--record` stores the live Syncthing outcomes in recorded/ (the
// syncthing binary must be on PATH). ROAM_CONFORMANCE_ONLY=id,id runs a few scenarios only.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const rest = args.filter((a) => a !== '--record');
const env = { ...process.env };
if (rest.length !== args.length) env.ROAM_CONFORMANCE_RECORD = '1';
const vitest = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));
const r = spawnSync(process.execPath, [vitest, 'run', 'test/conformance', ...rest], {
  stdio: 'inherit',
  env,
  cwd: fileURLToPath(new URL('../..', import.meta.url)),
});
process.exit(r.status ?? 1);
