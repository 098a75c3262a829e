import { writeFile } from 'node:fs/promises';
import type { RedisClient } from '../state/connection.js';
import type { DigestPeriod } from '../domain/digest.js';
import type { Logger } from '../telemetry/logger.js';
import { errorText } from '../telemetry/redact.js';
import type { Keys } from '../state/keys.js';
import { formatInstant } from '../templates/format.js';
import { composeDigest } from './compose-digest.js';
import { CronSlots } from './cron-slots.js';
import { DigestCommandError } from './digest-command-error.js';
import type { DigestSettings } from './digest-config.js';
import { DigestLedger } from '../state/digest-ledger.js';
import { DigestScheduler } from './digest-scheduler.js';
import type { DigestSender } from './digest-sender.js';
import type { DigestSource } from './digest-source.js';

/**
 * `gem-watch digest`, the operator's handle on the digest:
 * - no flag: prints the plain-text digest of the period so far (what the next one would say);
 * - `--dry-run`: writes the HTML digest to stdout, or to `--out FILE`; sends nothing, changes nothing;
 * - `--now`: sends the next digest now, through the same protocol as the schedule: it covers the
 *   time since the last digest, and the scheduled one that follows starts where it ends;
 * - `--since ISO`: sets the start. With `--now` that makes an extra, ad-hoc digest of [since, now)
 *   which leaves the schedule alone (it may overlap digests already sent: the operator asked).
 */

export interface RunDigestOptions {
  /** `--now`: send one immediately. */
  now?: boolean;
  /** `--since ISO`: the start of the period, an ISO 8601 time in the past. */
  since?: string;
  /** `--dry-run`: render the HTML, send nothing. */
  dryRun?: boolean;
  /** `--out FILE`: with --dry-run, write the HTML to this file instead of stdout. */
  out?: string;
  /** `--json`: write nothing to stdout; the caller prints the result, whose `email` holds the parts. */
  json?: boolean;
}

export interface RunDigestContext {
  /** Built from the configuration by `digestSettings`. */
  settings: DigestSettings;
  redis: RedisClient;
  keys: Keys;
  source: DigestSource;
  /** The channels; needed only with `--now`. */
  sender?: DigestSender;
  /** Where HTML and text go. Default process.stdout. */
  stdout?: NodeJS.WritableStream;
  /** Epoch ms now. Default Date.now. */
  clock?: () => number;
  logger?: Logger;
}

export interface RunDigestResult {
  action: 'preview' | 'dry-run' | 'sent' | 'nothing';
  period?: DigestPeriod;
  /** Channels sent to (`sent`). */
  channels?: string[];
  /** True when the digest went through the schedule (last end moved). */
  scheduled?: boolean;
  /** A line for the operator. */
  message: string;
  /** The rendered digest (`preview` and `dry-run`). */
  email?: { subject: string; text: string; html: string };
  /** `--out FILE` the HTML was written to. */
  out?: string;
}

/** Runs `gem-watch digest` with the given flags. Throws DigestCommandError for bad flags or a failed send. */
export async function runDigest(options: RunDigestOptions, context: RunDigestContext): Promise<RunDigestResult> {
  const clock = context.clock ?? Date.now;
  const now = clock();
  const stdout = context.stdout ?? process.stdout;
  const { settings } = context;

  if (options.now && options.dryRun) throw new DigestCommandError('--now and --dry-run exclude each other', true);
  if (options.out !== undefined && !options.dryRun) throw new DigestCommandError('--out is for --dry-run: it names the file the HTML goes to', true);
  if (options.out === '') throw new DigestCommandError('--out needs a file name', true);
  const since = options.since === undefined ? undefined : parseSince(options.since, now);

  const slots = new CronSlots(settings.cron, settings.timeZone);
  try {
    if (options.now && since === undefined) {
      return await sendScheduled(context, settings, now);
    }
    const start = since ?? (await nextStart(context, slots, now));
    if (!(start < now)) {
      return { action: 'nothing', message: `nothing to show: the next digest starts at ${formatInstant(start, settings.timeZone)}, which is not yet past` };
    }
    const period = { start, end: now };
    const composed = await composeDigest({ source: context.source, period, timeZone: settings.timeZone, now, stalledAfterMs: settings.stalledAfterMs });
    const label = `${formatInstant(start, settings.timeZone)} – ${formatInstant(now, settings.timeZone)}`;

    if (options.dryRun) {
      if (options.out !== undefined) {
        try {
          await writeFile(options.out, composed.email.html, 'utf8');
        } catch (error) {
          throw new DigestCommandError(`cannot write ${options.out}: ${errorText(error)}`, false, { cause: error });
        }
        return { action: 'dry-run', period, email: composed.email, out: options.out, message: `wrote the digest of ${label} to ${options.out} (${composed.email.html.length} bytes); nothing sent` };
      }
      if (!options.json) await write(stdout, composed.email.html);
      return { action: 'dry-run', period, email: composed.email, message: `digest of ${label} written; nothing sent` };
    }

    if (options.now) {
      // An ad-hoc digest from --since: sent as asked, outside the schedule.
      const sender = requireSender(context);
      const channels: string[] = [];
      try {
        if (settings.to.length > 0) {
          await sender.sendEmail({ to: settings.to, ...composed.email });
          channels.push('email');
        }
        if (settings.slack) {
          if (!sender.sendSlack) throw new DigestCommandError('digest.slackWebhook is set but no Slack channel is available');
          await sender.sendSlack(composed.slack);
          channels.push('slack');
        }
      } catch (error) {
        if (error instanceof DigestCommandError) throw error;
        const done = channels.length > 0 ? ` (already sent: ${channels.join(', ')})` : '';
        throw new DigestCommandError(`sending the digest failed${done}: ${errorText(error)}`, false, { cause: error });
      }
      if (channels.length === 0) throw new DigestCommandError('the digest has no destination: set digest.to or email.to (with SMTP_URL), or digest.slackWebhook');
      return { action: 'sent', period, channels, scheduled: false, message: `sent an extra digest of ${label} to ${channels.join(' and ')}; the schedule is unchanged` };
    }

    if (!options.json) await write(stdout, composed.email.text);
    return { action: 'preview', period, email: composed.email, message: `digest of ${label} so far; nothing sent` };
  } finally {
    slots.close();
  }
}

