/**
 * What `roam resume` could not carry to this machine for a session (each tool's adapter's
 * `notCarried`, docs/<TOOL>.md "What roam resume says it could not carry"): one line each, printed
 * before the tool starts and given in `--json`.
 */

/** The tools' user-level configuration, which roam does not sync: the line that says so. */
export function configNotSynced(what: string): string {
  return `user-level configuration (${what}): not synced; this machine's own applies`;
}

/** Processes a session had running on the device that wrote it. */
export const PROCESSES_STAY = 'processes the session had running on the other device (background shells, MCP servers): processes do not travel';
