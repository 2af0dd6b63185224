/**
 * What each device tells the others about itself besides the sessions: a small JSON file per
 * device in roam's own synced folder (`roam`, under the state directory), replicated like any other
 * whole file. It carries
 * - leases: the sessions this device is writing now (Claude Code has one open, or the log grew here
 *   within the last minute), refreshed every HEARTBEAT_MS while any is held, so `roam resume` on
 *   another device can refuse to resume a session still being written;
 * - projects: the git remote (and path inside the repository) of each project this device keeps,
 *   so a device where the same repository lives elsewhere can map it (machine/project-names.ts);
 * - home: its home directory, against which the others name the directories its tools record.
 *
 * This module is the file's format and what every reader needs (the verbs, roamd); roamd's
 * daemon/leases.ts decides the leases and writes this device's file.
 */
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

export const SHARED_FOLDER = 'roam';
export const HEARTBEAT_MS = 15_000;
/** A lease whose heartbeat is older than this is over (the device went away without saying so). */
export const LEASE_TTL_MS = 60_000;
/** A log written longer ago than this was found (an index, changes made while roamd was down), not written now. */
export const ACTIVE_MS = 60_000;
/**
 * A session of a tool without a live-session registry (Codex, Gemini CLI, Copilot CLI, older
 * Claude Code) is leased while its log grows, and this long after its last line. Longer kept a
 * user who stopped on one device and walked to the next waiting (or refused) for a minute; a tool
 * busy with a turn writes a line at least every few seconds (each message, each tool call). A turn
 * that goes quiet for longer loses its lease: a resume elsewhere then makes a fork, nothing is lost.
 */
export const WRITE_LEASE_MS = 15_000;
/**
 * roamd looks at its leases this often and rewrites its file when one began or ended, so a device
 * learns of a released lease about WRITE_LEASE_MS + TICK_MS after the last line, plus the transfer.
 * (A lease's `lastActive` alone does not rewrite the file: the heartbeat carries it, up to
 * HEARTBEAT_MS late, so other devices cannot judge the end from it.)
 */
export const TICK_MS = 5_000;

const leaseSchema = z.object({
  tool: z.string(),
  session: z.string(),
  /** The project's wire name, when known. */
  project: z.string().nullable(),
  since: z.number(),
  /** Last time the tool was seen writing or running it. */
  lastActive: z.number(),
  /** The tool's process on that device, from its live-session registry. */
  pid: z.number().nullable(),
  cwd: z.string().nullable(),
});
export type Lease = z.infer<typeof leaseSchema>;

const sharedSchema = z.object({
  v: z.literal(1),
  device: z.string(),
  name: z.string(),
  updatedAt: z.number(),
  leases: z.array(leaseSchema),
  projects: z.record(z.string(), z.object({ remote: z.string(), sub: z.string() })),
  /** This device's home directory (real path): other devices name the directories its tools record against it (machine/project-identity.ts). */
  home: z.string().optional(),
});
export type SharedInfo = z.infer<typeof sharedSchema>;

/** The home directory this device publishes: HOME's real path (the tools record real paths). */
export function deviceHome(env: NodeJS.ProcessEnv): string {
  const home = env.HOME || homedir();
  try {
    return realpathSync(home);
  } catch {
    return home;
  }
}

/** Reads every device's file in the shared folder (malformed files are skipped). */
export function readShared(dir: string): SharedInfo[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const out: SharedInfo[] = [];
  for (const n of names) {
    try {
      const p = sharedSchema.safeParse(JSON.parse(readFileSync(join(dir, n), 'utf8')));
      if (p.success && `${p.data.device}.json` === n) out.push(p.data);
    } catch {
      // being replaced, or not ours
    }
  }
  return out;
}
