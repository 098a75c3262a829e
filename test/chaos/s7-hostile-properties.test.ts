import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffJob } from '../../src/domain/diff.js';
import type { Transition } from '../../src/domain/transition.js';
import { JOB_STATUSES, type Job } from '../../src/domain/job.js';
import { JOB_ALERT_KINDS, type JobAlert } from '../../src/domain/overdue.js';
import { qualityShortfalls } from '../../src/domain/quality.js';
import { JobShapeError, MAX_FIELD_LENGTH, normalizeJob, normalizeList } from '../../src/gem/normalize.js';
import { renderEmailAlert, renderEmailTransition } from '../../src/notify/channels/email/email-message.js';
import { renderEmailJobAlert } from '../../src/notify/channels/email/job-alert-message.js';
import type { SlackAppMessage } from '../../src/notify/channels/slack-app/app-message.js';
import { renderSlackApp } from '../../src/notify/channels/slack-app/render.js';
import { renderSlackJobAlert } from '../../src/notify/channels/slack/job-alert-message.js';
import { renderSlackAlert, renderSlackTransition, slackMessageProblems, type SlackMessage } from '../../src/notify/channels/slack/slack-message.js';
import { renderTeamsJobAlert } from '../../src/notify/channels/teams/job-alert-message.js';
import { renderTeamsAlert, renderTeamsTransition, TEAMS_LIMITS, type TeamsMessage } from '../../src/notify/channels/teams/teams-message.js';
import { jobAlertEvent, operatorAlertEvent, transitionEvent, type WebhookEvent } from '../../src/notify/channels/webhook/webhook-event.js';
import { workflowsMessageProblems } from '../../src/simulator/teams-workflows-sink.js';
import { blockKitProblems } from '../helpers/slack-sink.js';
import { markupIn } from '../helpers/teams-markdown.js';
import { slackTexts } from '../helpers/slack-texts.js';
import { HOSTILE_TEXTS, htmlProblems } from './harness/hostile.js';
import { byScale, chaosSeed } from './harness/scale.js';

/**
 * Chaos 7, the property half: whatever JSON the API answers, normalisation either yields a Job or
 * throws JobShapeError (never anything else), and whatever a Job holds, the Slack and email
 * renderers, Slack app mode's messages (the job's card, its updates, its thread replies), the Teams
 * card and the signed webhook event neither throw nor let text act as markup. The input goes the
 * daemon's whole way: raw answer → normalizeJob → diffJob → every channel's renderer, for
 * transitions, quality warnings, progress updates and job alerts. Seeded, so a failure replays.
 */

const SEED = chaosSeed(7_007);
const RUNS = byScale(300, 2_000);
const NOW = Date.UTC(2026, 0, 20, 10, 25);

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/;

const markupChar = fc.constantFrom('<', '>', '&', '!', '@', '#', '|', '*', '_', '~', '`', '\r', '\n', '\t', '\u0000', '\u0007', '\u001b', '\u0085', '\u2028', '\u202e', '"', "'", ':', '/', ' ', 'a', 'é', '😀', '%', ';');

/** A 1 MB value of mentions and entities: cut by normalisation, then escaped into more than it was. */
const ONE_MB = '<@U123ABC> <!here> &amp; '.repeat(40_000);

/** Text an API might send: hostile fixtures (a 1 MB one too), markup soup, arbitrary code units, and mixtures. */
const hostileString = fc.oneof(
  fc.constantFrom(...HOSTILE_TEXTS, ONE_MB),
  fc.array(markupChar, { maxLength: 60 }).map((chars) => chars.join('')),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.tuple(fc.string({ maxLength: 8 }), fc.constantFrom(...HOSTILE_TEXTS), fc.string({ maxLength: 8 })).map((parts) => parts.join('')),
);

