import { describe, expect, it } from 'vitest';
import { RequestDeadline } from './request-deadline.js';

const aborted = (deadline: RequestDeadline) => new Promise<void>((resolve) => deadline.once('abort', () => resolve()));

describe('RequestDeadline', () => {
  it('fires once as a TimeoutError when its time is up', async () => {
    const deadline = new RequestDeadline(20);
    await aborted(deadline);
    expect(deadline.aborted).toBe(true);
    expect(deadline.reason?.name).toBe('TimeoutError');
    deadline.clear();
  });

  it('fires as an AbortError when the outer signal aborts, before or after it was made', () => {
    const later = new AbortController();
    const deadline = new RequestDeadline(60_000, later.signal);
    expect(deadline.aborted).toBe(false);
    later.abort();
    expect(deadline.reason?.name).toBe('AbortError');
    deadline.clear();

    const already = new RequestDeadline(60_000, AbortSignal.abort());
    expect(already.reason?.name).toBe('AbortError');
    already.clear();
  });

  it('does nothing once cleared, and stops listening to the outer signal', async () => {
    const outer = new AbortController();
    const deadline = new RequestDeadline(10, outer.signal);
    deadline.clear();
    outer.abort();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(deadline.aborted).toBe(false);
  });
});
