import { describe, expect, it } from 'vitest';
import type { Notifier, RenderOptions } from '../notifier.js';
import { sampleTransition } from '../sample-data.js';
import { renderFor } from './render.js';

const config = { routes: [{ name: 'tokyo', timezone: 'Asia/Tokyo' }], digest: { timezone: 'Europe/Amsterdam' } };

function recordingNotifier(seen: RenderOptions[]): Notifier<string> {
  return {
    name: 'fake',
    render: (content, options) => {
      seen.push(options);
      return `message about ${'transition' in content ? content.transition.jobId : '?'}`;
    },
    send: () => Promise.reject(new Error('render must not send')),
    endpoints: () => [],
    close: () => Promise.resolve(),
  };
}

describe('render stage', () => {
  it('renders with the route’s time zone, the operators’ zone for the default route', () => {
    const seen: RenderOptions[] = [];
    const notifier = recordingNotifier(seen);
    const content = { transition: sampleTransition('finished', Date.UTC(2026, 0, 20), 'job-1') };
    expect(renderFor(notifier, content, 'tokyo', config)).toBe('message about job-1');
    expect(renderFor(notifier, content, 'default', config)).toBe('message about job-1');
    expect(seen).toEqual([{ timeZone: 'Asia/Tokyo' }, { timeZone: 'Europe/Amsterdam' }]);
  });
});
