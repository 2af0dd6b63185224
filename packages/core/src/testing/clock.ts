/** A clock that moves only when a test says so. */
export class ManualClock {
  private t: number;
  constructor(start = 1_700_000_000_000) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  advance(ms: number): number {
    return (this.t += ms);
  }
}
