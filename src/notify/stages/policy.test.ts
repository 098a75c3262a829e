import { describe, expect, it } from 'vitest';
import { DeliveryError } from '../errors.js';
import { sampleAlert, sampleTransition } from '../sample-data.js';
import type { NotifyTaskData } from '../task.js';
import { decide } from './policy.js';

const NOW = Date.UTC(2026, 0, 20, 10, 25);
const destination = { route: 'default', channel: 'slack', target: 'default' };

describe('policy stage', () => {
  it('sends every task as it is when there is no policy', async () => {
    const transition = sampleTransition('finished', NOW);
    expect(await decide(undefined, { ...destination, transition }, 'id', NOW)).toEqual({ action: 'send', content: { transition } });
    const alert = sampleAlert(NOW);
    expect(await decide(undefined, { ...destination, alert }, 'id', NOW)).toEqual({ action: 'send', content: { alert } });
  });

  it('hands the policy the task, its id and the injected time', async () => {
    const asked: Array<[NotifyTaskData, string, number]> = [];
    const policy = {
      prepare: (task: NotifyTaskData, taskId: string, now: number) => {
        asked.push([task, taskId, now]);
        return Promise.resolve({ action: 'held' as const, note: 'held until later' });
      },
    };
    const task = { ...destination, transition: sampleTransition('finished', NOW) };
    expect(await decide(policy, task, 'notify-1', NOW)).toEqual({ action: 'held', note: 'held until later' });
    expect(asked).toEqual([[task, 'notify-1', NOW]]);
  });

  it('makes a policy that cannot decide a retryable failure of the task', async () => {
    const policy = { prepare: () => Promise.reject(new Error('Connection is closed.')) };
    const error = await decide(policy, { ...destination, transition: sampleTransition('finished', NOW) }, 'id', NOW).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error).toMatchObject({ reason: 'serverError', retryable: true, channel: 'slack' });
    expect((error as Error).message).toBe('[serverError] the delivery policy could not decide: Connection is closed.');
  });
});
