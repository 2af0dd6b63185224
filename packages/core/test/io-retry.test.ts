/**
 * Regression (found by the torture suite, test/torture/diskfull.test.ts): a pull that failed on a
 * store I/O error (the receiver's disk was full) was not tried again until the peer's record
 * changed. When the sender had written its last lines, freeing space on the receiver changed
 * nothing: it stayed behind for good (until a reconnect). The engine now tries such pulls again
 * after a while, with a growing delay while they keep failing.
 */
import { describe, expect, it } from 'vitest';
import { Engine } from '../src/engine.js';
import { ErrorCodes, RoamError } from '../src/errors.js';
import { nobleHasher } from '../src/log/hash.js';
import type { LogPos } from '../src/log/position.js';
import type { StagedWrite } from '../src/store.js';
import { linkPair } from '../src/testing/link-pair.js';
import { MemoryStore } from '../src/testing/memory-store.js';
import { until } from './support/poll.js';

const enospc = () => new RoamError(ErrorCodes.STORE_IO, 'store I/O failed: ENOSPC: no space left on device, write');

/** A store whose disk is full while `full` is set: appends and staged writes fail with ENOSPC. */
class FullDisk extends MemoryStore {
  full = false;
  failures = 0;

  override appendLog(name: string, start: LogPos, data: readonly Uint8Array[], end: LogPos, mtimeMs: number, mode?: number) {
    if (this.full) {
      this.failures++;
      return Promise.reject(enospc());
    }
    return super.appendLog(name, start, data, end, mtimeMs, mode);
  }

  override async stage(name: string): Promise<StagedWrite> {
    const s = await super.stage(name);
    return {
      ...s,
      write: (offset, data) => {
        if (this.full) {
          this.failures++;
          return Promise.reject(enospc());
        }
        return s.write(offset, data);
      },
    };
  }
}

describe('a pull that failed because the disk was full', () => {
  it('is tried again once there is room, with nothing new written on the sender', async () => {
    const FOLDER = { id: 'f', conflict: 'fork' as const, logDeletes: 'local' as const };
    const open = async (id: string, store: MemoryStore) => {
      let n = 0;
      return Engine.open({
        device: id, name: id, software: 'test', folders: [FOLDER], newIndexId: () => `${id.slice(0, 8)}${(n++).toString(16).padStart(8, '0')}`,
        stores: new Map([['f', store]]), hasher: nobleHasher, clock: { now: Date.now }, ioRetryMs: 20,
      });
    };
    const sa = new MemoryStore();
    const sb = new FullDisk();
    const a = await open('00000000000000a1', sa);
    const b = await open('00000000000000b2', sb);
    const pair = await linkPair({ id: '00000000000000a1', engine: a }, { id: '00000000000000b2', engine: b });
    try {
      sb.full = true;
      const log = new TextEncoder().encode('{"a":1}\n{"b":2}\n');
      const file = new TextEncoder().encode('a whole file');
      sa.toolAppend('p/s.jsonl', log);
      sa.toolAppend('p/notes.md', file);
      await a.scan('f');
      await until(() => sb.failures >= 2, { timeoutMs: 5000, what: 'the full disk to refuse both pulls' });
      expect(sb.files().get('p/s.jsonl')).toBeUndefined();

      // Space is freed on B; A writes nothing more.
      sb.full = false;
      await until(() => Buffer.from(sb.files().get('p/s.jsonl') ?? []).equals(Buffer.from(log)) && Buffer.from(sb.files().get('p/notes.md') ?? []).equals(Buffer.from(file)), {
        timeoutMs: 5000,
        what: 'B to catch up once it has room',
        detail: () => ({ files: [...sb.files().keys()], failures: sb.failures }),
      });
    } finally {
      await pair.close();
      await a.close();
      await b.close();
    }
  });
});
