import nodemailer from 'nodemailer';
import type { Config } from './config/schema.js';
import { configWarnings } from './config/warnings.js';
import { createTokenProvider } from './gem/auth/create-token-provider.js';
import { GemClient } from './gem/client.js';
import { isGemApiError, isGemNotFoundError } from './gem/errors.js';
import { isDocumentedJobType, KNOWN_JOB_TYPES } from './domain/job.js';
import type { Logger } from './telemetry/logger.js';
import { errorText } from './telemetry/redact.js';
import { timeZoneFor } from './notify/notifier.js';
import { createNotifiers } from './notify/registry.js';
import { SlackAppNotifier } from './notify/channels/slack-app/slack-app-notifier.js';
import { isDeliveryError } from './notify/errors.js';
import { SLACK_APP_CHANNEL } from './domain/routing.js';
import { sampleTransition } from './notify/sample-data.js';
import { checkRedis } from './check-redis.js';
import { sanitizeHeader } from './templates/escape.js';

export interface CheckOptions {
  /** Also post a test message to each Slack webhook and Slack app channel. */
  send: boolean;
  /** Where each result is printed as a line of text; none for `check --json`. */
  out?: NodeJS.WritableStream;
  /** Each result is also appended here, in order (for `check --json`). */
  results?: CheckResult[];
  logger: Logger;
}

export type Verdict = 'ok' | 'warn' | 'fail' | 'skip';

/** One thing `check` tried: its verdict, what (config, redis, gem api, smtp, slack) and the detail. */
export interface CheckResult {
  verdict: Verdict;
  what: string;
  detail: string;
}

/**
 * What `check` found: `ok`; `failed` when an outside part failed (exit 3); `setting` when a setting
 * is wrong though it parsed (a password Redis refuses, a database it lacks, a mail server with no
 * one to mail): exit 2, as for a configuration that does not parse, since the fix is the same.
 */
export type CheckOutcome = 'ok' | 'failed' | 'setting';

/**
 * `gem-watch check`: the configuration is valid by the time this runs; this tries every outside
 * part the daemon needs, prints one line each, and says whether any failed. Slack is only posted to
 * with `--send`, since a check must not page anyone by default.
 */
