/**
 * Waiting for something real (files on disk, engines over real links, daemons) without
 * sleep-then-assert: poll a condition every few milliseconds until it holds or a deadline passes.
 * The one polling helper of the tests, the benchmarks and the demo.
 */

export interface UntilOptions {
  /** Give up after this long (default 5 s). */
  timeoutMs?: number;
  /** Poll interval (default 5 ms). */
  everyMs?: number;
  /** What is being waited for, for the timeout error. */
  what?: string;
  /** Describes the current state for the timeout error (e.g. sizes seen so far). */
  detail?: () => unknown;
}

/**
 * Resolves as soon as `predicate` returns true (it may be async). Rejects with a descriptive
 * error when `timeoutMs` passes first, or with the predicate's own error if it throws.
 */
export async function until(predicate: () => boolean | Promise<boolean>, opts: UntilOptions = {}): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const everyMs = opts.everyMs ?? 5;
  const started = Date.now();
  let polls = 0;
  for (;;) {
    polls++;
    if (await predicate()) return;
    const waited = Date.now() - started;
    if (waited >= timeoutMs) {
      let detail = '';
      if (opts.detail) {
        try {
          detail = `; last state: ${JSON.stringify(opts.detail())}`;
        } catch (e) {
          detail = `; last state unavailable: ${String(e)}`;
        }
      }
      throw new Error(`timed out after ${waited} ms (${polls} polls) waiting for ${opts.what ?? 'a condition'}${detail}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * `until` for a check that says what is still wrong: it returns undefined once done, else a
 * description of what is missing, which the timeout error quotes (its last answer).
 */
export async function untilOk(check: () => string | undefined | Promise<string | undefined>, opts: Omit<UntilOptions, 'detail'> = {}): Promise<void> {
  let problem: string | undefined;
  await until(async () => (problem = await check()) === undefined, { ...opts, detail: () => problem });
}
