import type { Logger } from './telemetry/logger.js';
import { errorText } from './telemetry/redact.js';

/** Exit codes of a stopping process (see EXIT in cli.ts for the commands' own). */
export const SHUTDOWN_EXIT = {
  /** Stopped gracefully. */
  stopped: 0,
  /** Stopping failed or overran its deadline. */
  failed: 1,
  /** A second signal forced the exit (128 + SIGINT, as shells report Ctrl-C). */
  forced: 130,
} as const;

export interface ShutdownOptions {
  logger: Logger;
  /** Stops everything; called once, on the first signal. */
  stop: () => Promise<void>;
  /**
   * After the first signal, exit with code 1 when stopping has not finished within this many
   * milliseconds (a Redis that went away can hold a close forever). Default 20,000.
   */
  deadlineMs?: number;
  /**
   * A second signal forces the exit only this many milliseconds or more after the first. Default
   * 1,000: Ctrl-C in a terminal reaches npm, its shell and node at once, and that single press must
   * still be graceful.
   */
  secondSignalAfterMs?: number;
  /** Runs synchronously just before any exit (kill child processes). */
  beforeExit?: () => void;
  /** Resolves when starting is over; stopping waits for it so nothing starts after the stop. */
  started?: Promise<unknown>;
  /** For tests: exits the process. Default process.exit. */
  exit?: (code: number) => void;
}

/**
 * Installs the process's signal and crash handlers: SIGTERM and SIGINT stop gracefully, a second
 * signal a second or more later forces the exit, a stop that overruns its deadline exits 1,
 * unhandled rejections are logged, and an uncaught exception stops the process like a signal.
 * Returns `shutdown`, for callers that decide to stop for reasons of their own.
 */
export function installShutdownHandlers(options: ShutdownOptions): (reason: string) => void {
  const { logger } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const deadlineMs = options.deadlineMs ?? 20_000;
  const secondAfter = options.secondSignalAfterMs ?? 1_000;
  let stoppingSince: number | undefined;

  const leave = (code: number) => {
    try {
      options.beforeExit?.();
    } finally {
      exit(code);
    }
  };

  const shutdown = (reason: string) => {
    if (stoppingSince !== undefined) {
      if (Date.now() - stoppingSince >= secondAfter) {
        logger.warn({ signal: reason }, 'second signal: exiting now');
        leave(SHUTDOWN_EXIT.forced);
      }
      return;
    }
    stoppingSince = Date.now();
    logger.info({ signal: reason, deadlineMs }, 'stopping gracefully');
    setTimeout(() => {
      logger.error({ deadlineMs }, 'stopping did not finish in time; exiting anyway');
      leave(SHUTDOWN_EXIT.failed);
    }, deadlineMs).unref();
    Promise.resolve(options.started)
      .catch(() => undefined)
      .then(() => options.stop())
      .then(() => {
        logger.info('stopped');
        leave(SHUTDOWN_EXIT.stopped);
      })
      .catch((error: unknown) => {
        logger.error({ error: errorText(error) }, 'error while stopping');
        leave(SHUTDOWN_EXIT.failed);
      });
  };

  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('unhandledRejection', (reason) => {
    logger.error({ error: errorText(reason) }, 'unhandled promise rejection');
  });
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception; stopping');
    shutdown('uncaughtException');
  });
  return shutdown;
}