/** Any JSON value, hostile strings included. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { depthSize: 'small' },
  hostileString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(hostileString, { maxLength: 3 }),
  fc.dictionary(hostileString, hostileString, { maxKeys: 3 }),
);

const statusWord = fc.oneof(
  fc.constantFrom('REQUESTED', 'IN_PROGRESS', 'SUCCESS', 'FAILED', 'CANCELLED', 'queued', 'running', 'finished', 'failed', 'cancelled', ' Success ', 'in-progress'),
  hostileString,
  anyValue,
);

const isoOrJunk = fc.oneof(
  fc.date({ min: new Date(0), max: new Date(Date.UTC(2100, 0, 1)), noInvalidDate: true }).map((date) => date.toISOString()),
  hostileString,
  anyValue,
);

const statisticValue = fc.oneof(fc.double(), fc.integer(), fc.double({ min: 0, max: 100, noNaN: true }).map((n) => `${n}%`), hostileString, anyValue);

const statistics = fc.oneof(
  fc.record(
    {
      roads_matched: statisticValue,
      roads_unmatched: statisticValue,
      roads_fully_matched: statisticValue,
      roads_partially_matched: statisticValue,
      confidence_threshold: statisticValue,
      execution_time_sec: statisticValue,
      kms_processed: statisticValue,
      num_roads_processed: statisticValue,
    },
    { requiredKeys: [] },
  ),
  anyValue,
);

/** A detail or list entry as a hostile or broken API could send it, in either documented shape. */
const rawJob = fc.record(
  {
    jobRunId: fc.oneof(hostileString, fc.integer(), anyValue),
    job_id: fc.oneof(fc.integer(), hostileString, anyValue),
    status: statusWord,
    job_type: fc.oneof(fc.constantFrom('ROAD_MATCHING', 'LANE_LEVEL_MATCHING'), hostileString, anyValue),
    matchingType: fc.oneof(fc.constantFrom('road', 'lane'), hostileString, anyValue),
    inputFileName: fc.oneof(hostileString, anyValue),
    input_filename: fc.oneof(hostileString, anyValue),
    outputFileName: fc.oneof(hostileString, anyValue),
    result_filename: fc.oneof(hostileString, anyValue),
    storageId: fc.oneof(hostileString, anyValue),
    overtureRelease: fc.oneof(hostileString, anyValue),
    orbis_version: fc.oneof(hostileString, anyValue),
    progress: fc.oneof(fc.double(), fc.integer({ min: -50, max: 500 }), hostileString, anyValue),
    createdAt: isoOrJunk,
    modifiedAt: isoOrJunk,
    requested_at: isoOrJunk,
    statistics,
    message: fc.oneof(hostileString, anyValue),
    error: fc.oneof(hostileString, fc.record({ message: hostileString, code: fc.integer() }), anyValue),
    details: anyValue,
  },
  { requiredKeys: [] },
);

/**
 * Everything that must hold of a Slack message built from API text: within Block Kit's limits
 * (50 blocks, 3,000 per section, the fallback text far below Slack's 40,000), no raw < or > (so no
 * `<!here>`, `<@U…>`, `<!subteam^…>` or `<url|label>`), no bare &, no control character, every
 * mrkdwn text `verbatim` (Slack neither links bare URLs nor resolves #channel and @name in it),
 * and no `link_names`. `ownQuote`: the text may start a line with the `>` of a quote gem-watch
 * writes itself (a failure's detail in Slack app mode's end reply).
 */
function slackViolations(message: SlackMessage, options: { ownQuote?: boolean } = {}): string[] {
  const out = [...slackMessageProblems(message), ...blockKitProblems(message as never)];
  for (const raw of slackTexts(message)) {
    const text = options.ownQuote ? raw.replace(/^>/gm, '') : raw;
    if (/[<>]/.test(text)) out.push(`raw < or > in ${JSON.stringify(text.slice(0, 60))}`);
    if (text.replace(/&(amp|lt|gt);/g, '').includes('&')) out.push(`bare & in ${JSON.stringify(text.slice(0, 60))}`);
    if (CONTROL.test(text)) out.push(`control character in ${JSON.stringify(text.slice(0, 60))}`);
  }
  if (message.text.length > 40_000) out.push(`text of ${message.text.length} characters`);
  for (const block of message.blocks) {
    const texts = block.type === 'section' ? [...(block.text ? [block.text] : []), ...(block.fields ?? [])] : block.type === 'context' ? block.elements : [];
    for (const text of texts) if (text.type === 'mrkdwn' && text.verbatim !== true) out.push(`mrkdwn not verbatim in a ${block.type} block`);
  }
  if ('link_names' in message) out.push('link_names set');
  return out;
}

