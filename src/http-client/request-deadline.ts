import { EventEmitter } from 'node:events';

/**
 * One HTTP request's deadline, and optionally the abort of whatever the request is for: a single
 * timer and at most one listener. It is an EventEmitter, which undici takes as a `signal` (it reads
 * `aborted` and `reason` and listens for `abort`): about 1 µs a request, where an AbortController
 * costs about 9 and AbortSignal.timeout (plus AbortSignal.any) 24 and more. Once fired, `reason`
 * is an Error named `TimeoutError` (the deadline) or `AbortError` (the outer signal), the names
 * fetch used, which the callers' classifiers read.
 */
export class RequestDeadline extends EventEmitter {
  aborted = false;
  reason: Error | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly onOuterAbort = () => this.fire('AbortError', 'the request was aborted');

  /**
   * @param ms Total time allowed, from sending to the last byte of the answer, in milliseconds.
   * @param outer A signal whose abort ends the request too (a BullMQ task's), if any.
   */
  constructor(
    ms: number,
    private readonly outer?: AbortSignal,
  ) {
    super();
    this.timer = setTimeout(() => this.fire('TimeoutError', `no complete answer within ${ms} ms`), ms);
    if (outer?.aborted) this.onOuterAbort();
    else outer?.addEventListener('abort', this.onOuterAbort, { once: true });
  }

  private fire(name: 'TimeoutError' | 'AbortError', message: string): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = Object.assign(new Error(message), { name });
    this.emit('abort');
  }

  /** Stops the timer and the listener; call it once the answer is read or given up. */
  clear(): void {
    clearTimeout(this.timer);
    this.outer?.removeEventListener('abort', this.onOuterAbort);
  }
}
