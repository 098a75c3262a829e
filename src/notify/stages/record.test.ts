import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../telemetry/logger.js';
import { Metrics } from '../../telemetry/metrics.js';
import { sampleTransition } from '../sample-data.js';
import { aboutOf, outcomeReporter, recordOutcomes, type DeliveryOutcomeEvent } from './record.js';

const NOW = Date.UTC(2026, 0, 20, 10, 25);

function event(outcome: DeliveryOutcomeEvent['outcome'], extra: Partial<DeliveryOutcomeEvent> = {}): DeliveryOutcomeEvent {
  return { taskId: 'notify-1', route: 'default', channel: 'slack', target: 'default', subject: 'job-1 v3 finished', attempt: 1, at: NOW, outcome, ...extra };
}

async function counted(metrics: Metrics, outcome: string): Promise<number> {
  const values = (await metrics.notifications.get()).values;
  return values.find((value) => value.labels.channel === 'slack' && value.labels.outcome === outcome)?.value ?? 0;
}

describe('record stage', () => {
  it('counts each outcome under its metric name, logs it and passes it on', async () => {
    const metrics = new Metrics();
    const logged: DeliveryOutcomeEvent[] = [];
    const heard: DeliveryOutcomeEvent[] = [];
    const record = recordOutcomes({ metrics, log: { record: (e) => Promise.resolve(void logged.push(e)) }, onOutcome: (e) => void heard.push(e) });
    await record(event('delivered', { kind: 'transition', detectedAt: NOW - 4_000 }));
    await record(event('already-delivered'));
    await record(event('deferred'));
    expect(await counted(metrics, 'sent')).toBe(1);
    expect(await counted(metrics, 'skipped')).toBe(1);
    expect(await counted(metrics, 'deferred')).toBe(1);
    expect(await counted(metrics, 'retry')).toBe(0);
    expect((await metrics.detectionToDelivery.get()).values.find((value) => value.metricName?.endsWith('_sum') && value.labels.channel === 'slack')?.value).toBe(4);
    expect(logged.map((e) => e.outcome)).toEqual(['delivered', 'already-delivered', 'deferred']);
    expect(heard).toEqual(logged);
  });

  it('says what a task is about', () => {
    const transition = sampleTransition('failed', NOW, 'job-9');
    expect(aboutOf({ route: 'r', channel: 'slack', target: 't', transition })).toEqual({ kind: 'transition', jobId: 'job-9', version: 3, status: 'failed', detectedAt: NOW });
    expect(aboutOf({ route: 'r', channel: 'slack', target: 't', group: { kind: 'burst', seq: 2 } })).toEqual({ kind: 'group' });
  });

  it('never fails a delivery for a listener that throws', async () => {
    const report = outcomeReporter(() => Promise.reject(new Error('listener down')), silentLogger());
    await expect(report(event('delivered'))).resolves.toBeUndefined();
  });
});
