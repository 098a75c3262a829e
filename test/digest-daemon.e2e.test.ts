import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/main.js';
import { GemSimulator } from '../src/simulator/gem-simulator.js';
import { DigestLedger } from '../src/state/digest-ledger.js';
import { Keys } from '../src/state/keys.js';
import { Metrics } from '../src/telemetry/metrics.js';
import { LogCapture, testConfig } from './helpers/pipeline.js';
import { startRedis, type TestRedis } from './helpers/redis.js';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js';

/**
 * The digest as the daemon runs it: two replicas on one Redis, each with its cron adding the
 * slot's task to the housekeeping queue, whichever worker takes it claiming the period and queuing
 * the e-mail, which the notify stages deliver. A slot every second, empty periods sent: each period
 * is mailed once, and the periods follow each other with no gap and no overlap.
 */

const sim = new GemSimulator({ apiKey: 'digest-key' });
let redis: TestRedis;
let smtp: SmtpSink;
let dir: string;
const apps: App[] = [];

beforeAll(async () => {
  redis = await startRedis();
  smtp = await startSmtpSink();
  await sim.start();
  dir = mkdtempSync(join(tmpdir(), 'gem-watch-digest-daemon-'));
});

afterAll(async () => {
  await Promise.all(apps.map((app) => app.stop(2_000)));
  await smtp?.close();
  await sim.stop();
  await redis?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the digest in the daemon', () => {
  it('mails each period once from two replicas, through the housekeeping queue and the notify stages', async () => {
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'digest:\n  sendEmpty: true\n');
    const config = testConfig(sim, redis.url, {
      GEM_WATCH_CONFIG: file,
      DIGEST_CRON: '* * * * * *',
      SMTP_URL: smtp.url(),
      EMAIL_TO: 'ops@example.com',
      EMAIL_FROM: 'gem-watch@example.com',
      HTTP_PORT: '0',
    });
    for (let replica = 0; replica < 2; replica++) {
      const app = createApp(config, { logger: new LogCapture('warn').logger, metrics: new Metrics() });
      apps.push(app);
      await app.start();
    }
    await smtp.waitFor((sink) => sink.mails.length >= 3, 20_000);
    await Promise.all(apps.splice(0).map((app) => app.stop(2_000)));

    // Each mail's Message-ID is its delivery's task id, which carries the period: none repeats.
    const ids = smtp.mails.map((mail) => mail.parsed.messageId ?? '');
    expect(ids.every((id) => /notify-digest-\d+-\d+-default-email-route/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    // The log of the ledger, oldest first: each period starts where the one before ended.
    const log = (await new DigestLedger(redis.client(), new Keys(config.redis.prefix)).recent(100)).reverse();
    expect(log.length).toBeGreaterThanOrEqual(smtp.mails.length);
    for (let index = 1; index < log.length; index++) expect(log[index]!.start).toBe(log[index - 1]!.end);
    expect(log.every((line) => line.outcome === 'sent' && line.channels.join() === 'email')).toBe(true);
  });
});
