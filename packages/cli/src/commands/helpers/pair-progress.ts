/**
 * What `roam pair` shows on stderr while its code waits for a device: what it waits for and the
 * time left. On a terminal one status line, redrawn every second; elsewhere (a log, a pipe) a line
 * now and then: at the start, then every tenth of the timeout (10 s to 1 min apart).
 */

/** `9 min 58 s`, `42 s`. */
export function timeLeft(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return s >= 60 ? `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s` : `${s} s`;
}

export function waitingText(expiresAt: number, now: number): string {
  const until = new Date(expiresAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  return `waiting for a device to join: run \`roam pair <the code>\` on it; the code works once, ${timeLeft(expiresAt - now)} left (until ${until})`;
}

export interface WaitProgressOptions {
  readonly expiresAt: number;
  /** stderr is a terminal: redraw one line in place. */
  readonly tty: boolean;
  /** Writes text as it is (terminal only). */
  readonly raw: (text: string) => void;
  /** Writes one line. */
  readonly line: (text: string) => void;
}

const CLEAR = '\r\x1b[2K';

export class WaitProgress {
  private timer: NodeJS.Timeout | undefined;
  private shown = false;
  private nextAt = 0;
  private lines = 0;
  private readonly step: number;

  constructor(private readonly opts: WaitProgressOptions) {
    this.step = Math.min(60_000, Math.max(10_000, Math.round((opts.expiresAt - Date.now()) / 10)));
  }

  start(): void {
    this.nextAt = Date.now();
    this.tick();
    this.timer = setInterval(() => this.tick(), 1000);
    this.timer.unref?.();
  }

  private tick(): void {
    const now = Date.now();
    if (now >= this.opts.expiresAt) return;
    if (this.opts.tty) {
      this.opts.raw(`${CLEAR}${waitingText(this.opts.expiresAt, now)}`);
      this.shown = true;
    } else if (now >= this.nextAt) {
      this.opts.line(`${this.lines++ ? 'still ' : ''}${waitingText(this.opts.expiresAt, now)}`);
      this.nextAt = now + this.step;
    }
  }

  /** Prints a line above the status line. */
  say(text: string): void {
    this.clear();
    this.opts.line(text);
    if (this.timer && this.opts.tty) this.tick();
  }

  private clear(): void {
    if (this.shown) this.opts.raw(CLEAR);
    this.shown = false;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
  }
}
