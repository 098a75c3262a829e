import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeTeams, escapeTeamsWithin } from '../src/templates/escape.js';
import { HOSTILE_TEXT } from './fixtures/message-kinds.js';
import { markupIn } from './helpers/teams-markdown.js';

/**
 * The Teams escaping on its own: whatever the text, markdown-it with linkify (the adaptivecards
 * renderer's processor, linking bare URLs as Teams does) makes nothing of it but paragraphs, and
 * ordinary text keeps its look: no backslash where nothing could form.
 */

const markdownChar = fc.constantFrom(
  ...'\\*_`~[]()<>&#|!-+=.:/@ \t\n\r1aZé😀'.split(''),
  'http://',
  'https://',
  'www.',
  '.com',
  '.рф',
  '<at>',
  '</at>',
  '    ',
  '1. ',
  '- ',
  '&lt;',
  '&#60;',
);

describe('escapeTeams', () => {
  it('leaves no markup to form, in one line or many', () => {
    fc.assert(
      fc.property(fc.oneof(fc.array(markdownChar, { maxLength: 40 }).map((parts) => parts.join('')), fc.string({ unit: 'binary', maxLength: 60 })), (text) => {
        expect(markupIn(escapeTeams(text))).toEqual([]);
        expect(markupIn(escapeTeams(text, true))).toEqual([]);
      }),
      { seed: 2020, numRuns: 3_000 },
    );
    expect(markupIn(escapeTeams(HOSTILE_TEXT, true))).toEqual([]);
  });

  it('escapes only what could start markup, so ordinary text reads as it is', () => {
    expect(escapeTeams('gem-watch · failed (was running) · detected 2026-01-20 08:00 UTC, 84.68% matched')).toBe(
      'gem-watch · failed (was running) · detected 2026-01-20 08:00 UTC, 84.68% matched',
    );
    expect(escapeTeams('ROAD_MATCHING job 7: eu_roads.parquet')).toBe('ROAD\\_MATCHING job 7: eu\\_roads\\.parquet');
    expect(escapeTeams('see https://evil.com/x or [x](http://e.com) <at>All</at>')).toBe('see https\\://evil\\.com/x or \\[x\\](http\\://e\\.com) \\<at\\>All\\</at\\>');
    expect(escapeTeams('- one\n2. two', true)).toBe('\\- one\n\n2\\. two');
  });

  it('cuts before escaping, so an escape is never split', () => {
    expect(escapeTeamsWithin('a*b*c*d', 4)).toBe('a\\*b…');
  });
});