/**
 * Everything that must hold of a Slack app message: its top-level message (a job's card, posted
 * or sent as chat.update) and its thread reply, each as a Slack message; the reply's text is its
 * notification's fallback, its block the whole reply.
 */
function slackAppViolations(message: SlackAppMessage): string[] {
  const out = slackViolations(message.main).map((problem) => `card: ${problem}`);
  if (message.reply) {
    const reply: SlackMessage = { text: message.reply.text, blocks: message.reply.blocks, unfurl_links: false, unfurl_media: false };
    out.push(...slackViolations(reply, { ownQuote: true }).map((problem) => `reply: ${problem}`));
    if (message.reply.blocks.length !== 1) out.push(`reply of ${message.reply.blocks.length} blocks`);
  }
  return out;
}

/**
 * Everything that must hold of a Teams card built from API text: a Workflows message Teams shows,
 * within its size, and every text the card's markdown reads (TextBlock text, FactSet titles and
 * values, the fallback) rendering as plain paragraphs with markdown-it and linkify (no emphasis,
 * link, list, heading, code or HTML), with no control character.
 */
function teamsViolations(message: TeamsMessage): string[] {
  const json = JSON.stringify(message);
  const out = workflowsMessageProblems(JSON.parse(json), Buffer.byteLength(json));
  if (Buffer.byteLength(json) > TEAMS_LIMITS.bodyBytes) out.push(`body of ${Buffer.byteLength(json)} bytes`);
  const card = message.attachments[0].content;
  const texts = [card.fallbackText, ...card.body.flatMap((element) => (element.type === 'TextBlock' ? [element.text] : element.facts.flatMap((fact) => [fact.title, fact.value])))];
  for (const text of texts) {
    const markup = markupIn(text);
    if (markup.length > 0) out.push(`markdown makes ${markup.join(', ')} of ${JSON.stringify(text.slice(0, 60))}`);
    if (CONTROL.test(text)) out.push(`control character in ${JSON.stringify(text.slice(0, 60))}`);
  }
  return out;
}

/** Everything that must hold of a signed webhook event: plain JSON, no control characters but newline and tab. */
function webhookViolations(event: WebhookEvent): string[] {
  const out: string[] = [];
  const json = JSON.stringify(event);
  if (JSON.stringify(JSON.parse(json)) !== json) out.push('does not survive a JSON round trip');
  const strings = (value: unknown): string[] =>
    typeof value === 'string' ? [value] : value && typeof value === 'object' ? Object.values(value).flatMap(strings) : [];
  for (const text of strings(event)) if (CONTROL.test(text)) out.push(`control character in ${JSON.stringify(text.slice(0, 60))}`);
  if (!/^(job|gemwatch|group)\.[a-z-]+$|^digest$/.test(event.type)) out.push(`type ${event.type}`);
  if (Buffer.byteLength(json) > 200_000) out.push(`event of ${Buffer.byteLength(json)} bytes`);
  return out;
}

/** Everything that must hold of an email built from API text. */
function emailViolations(mail: { subject: string; text: string; html: string }): string[] {
  const out = htmlProblems(mail.html);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(mail.subject)) out.push('control character or line break in the subject');
  if ([...mail.subject].length > 200) out.push(`subject of ${[...mail.subject].length} characters`);
  if (CONTROL.test(mail.text)) out.push('control character in the text part');
  if (mail.html.length + mail.text.length > 200_000) out.push(`mail of ${mail.html.length + mail.text.length} characters`);
  return out;
}

