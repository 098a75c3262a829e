import type { RedisClient } from '../../state/connection.js';
import type { Keys } from '../../state/keys.js';
import { RateGate } from '../../state/rate-gate.js';
import type { Notifier } from '../notifier.js';

/**
 * The rate-gate stage: an endpoint's slot before each send (state/rate-gate.ts, shared by every
 * replica), and a Retry-After an endpoint answered kept for every task bound for it. A shut gate
 * parks the task, which spends no attempt.
 */
export class EndpointGate {
  private readonly gate: RateGate;

  constructor(redis: RedisClient, keys: Keys) {
    this.gate = new RateGate(redis, keys);
  }

  /** 0 when the message may go now, else the ms until the endpoint's gate opens. */
  async admit(notifier: Pick<Notifier, 'perTargetPerSecond'>, channel: string, target: string): Promise<number> {
    if (notifier.perTargetPerSecond === undefined || !(notifier.perTargetPerSecond > 0)) return 0;
    return this.gate.acquire(channel, target, 1_000 / notifier.perTargetPerSecond);
  }

  /** Shuts the endpoint for `ms` (a Retry-After): every task for it waits, not only the one that was told. */
  async hold(channel: string, target: string, ms: number): Promise<void> {
    await this.gate.hold(channel, target, ms);
  }
}
