/** Network namespaces live in test/harness (shared with the benchmarks); tests import them from here. */
export * from '../harness/netns.js';
