import fc from 'fast-check';
import type { KnownBlock } from '@slack/types';
import type { IncomingWebhookSendArguments } from '@slack/webhook';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Transition } from '../../../domain/transition.js';
import { sampleTransition } from '../../sample-data.js';
import { slackTexts } from '../../../../test/helpers/slack-texts.js';
import { renderSlackAlert, renderSlackTransition, slackMessageProblems, SLACK_LIMITS, type SlackMessage } from './slack-message.js';

const NOW = Date.UTC(2026, 0, 20, 10, 25);
const HOSTILE = '<!channel> <https://evil.example|click> <script>x</script>';

/** Inert for Slack: no < or > at all (so no <!channel>, <@U…>, <url|label>), every & an entity. */
function assertInert(message: SlackMessage): void {
  for (const text of slackTexts(message)) {
    expect(text).not.toMatch(/[<>]/);
    expect(text.replace(/&(amp|lt|gt);/g, '')).not.toContain('&');
  }
  expect(JSON.stringify(message)).not.toContain('link_names');
  for (const block of message.blocks) {
    if (block.type === 'section' && block.text) expect(block.text).toMatchObject({ type: 'mrkdwn', verbatim: true });
  }
}

function withJob(patch: Partial<Transition['job']>, status: 'finished' | 'failed' = 'finished'): Transition {
  const transition = sampleTransition(status, NOW);
  return { ...transition, job: { ...transition.job, ...patch } };
}

describe('renderSlackTransition', () => {
  it('shows a finished job with its status emoji, facts and every statistic', () => {
    const message = renderSlackTransition(sampleTransition('finished', NOW));
    expect(slackMessageProblems(message)).toEqual([]);
    const header = message.blocks[0];
    expect(header).toMatchObject({ type: 'header', text: { type: 'plain_text' } });
    expect(header?.type === 'header' && header.text.text).toBe(':white_check_mark: ROAD_MATCHING job sample-1 finished: 84.68% matched');
    const all = slackTexts(message).join('\n');
    for (const expected of [
      'sample_roads.parquet',
      'sample_roads_matched.parquet',
      '2025-01-22.0',
      '84.68%',
      '80.12%',
      '4.56%',
      '15.32%',
      '0.7',
      '12,345.6 km',
      '271,828',
      '2 h 42 min',
    ]) {
      expect(all).toContain(expected);
    }
    expect(message.text).toContain('ROAD_MATCHING job sample-1 finished');
    expect(message.unfurl_links).toBe(false);
  });

  it('shows a failed job with the failure detail the API gave', () => {
    const message = renderSlackTransition(sampleTransition('failed', NOW));
    expect(message.blocks[0]).toMatchObject({ text: { text: ':x: ROAD_MATCHING job sample-1 failed' } });
    expect(slackTexts(message).join('\n')).toContain('*Failure detail*\nInput check failed: column "geometry" is missing');
    expect(slackMessageProblems(message)).toEqual([]);
  });

  it('makes a hostile file name inert: no mention, no link, no HTML', () => {
    const message = renderSlackTransition(withJob({ inputFile: HOSTILE, outputFile: HOSTILE, message: HOSTILE }, 'failed'));
    assertInert(message);
    expect(slackTexts(message).join('\n')).toContain('&lt;!channel&gt; &lt;https://evil.example|click&gt; &lt;script&gt;x&lt;/script&gt;');
  });

  it('keeps a 5,000-character file name within Block Kit limits, cut with an ellipsis', () => {
    const long = `${'a&<'.repeat(1_666)}xy`;
    const message = renderSlackTransition(withJob({ inputFile: long, outputFile: long, message: long, id: long, jobType: long }, 'failed'));
    expect(slackMessageProblems(message)).toEqual([]);
    expect(message.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    const input = message.blocks.flatMap((block) => (block.type === 'section' ? (block.fields ?? []) : [])).find((field) => field.text.startsWith('*Input file*'));
    expect(input?.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fieldText);
    expect(input?.text.endsWith('…')).toBe(true);
    // Cut between characters, never inside an entity.
    expect(input?.text).toMatch(/(&amp;|&lt;|a)…$/);
    assertInert(message);
  });

  it('is valid and inert for any text in any field', () => {
    fc.assert(
      fc.property(
        fc.record({
          id: fc.string({ maxLength: 300 }),
          jobType: fc.string({ maxLength: 300 }),
          inputFile: fc.string({ unit: 'binary', maxLength: 6_000 }),
          outputFile: fc.option(fc.string({ unit: 'grapheme', maxLength: 3_000 }), { nil: undefined }),
          message: fc.option(fc.string({ unit: 'binary', maxLength: 8_000 }), { nil: undefined }),
          overtureRelease: fc.option(fc.string({ maxLength: 3_000 }), { nil: undefined }),
        }),
        (patch) => {
          const message = renderSlackTransition(withJob(patch, 'failed'));
          expect(slackMessageProblems(message)).toEqual([]);
          assertInert(message);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('shows an em dash for missing statistics and no statistics section when there are none', () => {
    const transition = withJob({ statistics: undefined, outputFile: undefined, overtureRelease: undefined });
    const message = renderSlackTransition(transition);
    expect(slackTexts(message).join('\n')).not.toContain('*Statistics*');
    expect(slackTexts(message).join('\n')).toContain('*Release*\n—');
    expect(slackMessageProblems(message)).toEqual([]);
  });
});

describe('renderSlackAlert', () => {
  it('renders an operator alert and its recovery, escaped and within limits', () => {
    const down = renderSlackAlert({ kind: 'polling', state: 'down', title: 'polling failing', detail: `API answers 503 ${HOSTILE}`, since: NOW });
    const up = renderSlackAlert({ kind: 'polling', state: 'up', title: 'polling failing', detail: 'healthy again', since: NOW });
    expect(down.blocks[0]).toMatchObject({ text: { text: ':rotating_light: gem-watch alert: polling failing' } });
    expect(up.blocks[0]).toMatchObject({ text: { text: ':large_green_circle: gem-watch recovered: polling failing' } });
    assertInert(down);
    expect(slackMessageProblems(down)).toEqual([]);
    expect(slackMessageProblems(renderSlackAlert({ kind: 'x', state: 'down', title: 'y'.repeat(5_000), detail: 'z'.repeat(9_000), since: NOW }))).toEqual([]);
  });
});

describe('Slack payload types', () => {
  it("are @slack/types' Block Kit types, compiled as what @slack/webhook sends (checked by tsc in the lint step)", () => {
    expectTypeOf<SlackMessage['blocks'][number]>().toEqualTypeOf<KnownBlock>();
    expectTypeOf<SlackMessage>().toExtend<IncomingWebhookSendArguments>();
    // A block Slack would refuse does not compile: a header's text must be plain_text.
    // @ts-expect-error mrkdwn is not allowed in a header block
    const refused: KnownBlock = { type: 'header', text: { type: 'mrkdwn', text: 'x' } };
    expect(refused.type).toBe('header');
  });
});
