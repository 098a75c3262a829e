import { beforeAll, describe, expect, it } from 'vitest';
import type { SlackSink } from '../src/simulator/slack-sink.js';
import { alertsWorld, notifyQueueDrained, slackText, useAlertsParts } from './alerts-support.js';
import { PollHealthWatcher } from '../src/alerts/poll-health-watcher.js';
import type { OperatorAlert } from '../src/domain/operator-alert.js';
import { HealthFlag } from '../src/state/health-flag.js';
import { Keys } from '../src/state/keys.js';
import { LogCapture, waitFor } from './helpers/pipeline.js';
import { uniquePrefix, type TestRedis } from './helpers/redis.js';
import type { SmtpSink } from './helpers/smtp-sink.js';

/**
 * The watcher's own health: polling that fails (the simulator answers 500, then 401) for longer
 * than alerts.pollFailureMinutes raises one operator alert on the default route, across two
 * replicas, and one more when polling works again. Poll tasks run with the test's clock.
 */

const MIN = 60_000;
const parts = useAlertsParts('alerts-polling-key');
const { sim, open } = parts;
let redis: TestRedis;
let slack: SlackSink;
let smtp: SmtpSink;
beforeAll(() => ({ redis, slack, smtp } = parts));

describe('polling health alert', () => {
  it('sends one alert when polling has failed for longer than the limit, and one when it heals', async () => {
    const start = Date.parse('2026-01-20T10:00:00Z');
    const a = alertsWorld({ sim, redisUrl: redis.url, slack, smtp, start });
    const b = alertsWorld({ sim, redisUrl: redis.url, slack, smtp, start, config: a.config, notifyWorker: false });
    open.push(a, b);
    a.pipeline.start();
    const replicas = [a, b];
    let minute = 0;
    const poll = async (expectFailure: boolean) => {
      minute += 1;
      for (const replica of replicas) replica.clock.now = start + minute * MIN;
      const replica = replicas[minute % 2]!;
      const run = replica.pipeline.pollProcessor.process({ jobType: 'ROAD_MATCHING', slot: start + minute * MIN });
      if (expectFailure) await expect(run).rejects.toThrow();
      else await run;
    };

    sim.upsertJob({ id: 'p1', status: 'running' });
    await poll(false);
    sim.setFaults({ rate: 1, kinds: ['serverError'], endpoints: ['list'] });
    // Failing from minute 2; the limit is 15 minutes.
    for (let i = 0; i < 15; i += 1) await poll(true);
    await notifyQueueDrained(a);
    expect(a.slackMessages()).toHaveLength(0);
    // Minute 17: 15 minutes of failures; then the credentials are refused too, for a while.
    await poll(true);
    sim.setFaults(undefined);
    sim.setBearerToken('now-required');
    for (let i = 0; i < 10; i += 1) await poll(true);
    await waitFor(() => a.slackMessages().length >= 1 && a.mails().length >= 1, 'the polling alert');
    await notifyQueueDrained(a);
    expect(a.slackMessages()).toHaveLength(1);
    expect(a.mails()).toHaveLength(1);
    const down = slackText(a.slackMessages()[0]!);
    expect(down).toContain('gem-watch alert: gem-watch cannot poll GEM');
    expect(down).toContain('Polling has been failing since 2026-01-20 10:02 UTC (15 min 0 s)');
    expect(a.mails()[0]!.subject).toBe('[gem-watch] ALERT: gem-watch cannot poll GEM');

    sim.setBearerToken(undefined);
    await poll(false);
    await poll(false);
    await waitFor(() => a.slackMessages().length >= 2 && a.mails().length >= 2, 'the recovery');
    await notifyQueueDrained(a);
    expect(a.slackMessages()).toHaveLength(2);
    expect(slackText(a.slackMessages()[1]!)).toContain('gem-watch recovered: gem-watch polls GEM again');
    expect(a.mails()[1]!.subject).toBe('[gem-watch] RESOLVED: gem-watch polls GEM again');
    expect(await a.pipeline.redis.hget(a.pipeline.keys.healthFlag('polling'), 'ok')).toBe('1');
  });
});

describe('polling health after a change of job types', () => {
  it('drops the failing spell of a job type no longer polled, so recovery is still announced', async () => {
    const keys = new Keys(uniquePrefix('poll-health'));
    const client = redis.client();
    const alerts: OperatorAlert[] = [];
    const watcher = (jobTypes: string[]) =>
      new PollHealthWatcher({
        redis: client,
        keys,
        flag: new HealthFlag(client, keys, 'polling'),
        dispatchAlert: async (alert) => {
          alerts.push(alert);
          return 1;
        },
        failureMs: 15 * MIN,
        logger: new LogCapture('fatal').logger,
        jobTypes,
      });
    try {
      const start = Date.parse('2026-01-20T10:00:00Z');
      // Lanes fail for 20 minutes: polling is down.
      const before = watcher(['ROAD_MATCHING', 'LANE_LEVEL_MATCHING']);
      await before.recordFailure('LANE_LEVEL_MATCHING', new Error('GEM answered 500'), start);
      await before.recordFailure('LANE_LEVEL_MATCHING', new Error('GEM answered 500'), start + 20 * MIN);
      expect(alerts.map((alert) => alert.state)).toEqual(['down']);
      // The operator stops watching lanes; roads poll fine: polling is up again.
      const after = watcher(['ROAD_MATCHING']);
      await after.recordSuccess('ROAD_MATCHING', start + 21 * MIN);
      expect(alerts.map((alert) => alert.state)).toEqual(['down', 'up']);
      expect(await client.hget(keys.pollHealth(), 'failingSince:LANE_LEVEL_MATCHING')).toBeNull();
    } finally {
      client.disconnect();
    }
  });
});
