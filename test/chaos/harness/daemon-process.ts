import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** Root of the repository: the daemon runs from here, as `npm start` does. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** One line the daemon printed: pino JSON on stdout, anything on stderr. */
export interface DaemonLine {
  /** Which replica, and which life of it (restarts count up). */
  replica: string;
  life: number;
  stream: 'stdout' | 'stderr';
  raw: string;
  /** The parsed pino object, when the line was JSON. */
  json?: Record<string, unknown>;
  /** Epoch ms when the test process read the line. */
  at: number;
}

/** How one life of a replica ended. */
export interface DaemonExit {
  replica: string;
  life: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the harness killed it (SIGKILL or SIGTERM it sent); false = the daemon exited on its own. */
  expected: boolean;
  at: number;
}

export interface DaemonProcessOptions {
  /** Replica name, used in logs and the ledger. */
  name: string;
  /** The daemon's whole environment (nothing is inherited but PATH and HOME). */
  env: Record<string, string>;
  /** Every line of every life goes here too (for reading after a failure). */
  logFile?: string;
  /** Called for every line. */
  onLine?: (line: DaemonLine) => void;
  /** Called when a life ends. */
  onExit?: (exit: DaemonExit) => void;
  /**
   * How the daemon is started: `tsx` runs src/cli.ts through tsx (no build needed), `dist` runs
   * the built dist/cli.js exactly as `npm start` does. Default: CHAOS_DAEMON, else `tsx`.
   */
  runner?: 'tsx' | 'dist';
}

/**
 * One replica of the real daemon as a separate process (`gem-watch run`). It can be killed with
 * SIGKILL at any moment and started again with the same environment; every line it prints is kept
 * (for the ledger's crash-window analysis and the secret scan), and every exit is recorded so a
 * scenario can assert that the daemon never exited on its own.
 */
export class DaemonProcess {
  readonly name: string;
  readonly lines: DaemonLine[] = [];
  readonly exits: DaemonExit[] = [];
  private child: ChildProcess | undefined;
  private life = 0;
  private killing = false;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly options: DaemonProcessOptions) {
    this.name = options.name;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The current life (1 for the first start). */
  get lives(): number {
    return this.life;
  }

  /**
   * Starts a new life; resolves once the daemon logged `readyMessage` (default "gem-watch started";
   * null resolves as soon as the process is spawned).
   */
  async start(timeoutMs = 60_000, readyMessage: string | null = 'gem-watch started'): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.life += 1;
    this.killing = false;
    const life = this.life;
    const runner = this.options.runner ?? (process.env.CHAOS_DAEMON === 'dist' ? 'dist' : 'tsx');
    const args = runner === 'dist' ? ['dist/cli.js', 'run'] : ['--import', 'tsx', 'src/cli.ts', 'run'];
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...this.options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const startedIndex = this.lines.length;
    for (const stream of ['stdout', 'stderr'] as const) {
      createInterface({ input: child[stream]!, crlfDelay: Infinity }).on('line', (raw) => this.record(stream, raw, life));
    }
    child.on('exit', (code, signal) => {
      const exit: DaemonExit = { replica: this.name, life, code, signal, expected: this.killing, at: Date.now() };
      this.exits.push(exit);
      if (this.child === child) this.child = undefined;
      this.options.onExit?.(exit);
      this.wake();
    });
    if (readyMessage === null) return;
    await this.waitFor(
      () => {
        if (this.lines.slice(startedIndex).some((line) => line.life === life && line.json?.msg === readyMessage)) return true;
        if (!this.running && this.child !== child) throw new Error(`${this.name} exited while starting:\n${this.tail(20)}`);
        return false;
      },
      timeoutMs,
      `${this.name} to start`,
    );
  }

  /** SIGKILL: no cleanup, no graceful stop; resolves when the process is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    this.killing = true;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await gone;
  }

  /** SIGTERM and wait for the graceful stop; SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 20_000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    this.killing = true;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await gone;
    clearTimeout(timer);
  }

  /** Exits the harness did not cause: a crash or a daemon that gave up. */
  unexpectedExits(): DaemonExit[] {
    return this.exits.filter((exit) => !exit.expected);
  }

  /** Lines whose pino message is `msg`. */
  logs(msg: string): DaemonLine[] {
    return this.lines.filter((line) => line.json?.msg === msg);
  }

  /** The last `count` lines, for error messages. */
  tail(count: number): string {
    return this.lines
      .slice(-count)
      .map((line) => `[${line.replica}#${line.life} ${line.stream}] ${line.raw.slice(0, 400)}`)
      .join('\n');
  }

  /** Resolves when `check` holds (re-evaluated on every line and exit); rejects after `timeoutMs`. */
  waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const test = () => {
        let done: boolean;
        try {
          done = check();
        } catch (error) {
          finish();
          reject(error as Error);
          return;
        }
        if (done) {
          finish();
          resolve();
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last lines:\n${this.tail(15)}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(test);
      };
      this.waiters.add(test);
      test();
    });
  }

  private record(stream: 'stdout' | 'stderr', raw: string, life: number): void {
    const line: DaemonLine = { replica: this.name, life, stream, raw, at: Date.now() };
    if (raw.startsWith('{')) {
      try {
        line.json = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        // Not JSON after all: kept raw, and still scanned for secrets.
      }
    }
    this.lines.push(line);
    if (this.options.logFile) appendFileSync(this.options.logFile, `${this.name}#${life} ${stream} ${raw}\n`);
    this.options.onLine?.(line);
    this.wake();
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
