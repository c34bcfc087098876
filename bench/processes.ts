/**
 * CPU time and resident memory of every process the system runs — the five services and each server of the
 * stack (its pid file, with all its descendants: Postgres backends, the JVM's threads are one process) —
 * read from /proc, so a figure per order can be split by process.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { cachePaths, readPid } from '../stack/process';
import { defaultCacheDir } from '../stack';

const getconf = (name: string, fallback: number) => {
  try {
    return Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim()) || fallback;
  } catch {
    return fallback;
  }
};
const TICKS_PER_SECOND = getconf('CLK_TCK', 100);
const PAGE_KB = getconf('PAGESIZE', 4096) / 1024;

export const STACK_SERVERS = ['postgres', 'kafka', 'temporal', 'localstripe', 'mailpit'] as const;

interface Stat {
  ppid: number;
  /** Own CPU plus that of children it has reaped, in ms. */
  cpuMs: number;
  rssMb: number;
}

function readStat(pid: number): Stat | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: fields start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const n = (i: number) => Number(fields[i - 3]);
    const ticks = n(14) + n(15) + n(16) + n(17); // utime stime cutime cstime
    return { ppid: n(4), cpuMs: (ticks * 1000) / TICKS_PER_SECOND, rssMb: (n(24) * PAGE_KB) / 1024 };
  } catch {
    return undefined;
  }
}

/** Every live process, by pid. */
function allProcesses(): Map<number, Stat> {
  const all = new Map<number, Stat>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) all.set(Number(entry), stat);
  }
  return all;
}

export interface Usage {
  cpuMs: number;
  rssMb: number;
}

/** The roots to account for: name → pid. */
export type Roots = Record<string, number>;

/** The stack's servers (from their pid files) plus the given processes. */
export function systemRoots(services: { name: string; pid: number | undefined }[]): Roots {
  const run = cachePaths(defaultCacheDir()).run;
  const roots: Roots = {};
  for (const name of STACK_SERVERS) {
    const pid = readPid(run, name);
    if (pid) roots[name] = pid;
  }
  for (const s of services) if (s.pid) roots[s.name] = s.pid;
  return roots;
}

/** CPU and RSS per root, each summed over the root and all its descendants. */
export function usage(roots: Roots): Record<string, Usage> {
  const all = allProcesses();
  const children = new Map<number, number[]>();
  for (const [pid, stat] of all) {
    const siblings = children.get(stat.ppid);
    if (siblings) siblings.push(pid);
    else children.set(stat.ppid, [pid]);
  }
  const result: Record<string, Usage> = {};
  for (const [name, root] of Object.entries(roots)) {
    const total = { cpuMs: 0, rssMb: 0 };
    const stack = [root];
    while (stack.length) {
      const pid = stack.pop()!;
      const stat = all.get(pid);
      if (!stat) continue;
      total.cpuMs += stat.cpuMs;
      total.rssMb += stat.rssMb;
      stack.push(...(children.get(pid) ?? []));
    }
    result[name] = total;
  }
  return result;
}

/** CPU used between two readings, and the peak RSS seen by `sample` calls in between. */
export class UsageWindow {
  private readonly start: Record<string, Usage>;
  readonly peakRssMb: Record<string, number> = {};
  private readonly timer: NodeJS.Timeout;
  private cpuMs?: Record<string, number>;

  constructor(private readonly roots: Roots) {
    this.start = usage(roots);
    this.timer = setInterval(() => this.sample(), 500);
  }

  private sample(): Record<string, Usage> {
    const now = usage(this.roots);
    for (const [name, u] of Object.entries(now))
      this.peakRssMb[name] = Math.max(this.peakRssMb[name] ?? 0, u.rssMb);
    return now;
  }

  /** Stops sampling; CPU ms per process since the window opened (read once: closing again returns it). */
  close(): Record<string, number> {
    if (this.cpuMs) return this.cpuMs;
    clearInterval(this.timer);
    const end = this.sample();
    return (this.cpuMs = Object.fromEntries(
      Object.keys(this.roots).map((name) => [name, (end[name]?.cpuMs ?? 0) - (this.start[name]?.cpuMs ?? 0)]),
    ));
  }

  /** Peak RSS per process in whole MB. */
  peaks(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.peakRssMb).map(([k, v]) => [k, Math.round(v)]));
  }
}
