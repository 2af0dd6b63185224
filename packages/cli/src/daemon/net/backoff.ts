/** How long the network waits before dialing a peer again or reopening its sync stream. */

export const BACKOFF_MIN_MS = 500;
export const BACKOFF_MAX_MS = 30_000;
/** A connection or a sync stream that lasted this long counts as a success (resets backoff). */
export const STABLE_MS = 10_000;

/** The wait before retry number `attempt` (from 0): 0.5 s doubling to 30 s. */
export const backoff = (attempt: number): number => Math.min(BACKOFF_MIN_MS * 2 ** attempt, BACKOFF_MAX_MS);
