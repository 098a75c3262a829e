import { Writable } from 'node:stream';
import { loadConfigWithSecrets } from '../../src/config-secrets.js';
import type { Config } from '../../src/config/schema.js';
import type { Transition } from '../../src/domain/transition.js';
import { NoTokenProvider } from '../../src/gem/auth/token-provider.js';
import { GemClient } from '../../src/gem/client.js';
import { createLogger, type Logger } from '../../src/telemetry/logger.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import type { Destination } from '../../src/domain/routing.js';
import { WatchPipeline, type PipelineOptions } from '../../src/queue/pipeline.js';
import type { GemSimulator } from '../../src/simulator/gem-simulator.js';
import { uniquePrefix } from './redis.js';

/** Log lines captured as parsed JSON objects, for assertions (and secret scans). */
export class LogCapture {
  readonly lines: Array<Record<string, unknown>> = [];
  readonly raw: string[] = [];
  readonly logger: Logger;

  constructor(level = 'debug') {
    const sink = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        for (const line of chunk.toString('utf8').split('\n')) {
          if (!line) continue;
          this.raw.push(line);
          try {
            this.lines.push(JSON.parse(line) as Record<string, unknown>);
          } catch {
            // Not JSON: kept in raw only.
          }
        }
        done();
      },
    });
    this.logger = createLogger({ level, pretty: 'false', destination: sink });
  }

  messages(): string[] {
    return this.lines.map((line) => String(line.msg));
  }
}

/** A config for tests: the simulator, a test Redis and a unique prefix. */
export function testConfig(sim: GemSimulator, redisUrl: string, env: NodeJS.ProcessEnv = {}): Config {
  return loadConfigWithSecrets({
    env: {
      GEM_API_KEY: sim.apiKey,
      GEM_API_BASE_URL: sim.baseUrl,
      GEM_JOB_TYPES: 'ROAD_MATCHING',
      REDIS_URL: redisUrl,
      GEM_WATCH_PREFIX: uniquePrefix('gw'),
      POLL_CRON: '0 0 1 1 *',
      DIGEST_CRON: '0 0 1 1 *',
      // Every poll reads every active job, as these tests' clocks barely move between polls; the
      // tests of adaptive reads (test/detail-reads.redis.test.ts) set it and move the clock.
      POLL_PROGRESS_EVERY_SECONDS: '0',
      ...env,
    },
  });
}

/** The default route as the pipeline tests need it: every NOTIFY_ON status to Slack and email. */
export function simpleRouting(config: Config): (transition: Transition) => Destination[] {
  return (transition) =>
    config.notify.on.includes(transition.to)
      ? [
          { route: 'default', channel: 'slack', target: 'default' },
          { route: 'default', channel: 'email', target: 'route' },
        ]
      : [];
}

/**
 * A pipeline against the simulator whose notify tasks are left in the queue (no notify worker), so
 * tests count exactly what was enqueued.
 */
export function testPipeline(config: Config, overrides: Partial<PipelineOptions> = {}, logger?: Logger): WatchPipeline {
  const client = new GemClient({
    baseUrl: config.gem.baseUrl,
    apiKey: config.gem.apiKey,
    tokenProvider: new NoTokenProvider(),
    timeoutMs: 5_000,
  });
  return new WatchPipeline({
    config,
    client,
    logger: logger ?? new LogCapture('warn').logger,
    metrics: new Metrics(),
    resolve: simpleRouting(config),
    notify: () => ({
      processor: async () => undefined,
      jobOptions: { removeOnComplete: { age: 86_400 } },
    }),
    runNotifyWorker: false,
    ...overrides,
  });
}

/** Waits until `check` holds, polling every 25 ms (the one poll loop of the tests, ./until.ts). */
export { until as waitFor } from './until.js';
