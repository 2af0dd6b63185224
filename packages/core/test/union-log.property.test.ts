/**
 * Property tests of the union log (docs/PROTOCOL.md, "Union logs"): 2-5 devices whose tools append
 * to their own view while roam ingests, delivers, crashes at any write (before it, after it, half
 * way through it), restarts, reconnects, and delivers frames in any order. At the end every view
 * holds every line exactly once, at its own device's paths, each device's lines in their order,
 * and nothing a tool wrote was ever changed (checked after every step).
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { runUnionScenario, unionScenarioArb } from './support/union.js';

// ROAM_PROPERTY_RUNS raises the number of runs for a longer hunt (e.g. 5000).
const runs = Number(process.env.ROAM_PROPERTY_RUNS ?? 60);

describe('union log (property)', () => {
  it('every view ends with every line once, own order kept, nothing the tool wrote rewritten', async () => {
    await fc.assert(fc.asyncProperty(unionScenarioArb, (s) => runUnionScenario(s).then(() => true)), { numRuns: runs });
  }, Math.max(60_000, runs * 1_000)); // a longer hunt gets the time it needs
});
