/** The tests' one polling helper lives in test/harness (the benchmarks and the demo use it too). */
export { until, untilOk, type UntilOptions } from '../../../../test/harness/poll.js';