function checkJob(job: Job): string[] {
  const out: string[] = [];
  if (typeof job.id !== 'string' || job.id === '' || job.id.length > MAX_FIELD_LENGTH) out.push('bad id');
  if (!(JOB_STATUSES as readonly string[]).includes(job.status)) out.push(`status ${String(job.status)}`);
  for (const [key, value] of Object.entries(job)) {
    if (typeof value === 'string' && value.length > MAX_FIELD_LENGTH) out.push(`${key} of ${value.length} characters`);
    if (typeof value === 'number' && !Number.isFinite(value)) out.push(`${key} not finite`);
  }
  if (job.progress !== undefined && (job.progress < 0 || job.progress > 100)) out.push(`progress ${job.progress}`);
  for (const [key, value] of Object.entries(job.statistics ?? {})) if (!Number.isFinite(value)) out.push(`statistics.${key} not finite`);
  return out;
}

describe('chaos 7: hostile data, property-based', () => {
  it('normalisation of any answer yields a sane Job or a JobShapeError, nothing else', () => {
    fc.assert(
      fc.property(fc.oneof(rawJob, anyValue), fc.constantFrom('ROAD_MATCHING', 'LANE_LEVEL_MATCHING', undefined), (input, hint) => {
        let result;
        try {
          result = normalizeJob(input, hint);
        } catch (error) {
          expect(error).toBeInstanceOf(JobShapeError);
          return;
        }
        expect(checkJob(result.job)).toEqual([]);
        expect(result.warnings.every((warning) => typeof warning === 'string')).toBe(true);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('a list answer keeps every readable entry and rejects the rest, one by one', () => {
    fc.assert(
      fc.property(fc.oneof(fc.record({ jobs: fc.array(fc.oneof(rawJob, anyValue), { maxLength: 8 }) }), anyValue), (input) => {
        let result;
        try {
          result = normalizeList(input, 'ROAD_MATCHING');
        } catch (error) {
          expect(error).toBeInstanceOf(JobShapeError);
          return;
        }
        const entries = (input as { jobs: unknown[] }).jobs;
        expect(result.jobs.length + result.rejected.length).toBe(entries.length);
        for (const job of result.jobs) expect(checkJob(job)).toEqual([]);
      }),
      { seed: SEED + 1, numRuns: RUNS },
    );
  });

  it('whatever the answer held, every channel\'s renderer succeeds and every message is inert', () => {
    fc.assert(
      fc.property(
        rawJob,
        fc.constantFrom<Job['status'] | undefined>(undefined, 'queued', 'running'),
        fc.constantFrom('UTC', 'Europe/Amsterdam', 'Pacific/Chatham'),
        (input, from, timeZone) => {
          let job: Job;
          try {
            job = normalizeJob(input, 'ROAD_MATCHING').job;
          } catch {
            return;
          }
          const previous = from && from !== job.status ? { job: { ...job, status: from, rawStatus: from }, status: from, version: 2, firstSeenAt: NOW - 60_000, lastChangeAt: NOW - 60_000, lastFetchedAt: NOW - 60_000, progress: [] } : undefined;
          const result = diffJob(previous, job, { now: NOW, maxSamples: 6 });
          if (result.kind !== 'transition') return;
          const transition: Transition = result.transition;
          expect(slackViolations(renderSlackTransition(transition, { timeZone })).join('\n')).toBe('');
          expect(emailViolations(renderEmailTransition(transition, { timeZone })).join('\n')).toBe('');
          expect(teamsViolations(renderTeamsTransition(transition, { timeZone })).join('\n')).toBe('');
          expect(webhookViolations(transitionEvent(transition)).join('\n')).toBe('');
          // Slack app mode: the card posted or updated, and for an end its thread reply.
          expect(slackAppViolations(renderSlackApp({ transition }, { timeZone })).join('\n')).toBe('');
          // A finished job below a threshold nobody can meet: the warning card and reply.
          const shortfalls = qualityShortfalls(transition.job.statistics, { roadsMatchedPct: 101, roadsFullyMatchedPct: 101 });
          if (transition.to === 'finished' && shortfalls.length > 0) {
            expect(slackAppViolations(renderSlackApp({ warning: { transition, shortfalls } }, { timeZone })).join('\n')).toBe('');
            expect(webhookViolations(transitionEvent(transition, shortfalls)).join('\n')).toBe('');
          }
        },
      ),
      { seed: SEED + 2, numRuns: RUNS },
    );
  });

  it('whatever a running job holds, Slack app mode\'s progress update of its card is inert', () => {
    fc.assert(
      fc.property(rawJob, fc.integer({ min: -86_400_000, max: 7 * 86_400_000 }), fc.constantFrom('UTC', 'Europe/Amsterdam', 'Pacific/Chatham'), (input, etaIn, timeZone) => {
        let job: Job;
        try {
          job = normalizeJob(input, 'ROAD_MATCHING').job;
        } catch {
          return;
        }
        const transition: Transition = { jobId: job.id, jobType: job.jobType, to: 'running', version: 2, detectedAt: NOW, job: { ...job, status: 'running' } };
        const update = renderSlackApp({ transition, live: { etaAt: NOW + etaIn } }, { timeZone });
        expect(update.reply, 'a progress update replies to nobody').toBeUndefined();
        expect(slackAppViolations(update).join('\n')).toBe('');
      }),
      { seed: SEED + 4, numRuns: RUNS },
    );
  });

  it('a stuck, overdue or stalled job alert is inert on every channel, Slack app mode\'s card and thread reply included', () => {
    fc.assert(
      fc.property(
        rawJob,
        fc.constantFrom(...JOB_ALERT_KINDS),
        fc.integer({ min: 0, max: 30 * 86_400_000 }),
        fc.option(fc.double({ min: 0, max: 100, noNaN: true }), { nil: undefined }),
        fc.constantFrom('UTC', 'Europe/Amsterdam', 'Pacific/Chatham'),
        (input, kind, ago, progress, timeZone) => {
          let job: Job;
          try {
            job = normalizeJob(input, 'ROAD_MATCHING').job;
          } catch {
            return;
          }
          const status = kind === 'queued-too-long' ? 'queued' : 'running';
          const alert: JobAlert = {
            kind,
            jobId: job.id,
            jobType: job.jobType,
            version: 2,
            job: { ...job, status },
            since: NOW - ago,
            allowedMs: 3_600_000,
            ...(kind === 'overdue' ? { expectedEndAt: NOW - ago / 2, basis: 'progress' as const } : {}),
            ...(progress === undefined ? {} : { progress }),
            detectedAt: NOW,
          };
          expect(slackViolations(renderSlackJobAlert(alert, { timeZone })).join('\n')).toBe('');
          expect(emailViolations(renderEmailJobAlert(alert, { timeZone })).join('\n')).toBe('');
          expect(teamsViolations(renderTeamsJobAlert(alert, { timeZone })).join('\n')).toBe('');
          expect(webhookViolations(jobAlertEvent(alert)).join('\n')).toBe('');
          expect(slackAppViolations(renderSlackApp({ jobAlert: alert }, { timeZone })).join('\n')).toBe('');
        },
      ),
      { seed: SEED + 5, numRuns: RUNS },
    );
  });

  it('operator alerts whose detail quotes hostile API text render inert too', () => {
    // Kind and title are gem-watch's own words; the detail may quote what GEM or a token command said.
    fc.assert(
      fc.property(fc.constantFrom('auth', 'polling'), fc.constantFrom('GEM refuses the credentials', 'Polling has been failing'), hostileString, fc.constantFrom<'down' | 'up'>('down', 'up'), (kind, title, detail, state) => {
        // As credentialAlert builds it: the quoted reason, then gem-watch's own advice.
        const alert = { kind, title, detail: `${detail}. Check GEM_API_KEY and the bearer token settings.`, state, since: NOW };
        expect(slackViolations(renderSlackAlert(alert)).join('\n')).toBe('');
        expect(emailViolations(renderEmailAlert(alert)).join('\n')).toBe('');
        expect(teamsViolations(renderTeamsAlert(alert)).join('\n')).toBe('');
        expect(webhookViolations(operatorAlertEvent(alert)).join('\n')).toBe('');
        expect(slackAppViolations(renderSlackApp({ alert }, { timeZone: 'UTC' })).join('\n')).toBe('');
      }),
      { seed: SEED + 3, numRuns: RUNS },
    );
  });
});
