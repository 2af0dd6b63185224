/** roamd's entry (`roamd`, src/roamd.ts the bin): run the daemon in the foreground until SIGINT or SIGTERM. */
import { Daemon } from './daemon.js';
import { startIdleGc } from './idle-gc.js';
import type { Io } from '../io.js';

export interface DaemonFlags {
  listen: string[];
  peer: string[];
  mdns: boolean;
  name?: string;
  relay?: boolean;
}

export async function runDaemon(flags: DaemonFlags, io: Io): Promise<void> {
  // roamd's own process (not a Daemon in a test's): hand a burst's garbage back once it is over.
  // Started first, so that the start-up's own garbage (the journals parsed) counts as growth.
  const idleGc = startIdleGc();
  // One loop turn per start: `roam leave` asks for a restart, so the daemon runs as the device's
  // new identity (state flushed and opened again, as a stop and a start would).
  let wake: ((why: 'stop' | 'restart') => void) | null = null;
  let stopping = false;
  const stop = () => {
    stopping = true;
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    wake?.('stop');
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  let restarts = 0;
  while (!stopping) {
    const daemon = await Daemon.start({
      listen: flags.listen,
      peers: flags.peer,
      mdns: flags.mdns,
      ...(flags.name ? { name: flags.name } : {}),
      ...(flags.relay ? { relay: true } : {}),
      echo: (line) => io.out(line),
      onRestart: () => wake?.('restart'),
    });
    const s = daemon.status();
    io.out(`${restarts ? 'restarted: ' : ''}peer id: ${s.peerId}`);
    for (const a of s.addresses) io.out(`listening on ${a}`);
    for (const f of s.folders) io.out(`syncing ${f.id}: ${f.path}`);
    const why = stopping ? 'stop' : await new Promise<'stop' | 'restart'>((resolve) => (wake = resolve));
    wake = null;
    await daemon.stop();
    if (why === 'restart') restarts++;
  }
  idleGc.stop();
}
