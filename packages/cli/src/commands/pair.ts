/**
 * `roam pair [--timeout <s>] [--json]`: print a one-time code (stdout, alone on its line; with
 * --json a JSON line holding it) and wait until a device joins with it, showing on stderr what it
 * waits for, the time left, and why a device that tried was refused. `roam pair <code>`: join the
 * group of the device that printed it. Everything but the code (and --json's lines) goes to stderr.
 */
import { ErrorCodes, RoamError, isRoamError } from '@roam/core/errors';
import type { Io } from '../io.js';
import { call } from '../control/client.js';
import { roamPaths } from '../machine/paths.js';
import type { DeviceInfo, PairCodeEvent, PairRefusal, PairRefusedEvent, PairResult } from '../control/pairing.js';
import { decodeCode } from '../machine/pair-code.js';
import { isShortCode, parseShortCode } from '../machine/short-code.js';
import { printable } from '../machine/printable.js';
import { WaitProgress } from './helpers/pair-progress.js';

export interface PairFlags {
  timeout?: number;
  json?: boolean;
  /** Invite with a short code (a number and three words) instead of a `roam1-` code. */
  short?: boolean;
  /** Joining with a short code: the inviter's pairing addresses (`--peer`). */
  peer?: string[];
}

/** What happens after joining, for --json. */
const NEXT = { sync: 'started', watch: ['roam status', 'roam sync --wait'] } as const;
const SYNC_STARTED = 'sync started: watch it with `roam status` or wait with `roam sync --wait`';

const names = (devices: readonly DeviceInfo[]): string => devices.map((d) => d.name).join(', ') || 'no other device';
const groupName = (r: PairResult): string => (r.group ? `group ${r.group.id.slice(0, 8)}` : 'the group');

export async function pair(code: string | undefined, opts: PairFlags, io: Io, tty = !!process.stderr.isTTY, raw = (s: string) => void process.stderr.write(s)): Promise<void> {
  const socket = roamPaths().socket;
  const params = opts.timeout !== undefined ? { timeout: opts.timeout } : {};
  if (code !== undefined) {
    if (opts.short) throw new RoamError(ErrorCodes.USAGE, '--short is for inviting (`roam pair --short`); to join, give the code alone');
    const short = isShortCode(code);
    // A typo is reported here, before anything is dialed.
    if (short) parseShortCode(code);
    else decodeCode(code);
    if (opts.peer?.length && !short) throw new RoamError(ErrorCodes.USAGE, '--peer goes with a short code: a `roam1-` code carries its addresses');
    const r = await call(socket, 'pair', { ...params, code, ...(opts.peer?.length ? { peers: opts.peer } : {}) });
    const inviter = r.inviter ?? r.joined;
    const others = r.devices.filter((d) => !d.self);
    if (opts.json) {
      io.out(JSON.stringify({ group: r.group, inviter, self: r.devices.find((d) => d.self) ?? null, devices: r.devices, next: NEXT }));
      return;
    }
    io.out(`paired with ${inviter.name} (${inviter.peerId}); devices in the group: ${names(others)}`);
    io.out(`joined ${groupName(r)} with ${names(others)}; ${SYNC_STARTED}`);
    return;
  }
  let progress: WaitProgress | null = null;
  const refusals: PairRefusal[] = [];
  let r: PairResult;
  try {
    if (opts.peer?.length) throw new RoamError(ErrorCodes.USAGE, '--peer is for joining with a short code: `roam pair <code> --peer <address>`');
    r = await call(socket, 'pair', { ...params, ...(opts.short ? { short: true } : {}) }, (event) => {
      const e = event as Partial<PairCodeEvent & PairRefusedEvent> | null;
      if (e?.refused) {
        refusals.push(e.refused);
        if (opts.json) io.out(JSON.stringify({ event: 'refused', ...e.refused }));
        const text = `refused: ${printable(e.refused.message)}; still waiting`;
        if (progress) progress.say(text);
        else io.err(text);
        return;
      }
      if (progress || typeof e?.code !== 'string' || typeof e.expiresAt !== 'number') return;
      io.out(opts.json ? JSON.stringify({ event: 'code', code: e.code, expiresAt: e.expiresAt, ...(e.addresses ? { addresses: e.addresses } : {}) }) : e.code);
      if (e.addresses) {
        io.err(`type this code on the other device: \`roam pair ${e.code}\` (one attempt: a wrong code uses it up); it finds this device on the local network`);
        if (e.addresses.length) io.err(`elsewhere, add --peer with one of: ${e.addresses.map((a) => `--peer ${a}`).join(', ')}`);
      }
      progress = new WaitProgress({ expiresAt: e.expiresAt, tty, raw, line: (l) => io.err(l) });
      progress.start();
    });
  } catch (err) {
    // The code expired: say also who tried and why they were refused.
    if (isRoamError(err) && err.code === ErrorCodes.PAIR_EXPIRED && refusals.length) {
      const who = refusals.map((x) =>
        x.peerId ? `${printable(x.name)} (${x.peerId}) was refused: its identity was removed from the group (\`roam leave\` on it gives it a new one)` : `a device at ${printable(x.name)} came with another code`,
      );
      throw new RoamError(err.code, `${err.message}; meanwhile ${who.join('; ')}`);
    }
    throw err;
  } finally {
    (progress as WaitProgress | null)?.stop();
  }
  const others = r.devices.filter((d) => d.peerId !== r.joined.peerId);
  io.err(`paired with ${r.joined.name} (${r.joined.peerId})`);
  io.err(`${r.joined.name} joined ${groupName(r)} with ${names(others)}; ${SYNC_STARTED}`);
  if (opts.json) io.out(JSON.stringify({ event: 'joined', joined: r.joined, group: r.group, devices: r.devices, next: NEXT }));
}
