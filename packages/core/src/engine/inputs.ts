/**
 * The engine's inputs, one at a time: every input (a frame, a local change, a link event) is
 * handled to completion, store effects included, before the next one starts, so the pure state
 * never races its own writes. The replication state is journaled once per burst of inputs (group
 * commit), and the messages an input produced are held until the state it reached is journaled.
 */

/**
 * While more inputs are waiting, the replication state is journaled once for up to this many of
 * them (group commit) instead of once per input: one fsync per batch of received files, not per file.
 */
const MAX_DEFERRED_INPUTS = 32;

export class InputQueue {
  private serial: Promise<void> = Promise.resolve();
  /** Inputs waiting behind the one running. */
  private waiting = 0;
  /** Inputs handled since the replication state was last journaled. */
  private deferred = 0;
  /**
   * Resolves once the replication state of the inputs handled so far is journaled. Messages wait
   * for it before they go out, so a peer never hears of a state a crash could still take back.
   */
  private durable: Promise<void> = Promise.resolve();
  private markDurable: (() => void) | undefined;

  /** `journal` writes the replication state the inputs so far changed. */
  constructor(private readonly journal: () => Promise<void>) {}

  /** Runs `fn` after every earlier input has been handled. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    this.waiting++;
    const p = this.serial.then(async () => {
      this.waiting--;
      try {
        return await fn();
      } finally {
        // The last input of a burst journals what the ones before it deferred.
        if (this.waiting === 0) await this.persist(true);
      }
    });
    this.serial = p.then(
      () => undefined,
      () => undefined,
    );
    return p;
  }

  /** Resolves when the inputs queued so far are handled (never rejects); compare to tell whether more came. */
  get tail(): Promise<void> {
    return this.serial;
  }

  /** Resolves once the state the running input reached is journaled: a message waits for it (see `persist`). */
  untilDurable(): Promise<void> {
    if (!this.markDurable) this.durable = new Promise<void>((resolve) => (this.markDurable = resolve));
    return this.durable;
  }

  async persist(force = false): Promise<void> {
    if (!force && this.waiting > 0 && this.deferred < MAX_DEFERRED_INPUTS) {
      // More inputs are waiting: journal once after them (or after MAX_DEFERRED_INPUTS), and
      // hold this input's messages until then. A crash meanwhile loses only state the disk
      // already holds, which `open` reconciles (as after a crash between a write and its record).
      this.deferred++;
      return;
    }
    this.deferred = 0;
    const mark = this.markDurable;
    this.markDurable = undefined;
    try {
      await this.journal();
    } finally {
      // On failure too: the messages then go out as they did before group commit (the input fails).
      mark?.();
    }
  }
}
