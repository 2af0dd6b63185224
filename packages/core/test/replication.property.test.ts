/**
 * Property tests of the replication core: 2-5 engines over in-memory links, random interleavings
 * of appends, partial writes, whole-file rewrites from any device, reconnects, and deliveries in
 * any order across links.
 *
 * After every step: no device holds another device's partial line (a partial line is never sent),
 * and no file holds a torn line. At the end (partials completed, everyone connected, the network
 * run dry): every device has byte-identical folders, every line written anywhere is in some file
 * (but a whole file's content that a later write replaced on its own device), and no file holds a
 * line twice.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { runScenario, scenarioArb } from './support/converge.js';

// ROAM_PROPERTY_RUNS raises the number of runs for a longer hunt (e.g. 5000).
const runs = Number(process.env.ROAM_PROPERTY_RUNS ?? 150);

describe('replication converges (property)', () => {
  it('fork policy: identical folders, no line lost, duplicated or torn, no partial line sent', async () => {
    await fc.assert(fc.asyncProperty(scenarioArb, (s) => runScenario('fork', s).then(() => true)), { numRuns: runs });
  });

  it('syncthing policy: identical folders, no line lost, duplicated or torn', async () => {
    await fc.assert(fc.asyncProperty(scenarioArb, (s) => runScenario('syncthing', s).then(() => true)), { numRuns: Math.ceil(runs / 2) });
  });
});
