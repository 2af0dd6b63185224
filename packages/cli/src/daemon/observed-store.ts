/**
 * A folder store that tells roamd what the tools changed in it: every scan's local changes go to
 * `onLocal` (leases come from them). Everything else passes through unchanged.
 */
import type { DiskState, FolderStore, LocalChange, LogPos, MetaStore, PartialTail, ScanOptions, StagedWrite } from '@roam/core';

export class ObservedStore implements FolderStore {
  constructor(
    private readonly inner: FolderStore,
    private readonly onLocal: (changes: readonly LocalChange[]) => void,
  ) {}

  get meta(): MetaStore {
    return this.inner.meta;
  }

  open(): Promise<DiskState[]> {
    return this.inner.open();
  }

  async scan(names?: readonly string[], opts?: ScanOptions): Promise<LocalChange[]> {
    const changes = await this.inner.scan(names, opts);
    if (changes.length) this.onLocal(changes);
    return changes;
  }

  stat(name: string): DiskState | null {
    return this.inner.stat(name);
  }

  positionAt(name: string, offset: number): Promise<LogPos | null> {
    return this.inner.positionAt(name, offset);
  }

  checkpoints(name: string): Promise<LogPos[]> {
    return this.inner.checkpoints(name);
  }

  read(name: string, offset: number, length: number): Promise<Uint8Array> {
    return this.inner.read(name, offset, length);
  }

  appendLog(name: string, start: LogPos, data: readonly Uint8Array[], end: LogPos, mtimeMs: number, mode?: number): Promise<DiskState> {
    return this.inner.appendLog(name, start, data, end, mtimeMs, mode);
  }

  partialTail(name: string): Promise<PartialTail | null> {
    return this.inner.partialTail(name);
  }

  dropPartialTail(name: string, expected: DiskState, tail: PartialTail): Promise<DiskState> {
    return this.inner.dropPartialTail(name, expected, tail);
  }

  stage(name: string): Promise<StagedWrite> {
    return this.inner.stage(name);
  }

  remove(name: string, expected: DiskState): Promise<void> {
    return this.inner.remove(name, expected);
  }

  copy(from: string, to: string, expected: DiskState): Promise<DiskState> {
    return this.inner.copy(from, to, expected);
  }

  touch(name: string, mtimeMs: number, expected: DiskState): Promise<DiskState> {
    return this.inner.touch(name, mtimeMs, expected);
  }

  rename(from: string, to: string, expected: DiskState): Promise<DiskState> {
    return this.inner.rename(from, to, expected);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

