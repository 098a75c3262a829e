import { describe, expect, it } from 'vitest';
import { RepeatFilter } from './repeat-filter.js';

describe('RepeatFilter', () => {
  it('lets the first event through, holds repeats within the window, and reports how many it held', () => {
    let now = 0;
    const filter = new RepeatFilter(60_000, () => now);
    expect(filter.pass('redis down')).toEqual({ log: true, held: 0 });
    now = 1_000;
    expect(filter.pass('redis down').log).toBe(false);
    expect(filter.pass('redis down').log).toBe(false);
    expect(filter.pass('other').log).toBe(true);
    now = 61_000;
    expect(filter.pass('redis down')).toEqual({ log: true, held: 2 });
  });
});
