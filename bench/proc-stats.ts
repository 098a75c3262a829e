import { readFileSync } from 'node:fs';

/** What /proc says about one process: memory in bytes, CPU in seconds (user + system). */
export interface ProcSample {
  /** Resident set size now (VmRSS), bytes. */
  rssBytes: number;
  /** Peak resident set size so far (VmHWM), bytes. */
  peakRssBytes: number;
  /** utime + stime, seconds. */
  cpuSeconds: number;
}

/**
 * Clock ticks per second of /proc/<pid>/stat's utime and stime. Linux has used 100 (USER_HZ) on
 * every architecture Node runs on; `getconf CLK_TCK` would say so, at the cost of a process.
 */
const CLOCK_TICKS = 100;

function statusField(status: string, name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

/** Reads /proc/<pid>/status and /proc/<pid>/stat; undefined when the process is gone. */
export function readProc(pid: number): ProcSample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line, i.e. 12 and 13 after the name.
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return {
      rssBytes: statusField(status, 'VmRSS'),
      peakRssBytes: statusField(status, 'VmHWM'),
      cpuSeconds: (utime + stime) / CLOCK_TICKS,
    };
  } catch {
    return undefined;
  }
}
