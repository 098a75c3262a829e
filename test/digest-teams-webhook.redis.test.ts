import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestEnabled, digestSettings } from '../src/digest/digest-config.js';
import { runDigest } from '../src/digest/run-digest.js';
import type { Transition } from '../src/domain/transition.js';
import { DigestLedger } from '../src/state/digest-ledger.js';
import { startTeamsSink, type TeamsSink } from '../src/simulator/teams-workflows-sink.js';
import { startWebhookReceiver, type WebhookReceiver } from '../src/simulator/webhook-receiver.js';
import { Keys } from '../src/state/keys.js';
import { addTransition, digestDelivery, streamSource } from './digest-support.js';
import { notifyConfig } from './helpers/notify-config.js';
import { startRedis, uniquePrefix, type TestRedis } from './helpers/redis.js';

/**
 * The digest on Teams (the summary card) and the signed webhook (a `digest` event), named by
 * `digest.teamsWebhook` and `digest.webhook`, claimed and queued as the schedule does
 * (`gem-watch digest --now`) and delivered by the notify stages over a real Redis and BullMQ.
 */

const HOUR = 3_600_000;
const DAY1 = Date.parse('2026-01-20T08:00:00Z');

function finished(id: string, file: string, detectedAt: number): Transition {
  return {
    jobId: id,
    jobType: 'ROAD_MATCHING',
    from: 'running',
    to: 'finished',
    version: 3,
    detectedAt,
    job: { id, jobType: 'ROAD_MATCHING', status: 'finished', rawStatus: 'finished', inputFile: file, statistics: { roadsMatchedPct: 84.68, kmsProcessed: 10, numRoadsProcessed: 5 } },
  };
}

describe('the digest on Teams and the signed webhook', () => {
  let redisServer: TestRedis;
  let redis: Redis;
  let teams: TeamsSink;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    redisServer = await startRedis();
    redis = redisServer.client();
    teams = await startTeamsSink();
    receiver = await startWebhookReceiver();
  });
  afterAll(async () => {
    redis.disconnect();
    await teams.close();
    await receiver.close();
    await redisServer.close();
  });

  it('sends the summary card and a digest event, once per period, with no email configured', async () => {
    const prefix = uniquePrefix('digest-channels');
    const config = notifyConfig({
      env: { TEAMS_WEBHOOK_URL: teams.webhookUrl(), WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: receiver.secret, REDIS_URL: redisServer.url, GEM_WATCH_PREFIX: prefix },
      yaml: { digest: { teamsWebhook: 'default', webhook: 'default' } },
    });
    expect(digestEnabled(config)).toBe(true);
    const settings = digestSettings(config);
    expect(settings.destinations).toEqual([
      { route: 'default', channel: 'teams', target: 'default' },
      { route: 'default', channel: 'webhook', target: 'default' },
    ]);
    const keys = new Keys(prefix);
    await redis.set(keys.digestLastEnd(), String(DAY1 - 24 * HOUR));
    await addTransition(redis, keys, finished('a', 'netherlands <at>All</at>.parquet', DAY1 - 2 * HOUR));
    const delivery = digestDelivery(redisServer.url, config, () => DAY1);
    try {
      const context = {
        settings,
        ledger: new DigestLedger(redis, keys),
        source: streamSource(redis, keys),
        queue: { enqueue: delivery.enqueue, settle: (tasks: Parameters<typeof delivery.settle>[0]) => delivery.settle(tasks) },
        clock: () => DAY1,
      };
      const result = await runDigest({ now: true }, context);
      expect(result).toMatchObject({ action: 'sent', channels: ['teams', 'webhook'], period: { start: DAY1 - 24 * HOUR, end: DAY1 } });

      const card = JSON.stringify(teams.shown()[0]?.card);
      expect(card).toContain('gem-watch digest');
      expect(card).toContain('netherlands \\\\<at\\\\>All\\\\</at\\\\>\\\\.parquet');
      const [event] = receiver.deliveries();
      // The delivery's task id: the same on every attempt, and it names the period.
      expect(event?.id).toBe(`notify-digest-${DAY1 - 24 * HOUR}-${DAY1}-default-webhook-default`);
      expect(event?.event).toMatchObject({ type: 'digest', data: { digest: { counts: { finished: 1 }, finished: [{ jobId: 'a', inputFile: 'netherlands <at>All</at>.parquet', matchedPct: 84.68 }] } } });

      // The period is done: asking again sends nothing more.
      expect(await runDigest({ now: true }, context)).toMatchObject({ action: 'nothing' });
      expect(teams.shown()).toHaveLength(1);
      expect(receiver.deliveries()).toHaveLength(1);
    } finally {
      await delivery.close();
    }
  });
});
