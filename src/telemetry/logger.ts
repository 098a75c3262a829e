import { pino, type Logger } from 'pino';
import { colorWanted } from './color.js';
import { scrub, scrubValue, serializeError } from './redact.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level: string;
  /** `auto` = pretty on a TTY, JSON otherwise. */
  pretty: 'auto' | 'true' | 'false';
  /** Where JSON lines go; standard output by default. */
  destination?: NodeJS.WritableStream;
}

/** Header and field names whose values are secrets wherever they appear in a log object. */
const REDACT_PATHS = [
  'apiKey',
  '*.apiKey',
  'token',
  '*.token',
  'authorization',
  'Authorization',
  '*.authorization',
  '*.Authorization',
  'headers["tomtom-api-key"]',
  '*.headers["tomtom-api-key"]',
  '*.headers.authorization',
  '*.headers.Authorization',
  'webhookUrl',
  '*.webhookUrl',
  'smtpUrl',
  '*.smtpUrl',
  'password',
  '*.password',
  'pass',
  '*.pass',
];

/**
 * The process logger. Besides pino's key-based redaction, every argument is scrubbed of registered
 * secrets, so an error message that quotes a URL or a header cannot leak one.
 */
export function createLogger(options: LoggerOptions): Logger {
  const pretty = options.pretty === 'true' || (options.pretty === 'auto' && process.stdout.isTTY === true);
  const settings = {
    level: options.level,
    base: { service: 'gem-watch' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { err: (error: unknown) => (error instanceof Error ? serializeError(error) : scrubValue(error)) },
    hooks: {
      logMethod(this: Logger, args: unknown[], method: (...a: unknown[]) => void) {
        method.apply(
          this,
          args.map((arg) => (typeof arg === 'string' ? scrub(arg) : arg instanceof Error ? arg : scrubValue(arg))),
        );
      },
    },
  };
  if (pretty && !options.destination) {
    // Pretty output may go to a file or a pipe with LOG_PRETTY=true: colour only on a terminal, and
    // never with NO_COLOR (pino-pretty's own default reads neither).
    const colorize = colorWanted(process.stdout);
    return pino({ ...settings, transport: { target: 'pino-pretty', options: { colorize, translateTime: 'SYS:HH:MM:ss' } } });
  }
  return pino(settings, (options.destination ?? process.stdout) as pino.DestinationStream);
}

/** A logger that writes nothing, for tools and tests that do not care. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
