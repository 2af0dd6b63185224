/**
 * The Io port: where a verb writes what it reports. Only the CLI entry (main.ts) makes the real one,
 * over stdout and stderr; tests pass their own. Verbs import this module, never main.ts, so the
 * command table and the verbs do not import each other.
 */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** Optional: out() for a line given as UTF-8 (`roam list --json` prints megabytes it holds as bytes). */
  outBytes?(line: Uint8Array): void;
}
