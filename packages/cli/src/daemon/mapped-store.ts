/**
 * A folder store whose item names are wire names (what the engine and the peers see) over a store
 * whose names are this device's local names (what is on disk): the projects folder of Claude Code,
 * where each device keeps a project under its own key (see project-names.ts).
 *
 * `move` points a wire project at another local directory: the files move on disk, the engine's
 * names do not change, so peers see nothing. A whole-content write staged before such a move is
 * refused at commit (ROAM_STORE_CONFLICT: the engine fetches it again).
 */
import { ErrorCodes, RoamError, type DiskState, type FolderStore, type LocalChange, type LogPos, type MetaStore, type PartialTail, type ScanOptions, type StagedTarget, type StagedWrite } from '@roam/core';
import type { ProjectNames } from '../machine/project-names.js';

export class MappedStore implements FolderStore {
  constructor(
    private readonly inner: FolderStore,
    readonly names: ProjectNames,
    /** Told of every change the tools made here (wire names): roamd's leases come from it. */
    private readonly onLocal?: (changes: readonly LocalChange[]) => void,
  ) {}

  get meta(): MetaStore {
    return this.inner.meta;
  }

  private wire<T extends { name: string }>(s: T): T {
    return { ...s, name: this.names.toWire(s.name) };
  }

  private local(name: string): string {
    return this.names.toLocal(name);
  }

  async open(): Promise<DiskState[]> {
    return (await this.inner.open()).map((s) => this.wire(s));
  }

  async scan(names?: readonly string[], opts?: ScanOptions): Promise<LocalChange[]> {
    const changes = (await this.inner.scan(names?.map((n) => this.local(n)), opts)).map((c) => ({ ...c, state: this.wire(c.state) }));
    if (changes.length) this.onLocal?.(changes);
    return changes;
  }

  stat(name: string): DiskState | null {
    const s = this.inner.stat(this.local(name));
    return s ? { ...s, name } : null;
  }

  positionAt(name: string, offset: number): Promise<LogPos | null> {
    return this.inner.positionAt(this.local(name), offset);
  }

  checkpoints(name: string): Promise<LogPos[]> {
    return this.inner.checkpoints(this.local(name));
  }

  read(name: string, offset: number, length: number): Promise<Uint8Array> {
    return this.inner.read(this.local(name), offset, length);
  }

  async appendLog(name: string, start: LogPos, data: readonly Uint8Array[], end: LogPos, mtimeMs: number, mode?: number): Promise<DiskState> {
    return { ...(await this.inner.appendLog(this.local(name), start, data, end, mtimeMs, mode)), name };
  }

  partialTail(name: string): Promise<PartialTail | null> {
    return this.inner.partialTail(this.local(name));
  }

  async dropPartialTail(name: string, expected: DiskState, tail: PartialTail): Promise<DiskState> {
    const local = this.local(name);
    return { ...(await this.inner.dropPartialTail(local, { ...expected, name: local }, tail)), name };
  }

  async stage(name: string): Promise<StagedWrite> {
    const local = this.local(name);
    const staged = await this.inner.stage(local);
    return {
      write: (offset, data) => staged.write(offset, data),
      commit: async (target: StagedTarget, expected: DiskState | null) => {
        if (this.local(name) !== local) {
          await staged.abort();
          throw new RoamError(ErrorCodes.STORE_CONFLICT, `${name} moved to another project directory during the transfer`);
        }
        return { ...(await staged.commit(target, expected ? { ...expected, name: local } : null)), name };
      },
      abort: () => staged.abort(),
    };
  }

  async remove(name: string, expected: DiskState): Promise<void> {
    const local = this.local(name);
    await this.inner.remove(local, { ...expected, name: local });
    this.names.forgetItem(local);
  }

  async copy(from: string, to: string, expected: DiskState): Promise<DiskState> {
    const lf = this.local(from);
    return { ...(await this.inner.copy(lf, this.local(to), { ...expected, name: lf })), name: to };
  }

  async touch(name: string, mtimeMs: number, expected: DiskState): Promise<DiskState> {
    const local = this.local(name);
    return { ...(await this.inner.touch(local, mtimeMs, { ...expected, name: local })), name };
  }

  async rename(from: string, to: string, expected: DiskState): Promise<DiskState> {
    const lf = this.local(from);
    return { ...(await this.inner.rename(lf, this.local(to), { ...expected, name: lf })), name: to };
  }

  /**
   * Moves every local item of `wire` from its current key directory to `toKey` (the table has
   * already been pointed at it). Items are given as their local names under the old key.
   */
  async move(wire: string, fromKey: string, toKey: string, items: readonly string[]): Promise<number> {
    let moved = 0;
    for (const local of items) {
      const s = this.inner.stat(local);
      if (!s || s.deleted) continue;
      const target = `${toKey}${local.slice(fromKey.length)}`;
      await this.inner.rename(local, target, s);
      this.names.forgetItem(local);
      this.names.noteItem(target, wire);
      moved++;
    }
    return moved;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
