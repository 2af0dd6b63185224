/** `roamd`: run the daemon in the foreground until SIGINT or SIGTERM. */
import { Daemon } from '../daemon/daemon.js';
import { startIdleGc } from '../daemon/idle-gc.js';
import type { Io } from '../main.js';

export interface DaemonFlags {
  listen: string[];
  peer: string[];
  mdns: boolean;
  name?: string;
}

export async function runDaemon(flags: DaemonFlags, io: Io): Promise<void> {
  // roamd's own process (not a Daemon in a test's): hand a burst's garbage back once it is over.
  // Started first, so that the start-up's own garbage (the journals parsed) counts as growth.
  const idleGc = startIdleGc();
  const daemon = await Daemon.start({
    listen: flags.listen,
    peers: flags.peer,
    mdns: flags.mdns,
    ...(flags.name ? { name: flags.name } : {}),
    echo: (line) => io.out(line),
  });
  const s = daemon.status();
  io.out(`peer id: ${s.peerId}`);
  for (const a of s.addresses) io.out(`listening on ${a}`);
  for (const f of s.folders) io.out(`syncing ${f.id}: ${f.path}`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  idleGc.stop();
  await daemon.stop();
}
