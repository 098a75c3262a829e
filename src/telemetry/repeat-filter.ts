/**
 * Lets the first of a run of identical log events through, then one per `windowMs` with the count
 * of those held back. BullMQ queues and workers emit an `error` per reconnect attempt during a Redis
 * outage (dozens in 30 s per replica); operators need the first one and a sign that it goes on.
 */
export class RepeatFilter {
  private readonly seen = new Map<string, { at: number; held: number }>();

  constructor(
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Whether to log the event named `key` now; when true, `held` is how many identical events were
   * held back since the last one logged.
   */
  pass(key: string): { log: boolean; held: number } {
    const now = this.now();
    const last = this.seen.get(key);
    if (last && now - last.at < this.windowMs) {
      last.held += 1;
      return { log: false, held: last.held };
    }
    this.seen.set(key, { at: now, held: 0 });
    if (this.seen.size > 1_000) this.seen.delete(this.seen.keys().next().value!);
    return { log: true, held: last?.held ?? 0 };
  }
}
