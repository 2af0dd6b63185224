/**
 * What the kernel says about a process, from /proc (Linux only):
 * - CPU time: utime + stime of /proc/<pid>/stat, in ms (clock ticks of 10 ms: ±10 ms per reading);
 * - I/O: /proc/<pid>/io — `read_bytes` is what the process made the kernel fetch from the block
 *   device (page-cache hits do not count), `rchar` every byte returned by read()/pread() (files,
 *   sockets and pipes alike, cached or not);
 * - memory: VmRSS (now) and VmHWM (peak) of /proc/<pid>/status, in bytes.
 * Syncthing is two processes (a monitor and the child it forks): callers pass every pid of its session
 * and the figures are summed.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';

const TICK_MS = 1000 / clockTicks();

function clockTicks(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

function readStat(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may hold spaces and parentheses.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** utime + stime in ms, summed over the pids (exited ones count 0). */
export function cpuMs(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const f = readStat(pid);
    // After "pid (comm)": [0]=state … utime is field 14 of the full line, i.e. index 11 here.
    if (f) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks * TICK_MS;
}

export interface IoCounters {
  rchar: number;
  wchar: number;
  readBytes: number;
  writeBytes: number;
}

export function ioCounters(pids: readonly number[]): IoCounters {
  const out: IoCounters = { rchar: 0, wchar: 0, readBytes: 0, writeBytes: 0 };
  for (const pid of pids) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/io`, 'utf8');
    } catch {
      continue;
    }
    const get = (k: string) => Number(new RegExp(`^${k}: (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    out.rchar += get('rchar');
    out.wchar += get('wchar');
    out.readBytes += get('read_bytes');
    out.writeBytes += get('write_bytes');
  }
  return out;
}

export function ioDelta(after: IoCounters, before: IoCounters): IoCounters {
  return { rchar: after.rchar - before.rchar, wchar: after.wchar - before.wchar, readBytes: after.readBytes - before.readBytes, writeBytes: after.writeBytes - before.writeBytes };
}

/** Resident set size now, and its peak (VmHWM), in bytes, summed over the pids. */
export function memory(pids: readonly number[]): { rss: number; hwm: number } {
  let rss = 0;
  let hwm = 0;
  for (const pid of pids) {
    try {
      const text = readFileSync(`/proc/${pid}/status`, 'utf8');
      rss += Number(/^VmRSS:\s+(\d+) kB/m.exec(text)?.[1] ?? 0) * 1024;
      hwm += Number(/^VmHWM:\s+(\d+) kB/m.exec(text)?.[1] ?? 0) * 1024;
    } catch {
      // exited
    }
  }
  return { rss, hwm };
}

/** Live (non-zombie) processes of a session, from /proc/<pid>/stat. */
export function sessionPids(sid: number): number[] {
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return pids;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const f = readStat(Number(entry));
    if (f && Number(f[3]) === sid && f[0] !== 'Z') pids.push(Number(entry));
  }
  return pids;
}

/** Samples memory of a changing set of pids every `everyMs`; `stop()` returns the peak and the samples. */
export function sampleMemory(pids: () => readonly number[], everyMs = 200): { stop(): { peakRss: number; samples: number[] } } {
  const samples: number[] = [];
  const take = () => {
    let p: readonly number[] = [];
    try {
      p = pids();
    } catch {
      return; // the process is gone
    }
    if (p.length) samples.push(memory(p).rss);
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return { peakRss: samples.length ? Math.max(...samples) : NaN, samples };
    },
  };
}

/** Whole-machine CPU busy fraction between two readings of /proc/stat. */
export function cpuTotals(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = line.reduce((a, b) => a + b, 0);
  const idle = (line[3] ?? 0) + (line[4] ?? 0);
  return { busy: total - idle, total };
}

export interface LoadInfo {
  loadavg: [number, number, number];
  /** Fraction of all cores busy since the previous reading (whole machine, every process). */
  busy?: number;
}

export function loadNow(since?: { busy: number; total: number }): LoadInfo & { totals: { busy: number; total: number } } {
  const totals = cpuTotals();
  const la = os.loadavg().map((x) => Math.round(x * 100) / 100) as [number, number, number];
  const out: LoadInfo & { totals: { busy: number; total: number } } = { loadavg: la, totals };
  if (since && totals.total > since.total) out.busy = Math.round(((totals.busy - since.busy) / (totals.total - since.total)) * 1000) / 1000;
  return out;
}
