/** What a device remembers of its peers across restarts (`<state>/peers.json`): name, peer id, last seen. */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface KnownPeer {
  name: string;
  peerId: string;
  lastSeen: number | null;
}

export class KnownPeers {
  private known = new Map<string, KnownPeer>();

  constructor(private readonly stateDir: string) {}

  private get file(): string {
    return join(this.stateDir, 'peers.json');
  }

  async load(): Promise<void> {
    try {
      this.known = new Map(Object.entries(JSON.parse(await readFile(this.file, 'utf8')) as Record<string, KnownPeer>));
    } catch {
      this.known = new Map();
    }
  }

  get(deviceId: string): KnownPeer | undefined {
    return this.known.get(deviceId);
  }

  entries(): IterableIterator<[string, KnownPeer]> {
    return this.known.entries();
  }

  remember(deviceId: string, k: KnownPeer): void {
    this.known.set(deviceId, k);
    this.save();
  }

  /** Forgets a device removed from the group. */
  forget(deviceId: string): void {
    if (this.known.delete(deviceId)) this.save();
  }

  private save(): void {
    void writeFile(this.file, JSON.stringify(Object.fromEntries(this.known), null, 2), { mode: 0o600 }).catch(() => undefined);
  }
}
