/**
 * Takes folders into a running roamd: the tools' folders that connected peers share or that
 * appeared here (looked for every second), and the folders config.json names (on reload). One
 * pass at a time; a folder that fails to open is logged and tried again on the next pass.
 */
import { existsSync } from 'node:fs';
import type { FolderSpec } from '../machine/config.js';
import { toolFoldersToTake, type OfferInput } from './offers.js';

export interface FolderTakerHost {
  /** True on a relay-only device: it takes no folder, ever. */
  holdsNone(): boolean;
  /** What the replicator knows of the connected peers' folders (see offers.ts). */
  offerInput(): OfferInput;
  /** Opens the folder (store, watcher) and adds it to the running engine. */
  add(spec: FolderSpec): Promise<void>;
  log(line: string): void;
}

/** How often roamd looks for tool folders to take (peers' offers, folders that appeared here). */
const TAKE_MS = 1_000;

export class FolderTaker {
  private timer: NodeJS.Timeout | null = null;
  private taking: Promise<void> | null = null;
  private stopped = false;
  /** The last failure per folder id: logged once, not every pass. */
  private readonly failures = new Map<string, string>();

  constructor(private readonly host: FolderTakerHost) {}

  start(): void {
    this.timer = setInterval(() => void (this.taking ?? this.take()), TAKE_MS);
    this.timer.unref();
  }

  /** One pass: the tools' folders to take now, and `extra` (config.json's folders) not held yet. */
  async take(extra: readonly FolderSpec[] = []): Promise<void> {
    while (this.taking) await this.taking;
    if (this.stopped || this.host.holdsNone()) return;
    const pass = (async () => {
      const input = this.host.offerInput();
      const want = [...extra.map((spec) => ({ spec, why: 'config.json names it' })), ...toolFoldersToTake(input, existsSync)];
      const held = new Set(input.held);
      for (const { spec, why } of want) {
        if (held.has(spec.id) || this.stopped) continue;
        try {
          await this.host.add(spec);
          held.add(spec.id);
          this.failures.delete(spec.id);
          this.host.log(`syncing ${spec.id} at ${spec.path} (${why})`);
        } catch (err) {
          const line = `cannot take folder ${spec.id} at ${spec.path} (${why}): ${String(err)}; trying again every second`;
          if (this.failures.get(spec.id) !== line) this.host.log(line);
          this.failures.set(spec.id, line);
        }
      }
    })();
    this.taking = pass;
    try {
      await pass;
    } finally {
      if (this.taking === pass) this.taking = null;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.taking;
  }
}
