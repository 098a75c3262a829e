/** A read that took longer than the probe or page allows. */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/**
 * The promise's outcome, or a TimeoutError naming `what` after `ms` milliseconds: a probe or a page
 * must answer while Redis is slow or away, rather than hang until the orchestrator gives up.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
