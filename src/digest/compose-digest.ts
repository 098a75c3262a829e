import { buildDigest, type DigestModel, type DigestPeriod } from '../domain/digest.js';
import { renderEmail } from '../notify/channels/email/render.js';
import { renderSlack } from '../notify/channels/slack/render.js';
import type { SlackMessage } from '../notify/channels/slack/slack-message.js';
import type { DigestSource } from './digest-source.js';

export interface ComposeDigestOptions {
  source: DigestSource;
  /** [start, end), epoch ms. */
  period: DigestPeriod;
  /** IANA time zone of the dates shown. */
  timeZone: string;
  /** Epoch ms; dates the ETA of running jobs. */
  now: number;
  /** A running job without progress this long is shown as stalled, in ms. Default 1 hour. */
  stalledAfterMs?: number;
}

/** A digest ready to send: the model, the e-mail parts and the Slack summary. */
export interface ComposedDigest {
  model: DigestModel;
  email: { subject: string; text: string; html: string };
  slack: SlackMessage;
}

/**
 * Reads what the digest of `period` needs (its transitions, those of the period of the same length
 * before it, and the tracked jobs now) and builds the model every channel renders.
 */
export async function readDigest(options: ComposeDigestOptions): Promise<DigestModel> {
  const { source, period } = options;
  if (!(period.end > period.start)) throw new RangeError(`empty digest period: ${period.start} – ${period.end}`);
  const previousPeriod = { start: period.start - (period.end - period.start), end: period.start };
  // The source's bounds are inclusive; the periods are half-open.
  const [transitions, previousTransitions, tracked] = await Promise.all([
    source.readTransitions(period.start, period.end - 1),
    source.readTransitions(previousPeriod.start, previousPeriod.end - 1),
    source.listTracked(),
  ]);
  return buildDigest(
    { period, previousPeriod, transitions, previousTransitions, tracked, timeZone: options.timeZone, stalledAfterMs: options.stalledAfterMs },
    options.now,
  );
}

/** The digest of `period` read and rendered for e-mail and Slack, for `gem-watch digest` to show. */
export async function composeDigest(options: ComposeDigestOptions): Promise<ComposedDigest> {
  const model = await readDigest(options);
  return {
    model,
    email: renderEmail({ digest: model }, { timeZone: model.timeZone }),
    slack: renderSlack({ digest: model }, { timeZone: model.timeZone }),
  };
}
