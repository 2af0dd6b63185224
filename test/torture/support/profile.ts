/**
 * Quick or full. `npm test` runs the quick subset (bounded, for CI); `npm run torture` sets
 * ROAM_TORTURE=full and runs every scenario at full size. ROAM_TORTURE_SEED changes the seed of
 * every generated workload and schedule (the default makes runs repeatable).
 */
export const FULL = process.env.ROAM_TORTURE === 'full';

export const SEED = Number.parseInt(process.env.ROAM_TORTURE_SEED ?? '20240611', 10);

/** The quick value, or the full one under ROAM_TORTURE=full. */
export function sized<T>(quick: T, full: T): T {
  return FULL ? full : quick;
}

/** Under CI=true a missing capability (root, namespaces, mounts) fails instead of skipping. */
export const STRICT = process.env.CI === 'true';
