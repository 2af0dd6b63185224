/** The NAT lab lives in test/harness (shared with the benchmarks); tests import it from here. */
export * from '../harness/topology.js';
