/**
 * roamd's side of a union log (docs/PROTOCOL.md, "Union logs"): the core's `UnionView` over real
 * files. The folder (the per-device logs, `<self>.jsonl` this device's own) is an ordinary synced
 * folder in roam's state; the tool's file is the view. A pass runs whenever the view or a log
 * changed (looked at every 200 ms), one at a time. The view's state is a JSON file beside the
 * folder's journal, replaced atomically.
 */
import { promises as fsp, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UnionView, type UnionLogs, type UnionMapper, type UnionState, type UnionViewFile } from '@roam/core';
import type { FsFolderStore } from '@roam/core/node';
import type { HomePaths } from '../machine/home-paths.js';
import type { UnionLogSpec } from '../tools/registry.js';

export interface UnionDriverOptions {
  readonly spec: UnionLogSpec;
  /** The tool's file on this device. */
  readonly file: string;
  /** The folder of per-device logs. */
  readonly root: string;
  readonly store: FsFolderStore;
  /** Where the view's state is kept. */
  readonly stateFile: string;
  readonly paths: HomePaths;
  /** This device's id (undefined until roamd knows it). */
  self(): string | undefined;
  /** This device's own log grew: scan it now. */
  ownAppended(name: string): void;
  log(line: string): void;
}

const TICK_MS = 200;
const dec = new TextDecoder('utf-8', { fatal: true });
const enc = new TextEncoder();

async function sizeOf(file: string): Promise<number | null> {
  const st = await fsp.stat(file).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : Promise.reject(e)));
  return st ? st.size : null;
}

async function readAt(file: string, offset: number, length: number): Promise<Uint8Array> {
  const fh = await fsp.open(file, 'r');
  try {
    const buf = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await fh.read(buf, got, length - got, offset + got);
      if (!bytesRead) break;
      got += bytesRead;
    }
    return buf.subarray(0, got);
  } finally {
    await fh.close();
  }
}

/** One write with O_APPEND, then fsync: whole lines land after whatever the file holds. */
async function appendDurably(file: string, data: Uint8Array): Promise<void> {
  await fsp.mkdir(dirname(file), { recursive: true });
  const fh = await fsp.open(file, 'a', 0o600);
  try {
    for (let at = 0; at < data.length; ) at += (await fh.write(data, at, data.length - at)).bytesWritten;
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export class UnionDriver {
  private view: UnionView | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private last = '';
  private failure = '';

  private constructor(private readonly opts: UnionDriverOptions) {}

  static start(opts: UnionDriverOptions): UnionDriver {
    const d = new UnionDriver(opts);
    d.timer = setInterval(() => void (d.running ?? d.tick()), TICK_MS);
    d.timer.unref();
    return d;
  }

  private own(): string {
    return `${this.opts.self()}.jsonl`;
  }

  private async tick(): Promise<void> {
    const self = this.opts.self();
    if (!self) return;
    const run = (async () => {
      const st = await fsp.stat(this.opts.file).catch(() => null);
      const sizes = this.origins(self).map((o) => `${o}:${this.opts.store.stat(`${o}.jsonl`)?.size ?? 0}`);
      const sig = `${st?.ino}:${st?.size}:${st?.mtimeMs}|${sizes.join(',')}`;
      if (sig === this.last) return;
      this.view ??= await UnionView.open({ view: this.viewFile(), logs: this.logs(self), mapper: this.mapper(), state: this.statePort(), log: (l) => this.opts.log(`${this.opts.spec.id}: ${l}`) });
      const r = await this.view.pass();
      if (r.ingested || r.delivered) this.opts.log(`${this.opts.spec.id}: ${r.ingested} line(s) of this device's, ${r.delivered} from other devices`);
      // Waiting on a partial line of the tool's: look again next time even if nothing changed.
      this.last = r.waiting ? '' : sig;
      this.failure = '';
    })();
    this.running = run;
    try {
      await run;
    } catch (err) {
      this.view = null; // start again from the saved state
      const line = `${this.opts.spec.id}: ${String(err)}; trying again`;
      if (line !== this.failure) this.opts.log(line);
      this.failure = line;
    } finally {
      this.running = null;
    }
  }

  private origins(self: string): string[] {
    let names: string[] = [];
    try {
      names = readdirSync(this.opts.root);
    } catch {
      return [];
    }
    return names.filter((n) => n.endsWith('.jsonl') && n !== `${self}.jsonl`).map((n) => n.slice(0, -'.jsonl'.length));
  }

  private viewFile(): UnionViewFile {
    const file = this.opts.file;
    return { size: () => sizeOf(file), read: (o, n) => readAt(file, o, n), append: (data) => appendDurably(file, data) };
  }

  private logs(self: string): UnionLogs {
    const ownFile = join(this.opts.root, this.own());
    const live = (o: string) => {
      const s = this.opts.store.stat(`${o}.jsonl`);
      return s && !s.deleted ? s.size : 0;
    };
    return {
      origins: () => this.origins(self),
      size: live,
      read: (o, off, n) => this.opts.store.read(`${o}.jsonl`, off, n),
      ownSize: async () => (await sizeOf(ownFile)) ?? 0,
      appendOwn: async (data) => {
        await appendDurably(ownFile, data);
        this.opts.ownAppended(this.own());
      },
    };
  }

  private mapper(): UnionMapper {
    const { spec, paths } = this.opts;
    return {
      toWire: (l) => enc.encode(spec.mapLine(dec.decode(l), paths.toWire)),
      toLocal: (l) => enc.encode(spec.mapLine(dec.decode(l), paths.toLocal)),
    };
  }

  private statePort() {
    const file = this.opts.stateFile;
    return {
      load: async (): Promise<unknown> => {
        const text = await fsp.readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : Promise.reject(e)));
        return text === null ? null : (JSON.parse(text) as unknown);
      },
      save: async (state: UnionState): Promise<void> => {
        const tmp = `${file}.tmp`;
        const fh = await fsp.open(tmp, 'w', 0o600);
        try {
          await fh.writeFile(JSON.stringify(state));
          await fh.sync();
        } finally {
          await fh.close();
        }
        await fsp.rename(tmp, file);
        const dir = await fsp.open(dirname(file), 'r');
        try {
          await dir.sync();
        } finally {
          await dir.close();
        }
      },
    };
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
