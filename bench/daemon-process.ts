import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readProc, type ProcSample } from './proc-stats.js';

export interface DaemonProcessOptions {
  /** The repository root (where dist/cli.js is). */
  cwd: string;
  /** The daemon's whole environment (nothing is inherited but PATH and HOME). */
  env: Record<string, string>;
  /** File that receives the daemon's stdout and stderr. */
  logFile: string;
  /** The script node runs with `run`; default dist/cli.js. */
  entry?: string;
  /** Extra flags for node, e.g. --cpu-prof. */
  nodeFlags?: string[];
  /** How often RSS is sampled, in milliseconds. Default 50. */
  sampleEveryMs?: number;
}

/**
 * `node dist/cli.js run` as a child process, so its memory and CPU are its own and can be read from
 * /proc. RSS is sampled in the background; `takePeak` returns the largest sample since the last call.
 */
export class DaemonProcess {
  readonly pid: number;
  private readonly child: ChildProcess;
  private readonly sampler: NodeJS.Timeout;
  private peakRss = 0;
  private exitCode: number | null | undefined;
  private readonly exited: Promise<void>;

  private constructor(options: DaemonProcessOptions) {
    const log = openSync(options.logFile, 'a');
    this.child = spawn(process.execPath, [...(options.nodeFlags ?? []), options.entry ?? 'dist/cli.js', 'run'], {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...options.env },
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    if (this.child.pid === undefined) throw new Error('could not start the daemon (node dist/cli.js run)');
    this.pid = this.child.pid;
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code) => {
        this.exitCode = code;
        resolve();
      });
    });
    this.sampler = setInterval(() => {
      const sample = readProc(this.pid);
      if (sample && sample.rssBytes > this.peakRss) this.peakRss = sample.rssBytes;
    }, options.sampleEveryMs ?? 50);
    this.sampler.unref();
  }

  static start(options: DaemonProcessOptions): DaemonProcess {
    return new DaemonProcess(options);
  }

  /** True while the process runs. */
  get running(): boolean {
    return this.exitCode === undefined;
  }

  sample(): ProcSample | undefined {
    return readProc(this.pid);
  }

  /** The largest RSS sampled since the previous call, in bytes; sampling restarts from now. */
  takePeak(): number {
    const current = readProc(this.pid)?.rssBytes ?? 0;
    const peak = Math.max(this.peakRss, current);
    this.peakRss = 0;
    return peak;
  }

  /** SIGTERM (a graceful stop), then SIGKILL after `timeoutMs`. Resolves with the exit code. */
  async stop(timeoutMs = 15_000): Promise<number | null> {
    clearInterval(this.sampler);
    if (this.running) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
      await this.exited;
      clearTimeout(timer);
    }
    return this.exitCode ?? null;
  }
}

/**
 * The node flags of the Docker image's `ENV NODE_OPTIONS="…"` (runtime stage): the daemon is
 * benchmarked as the image runs it. Empty when the Dockerfile sets none.
 */
export function imageNodeOptions(dockerfile: string): string[] {
  const matches = [...dockerfile.matchAll(/^ENV\s+NODE_OPTIONS="([^"]*)"\s*$/gm)];
  const last = matches.at(-1)?.[1] ?? '';
  return last.split(/\s+/).filter((flag) => flag !== '');
}

/**
 * Several daemons on one Redis, as replicas are deployed, read as one: CPU is summed over them,
 * RSS is the largest of any one of them (the memory target is per process).
 */
export class DaemonReplicas {
  constructor(readonly members: readonly DaemonProcess[]) {
    if (members.length === 0) throw new Error('DaemonReplicas needs at least one daemon');
  }

  /** True while every replica runs. */
  get running(): boolean {
    return this.members.every((member) => member.running);
  }

  /** CPU summed over the replicas; RSS and peak RSS of the largest. Undefined if any is gone. */
  sample(): ProcSample | undefined {
    const samples = this.members.map((member) => member.sample());
    if (samples.some((sample) => sample === undefined)) return undefined;
    const present = samples as ProcSample[];
    return {
      rssBytes: Math.max(...present.map((sample) => sample.rssBytes)),
      peakRssBytes: Math.max(...present.map((sample) => sample.peakRssBytes)),
      cpuSeconds: present.reduce((sum, sample) => sum + sample.cpuSeconds, 0),
    };
  }

  /** The largest RSS any one replica reached since the previous call, in bytes. */
  takePeak(): number {
    return Math.max(...this.members.map((member) => member.takePeak()));
  }

  /** Stops them all at once; resolves with the first nonzero exit code, else 0 (or null if killed). */
  async stop(timeoutMs?: number): Promise<number | null> {
    const codes = await Promise.all(this.members.map((member) => member.stop(timeoutMs)));
    return codes.find((code) => code !== 0) ?? 0;
  }
}