export async function runChecks(config: Config, options: CheckOptions): Promise<CheckOutcome> {
  const { out } = options;
  let failed = false;
  let wrongSetting = false;
  const line = (verdict: Verdict, what: string, detail: string, setting = false) => {
    if (verdict === 'fail') failed = true;
    if (setting) wrongSetting = true;
    options.results?.push({ verdict, what, detail });
    out?.write(`${verdict.toUpperCase().padEnd(4)}  ${what.padEnd(10)} ${detail}\n`);
  };
  line('ok', 'config', `valid; watching ${config.gem.jobTypes.join(', ')} on "${config.poll.cron}"`);

  // A warning, since the daemon starts with it; but a wrong setting all the same, so exit 2.
  for (const warning of configWarnings(config)) line('warn', 'config', warning, true);

  await checkRedis(config, line);

  const client = new GemClient({
    baseUrl: config.gem.baseUrl,
    apiKey: config.gem.apiKey,
    tokenProvider: createTokenProvider(config.gem.auth, options.logger),
    listPath: config.gem.listPath,
    detailPath: config.gem.detailPath,
    apiVersion: config.gem.apiVersion,
    timeoutMs: config.gem.timeoutMs,
  });
  for (const jobType of config.gem.jobTypes) {
    // GEM may add types, so another name is allowed; but a typo lists nothing and looks just like
    // an account with no jobs of that type.
    if (!isDocumentedJobType(jobType)) {
      line('warn', 'gem api', `${jobType}: not a job type GEM documents (${KNOWN_JOB_TYPES.join(', ')}); check GEM_JOB_TYPES for a typo`);
    }
    try {
      const list = await client.listJobs(jobType);
      line('ok', 'gem api', `${jobType}: credentials accepted, ${list.jobs.length} job(s) listed`);
      // The detail path is configurable because GEM's pages disagree on it; a wrong one answers
      // 404 for every job, and then nothing is ever announced. One listed job shows which.
      const sample = list.jobs[0];
      if (sample) {
        // The id is the API's text: one short printable line on the terminal.
        const shown = sanitizeHeader(sample.id, 40);
        try {
          const detail = await client.getJob(sample.id, jobType);
          line('ok', 'gem api', `${jobType}: details of job ${shown} read (${detail.job.status})`);
        } catch (error) {
          const hint = isGemNotFoundError(error) ? `: the list shows it, so check GEM_DETAIL_PATH (now ${config.gem.detailPath})` : '';
          line('fail', 'gem api', `${jobType}: details of job ${shown}: ${errorText(error)}${hint}`);
        }
      }
    } catch (error) {
      const reason = isGemApiError(error) ? ` [${error.reason}]` : '';
      line('fail', 'gem api', `${jobType}: ${errorText(error)}${reason}`);
    }
  }

  if (config.email.smtpUrl) {
    const transport = nodemailer.createTransport({
      url: config.email.smtpUrl,
      connectionTimeout: config.email.connectionTimeoutMs,
      greetingTimeout: config.email.connectionTimeoutMs,
      socketTimeout: config.email.socketTimeoutMs,
      logger: false,
    });
    try {
      await transport.verify();
      line('ok', 'smtp', `server accepts connections and login; mail goes to ${config.email.to.length} default recipient(s)`);
    } catch (error) {
      line('fail', 'smtp', errorText(error));
    } finally {
      transport.close();
    }
  } else {
    line('skip', 'smtp', 'SMTP_URL not set: email is off');
  }

  const notifiers = createNotifiers(config, options.logger);
  const slack = notifiers.get('slack');
  if (!slack) line('skip', 'slack', 'SLACK_WEBHOOK_URL not set and no webhooks configured: Slack is off');
  else if (!options.send) line('skip', 'slack', `${slack.endpoints().length} webhook(s) configured; add --send to post a test message`);
  else {
    for (const endpoint of slack.endpoints()) {
      try {
        const message = slack.render({ transition: sampleTransition('finished', Date.now()) }, { timeZone: timeZoneFor(endpoint.route, config) });
        await slack.send(message, { route: endpoint.route, target: endpoint.target });
        line('ok', 'slack', `test message posted to webhook "${endpoint.target}"`);
      } catch (error) {
        line('fail', 'slack', `webhook "${endpoint.target}": ${errorText(error)}`);
      }
    }
  }
  // Teams and the signed webhook: the same, each endpoint by name.
  for (const [name, off] of [
    ['teams', 'TEAMS_WEBHOOK_URL not set and no teams.webhooks configured: Teams is off'],
    ['webhook', 'WEBHOOK_URL not set and no webhook.endpoints configured: the signed webhook is off'],
  ] as const) {
    const notifier = notifiers.get(name);
    if (!notifier) line('skip', name, off);
    else if (!options.send) line('skip', name, `${notifier.endpoints().length} endpoint(s) configured; add --send to send a test message`);
    else {
      for (const endpoint of notifier.endpoints()) {
        try {
          const message = notifier.render({ transition: sampleTransition('finished', Date.now()) }, { timeZone: timeZoneFor(endpoint.route, config) });
          await notifier.send(message, { route: endpoint.route, target: endpoint.target });
          line('ok', name, `test message sent to "${endpoint.target}"`);
        } catch (error) {
          line('fail', name, `"${endpoint.target}": ${errorText(error)}`);
        }
      }
    }
  }
  const app = notifiers.get(SLACK_APP_CHANNEL);
  if (!(app instanceof SlackAppNotifier)) line('skip', 'slack app', 'SLACK_BOT_TOKEN not set: Slack app mode is off');
  else {
    // auth.test pages no one, so it runs without --send, like the SMTP login.
    let tokenOk = false;
    try {
      const who = await app.authTest();
      tokenOk = true;
      line('ok', 'slack app', `bot token accepted: ${sanitizeHeader(who.user, 80)} in ${sanitizeHeader(who.team, 80)}`);
    } catch (error) {
      line('fail', 'slack app', `auth.test: ${errorText(error)}`, isDeliveryError(error) && error.reason === 'auth');
    }
    const channels = app.endpoints();
    if (channels.length === 0) line('warn', 'slack app', 'no channel: set SLACK_CHANNEL or a route\'s slackApp.channel', true);
    else if (!options.send) line('skip', 'slack app', `${channels.length} channel(s) configured; add --send to post a test message`);
    else if (tokenOk) {
      for (const endpoint of channels) {
        try {
          const message = app.render({ transition: sampleTransition('finished', Date.now()) }, { timeZone: timeZoneFor(endpoint.route, config) });
          await app.send(message, { route: endpoint.route, target: endpoint.target });
          line('ok', 'slack app', `test message posted to channel "${endpoint.target}" (route ${endpoint.route})`);
        } catch (error) {
          line('fail', 'slack app', `channel "${endpoint.target}": ${errorText(error)}`);
        }
      }
    }
  }
  await notifiers.close();
  return wrongSetting ? 'setting' : failed ? 'failed' : 'ok';
}