function parseSince(text: string, now: number): number {
  // ISO 8601 with a date; Date.parse alone would also take "1" or "March 5".
  const ms = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim()) ? Date.parse(text.trim()) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new DigestCommandError(`--since must be an ISO 8601 time such as 2026-01-20T08:00:00Z (got ${JSON.stringify(text.slice(0, 60))})`, true);
  }
  if (ms >= now) throw new DigestCommandError('--since must lie in the past', true);
  return ms;
}

async function nextStart(context: RunDigestContext, slots: CronSlots, now: number): Promise<number> {
  const { lastEnd, pending } = await new DigestLedger(context.redis, context.keys).read();
  return pending?.start ?? lastEnd ?? slots.latestAtOrBefore(now - 1) ?? now - 86_400_000;
}

function requireSender(context: RunDigestContext): DigestSender {
  if (!context.sender) throw new DigestCommandError('the digest has no channel to send through: configure SMTP_URL or a Slack webhook');
  return context.sender;
}

async function sendScheduled(context: RunDigestContext, settings: DigestSettings, now: number): Promise<RunDigestResult> {
  let scheduler: DigestScheduler;
  try {
    scheduler = new DigestScheduler({
      redis: context.redis,
      keys: context.keys,
      source: context.source,
      sender: requireSender(context),
      cron: settings.cron,
      timeZone: settings.timeZone,
      to: settings.to,
      slack: settings.slack,
      sendEmpty: settings.sendEmpty,
      stalledAfterMs: settings.stalledAfterMs,
      logger: context.logger,
      clock: () => now,
    });
  } catch (error) {
    if (error instanceof DigestCommandError) throw error;
    throw new DigestCommandError(errorText(error), false, { cause: error });
  }
  try {
    const result = await scheduler.sendNow(now);
    switch (result.kind) {
      case 'done': {
        const last = result.digests[result.digests.length - 1]!;
        const channels = [...new Set(result.digests.flatMap((digest) => digest.channels))];
        const label = `${formatInstant(last.period.start, settings.timeZone)} – ${formatInstant(last.period.end, settings.timeZone)}`;
        const earlier = result.digests.length > 1 ? ` (after finishing ${result.digests.length - 1} digest(s) left pending)` : '';
        return { action: 'sent', period: last.period, channels, scheduled: true, message: `sent the digest of ${label} to ${channels.join(' and ')}${earlier}; the next scheduled digest starts there` };
      }
      case 'busy':
        throw new DigestCommandError('another replica is sending a digest right now; try again in a minute');
      case 'failed':
        throw new DigestCommandError(
          `sending the digest failed${result.channel ? ` (${result.channel})` : ''}: ${result.error}. The period stays pending; the daemon retries it, or run this again`,
        );
      default:
        return { action: 'nothing', message: 'nothing to send: the last digest ended just now' };
    }
  } finally {
    await scheduler.stop();
  }
}

function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (error) => (error ? reject(error) : resolve()));
  });
}
