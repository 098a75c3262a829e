import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { loadConfigWithSecrets } from '../config-secrets.js';
import { installShutdownHandlers } from '../lifecycle.js';
import { createApp, type App } from '../main.js';
import { colorWanted } from '../telemetry/color.js';
import { createLogger } from '../telemetry/logger.js';
import { GemSimulator } from '../simulator/gem-simulator.js';
import { forgetPrefix } from '../state/forget-prefix.js';
import { redisModeOf, redisTarget } from '../config/redis-url.js';
import { PollHealthStore } from '../state/poll-health-store.js';
import { startSlackSink, type SlackSinkRequest } from '../simulator/slack-sink.js';
import { startTeamsSink } from '../simulator/teams-workflows-sink.js';
import { startWebhookReceiver } from '../simulator/webhook-receiver.js';
import { startSlackApiServer, type SlackApiEvent } from '../simulator/slack-api.js';
import { startSmtpSink, type SmtpSinkMail } from '../simulator/smtp-sink.js';
import { DemoJobs } from './demo-jobs.js';
import { startDemoRedis, type DemoRedis } from './demo-redis.js';
import { formatSlackForConsole, teamsCardTitle } from './slack-console.js';

export interface DemoOptions {
  /** Where each mail is written as .eml and .html. Default demo-out (relative to the working directory). */
  outDir: string;
  /** Where the demo talks. Default process.stdout. */
  out?: NodeJS.WritableStream;
  /** REDIS_URL, HTTP_PORT and LOG_LEVEL are read from here. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** ANSI styling. Default: when `out` is a terminal and NO_COLOR is not set. */
  color?: boolean;
  /** How often the cron polls and the simulated jobs move, in milliseconds. Default 2,000. */
  tickMs?: number;
}

/** Port of the status page when it is free (the configuration's default), else any free one. */
const PREFERRED_HTTP_PORT = 9464;

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** "[gem-watch] ROAD_MATCHING job 7 finished: 84.68% matched" → "road_matching-job-7-finished-84-68-matched". */
function slug(subject: string): string {
  const words = subject
    .replace(/^\[gem-watch\]\s*/i, '')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return words.slice(0, 60).replace(/-+$/, '') || 'mail';
}

/**
 * `gem-watch demo`: the GEM simulator with jobs moving through their statuses, the real pipeline
 * (createApp) polling it every two seconds, a local Slack sink printing each message to the console
 * and an SMTP sink writing each mail as .eml and .html under `outDir`, plus the status page. Runs
 * until SIGINT/SIGTERM, then stops everything it started, Redis included.
 */
export async function runDemo(options: DemoOptions): Promise<void> {
  const out = options.out ?? process.stdout;
  const env = options.env ?? process.env;
  const color = options.color ?? colorWanted(out, env);
  const tickMs = options.tickMs ?? 2_000;
  const style = (code: string) => (text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const dim = style('2');
  const bold = style('1');
  const print = (text: string) => out.write(`${text}\n`);
  const clock = () => new Date().toISOString().slice(11, 19);

  // Everything started so far, stopped in reverse order.
  const closers: Array<{ name: string; close: () => Promise<void> }> = [];
  let redis: DemoRedis | undefined;
  const logger = createLogger({ level: env.LOG_LEVEL ?? 'warn', pretty: 'auto' });
  let stopping = false;
  const stopAll = async () => {
    stopping = true;
    const running = closers.splice(0).reverse();
    for (const closer of running) {
      await closer.close().catch((error: unknown) => print(`demo: could not stop ${closer.name}: ${(error as Error).message}`));
    }
    if (running.length > 0) print('demo stopped; nothing left running.');
  };
  let startedResolve!: () => void;
  const started = new Promise<void>((resolve) => (startedResolve = resolve));
  const shutdown = installShutdownHandlers({
    logger,
    stop: stopAll,
    deadlineMs: 20_000,
    started,
    // A forced exit still takes the redis-server down with it.
    beforeExit: () => redis?.kill(),
  });
  // A closed terminal sends SIGHUP, whose default would end the demo without stopping its Redis.
  process.on('SIGHUP', () => shutdown('SIGHUP'));

  try {
    mkdirSync(options.outDir, { recursive: true });
    redis = await startDemoRedis(env);
    const ownRedis = redis;
    process.once('exit', () => ownRedis.kill());
    closers.push({ name: 'Redis', close: () => ownRedis.stop() });

    const sim = new GemSimulator({ apiKey: 'demo-api-key' });
    await sim.start();
    closers.push({ name: 'the GEM simulator', close: () => sim.stop() });
    const jobs = new DemoJobs(sim, {
      onChange: (job, from, to) => {
        if (!stopping) print(dim(`${clock()}  GEM  ${job.jobType} job ${job.id} ${from ?? 'submitted'} → ${to}  (${job.inputFile})`));
      },
    });
    jobs.seed();
    closers.push({ name: 'the job script', close: async () => jobs.stop() });

    const slack = await startSlackSink({
      onMessage: (request: SlackSinkRequest) => {
        print(`\n${bold(`${clock()}  Slack message`)} ${dim(`(webhook ${request.path.split('/').slice(0, 3).join('/')}/…)`)}`);
        print(formatSlackForConsole(request.body, { color }));
        print('');
      },
    });
    closers.push({ name: 'the Slack sink', close: () => slack.close() });

    const teams = await startTeamsSink({
      onMessage: (request) => print(`${bold(`${clock()}  Teams card`)} ${teamsCardTitle(request.card)} ${dim(`(${Buffer.byteLength(request.raw)} bytes, Adaptive Card ${String(request.card?.version)})`)}`),
    });
    closers.push({ name: 'the Teams sink', close: () => teams.close() });
    const receiver = await startWebhookReceiver({
      onEvent: (request) => print(`${bold(`${clock()}  Webhook event`)} ${request.event?.type ?? '?'} ${dim(`(webhook-id ${request.id ?? '?'}, signature verified)`)}`),
    });
    closers.push({ name: 'the webhook receiver', close: () => receiver.close() });
    // Slack app mode beside the webhook: one message per job in #gem-alerts, edited in place, with
    // the end as a reply in its thread.
    const DEMO_BOT_TOKEN = 'xoxb-demo-0000000000-notASecretDemoToken';
    const slackApi = await startSlackApiServer({
      token: DEMO_BOT_TOKEN,
      onEvent: (event: SlackApiEvent) => {
        if (stopping) return;
        const { message } = event;
        const what =
          event.kind === 'posted'
            ? `posted message ${message.ts}`
            : event.kind === 'updated'
              ? `updated message ${message.ts} in place (edit ${message.edits})`
              : `replied in the thread of ${message.threadTs}${message.replyBroadcast ? ', also sent to the channel' : ''}`;
        print(`\n${bold(`${clock()}  Slack app`)} ${dim(`#${event.channelName}: ${what}`)}`);
        print(formatSlackForConsole(message, { color }));
        print('');
      },
    });
    closers.push({ name: 'the Slack Web API server', close: () => slackApi.close() });

    let mails = 0;
    // mailparser reads each mail before the sink accepts it, so its subject and HTML part are
    // decoded (encoded words, quoted-printable, base64) as a mail client would.
    const smtp = await startSmtpSink<ParsedMail>({
      parse: (raw) => simpleParser(raw),
      onMail: (mail: SmtpSinkMail<ParsedMail>) => {
        mails += 1;
        const subject = mail.parsed.subject ?? '';
        const base = join(options.outDir, `${String(mails).padStart(3, '0')}-${slug(subject)}`);
        writeFileSync(`${base}.eml`, mail.raw);
        const html = typeof mail.parsed.html === 'string' ? mail.parsed.html : undefined;
        if (html !== undefined) writeFileSync(`${base}.html`, html);
        const shown = relative(process.cwd(), base) || base;
        print(`${bold(`${clock()}  Email`)} to ${mail.envelope.to.join(', ')}: “${subject}”\n      → ${shown}.eml${html === undefined ? '' : ` and ${shown}.html`}`);
      },
    });
    closers.push({ name: 'the SMTP sink', close: () => smtp.close() });

    const own = env.REDIS_URL ? `gemwatch-demo-${Date.now().toString(36)}` : 'gemwatch-demo';
    // On a cluster every key of the demo must share one slot, as the daemon's do.
    const prefix = env.REDIS_URL && redisModeOf(env.REDIS_URL) === 'cluster' ? `{${own}}` : own;
    if (env.REDIS_URL) {
      const url = env.REDIS_URL;
      closers.push({ name: 'the demo keys', close: () => forgetPrefix(redisTarget({ url }), prefix) });
    }
    const httpPort = env.HTTP_PORT ?? ((await portIsFree(PREFERRED_HTTP_PORT)) ? String(PREFERRED_HTTP_PORT) : '0');
    const seconds = Math.max(1, Math.round(tickMs / 1000));
    // One message per announcement: the demo's jobs end every few seconds, a steady stream that
    // burst grouping (alerts.burstWindowSec) would gather for up to two minutes.
    const overlayDir = mkdtempSync(join(tmpdir(), 'gem-watch-demo-config-'));
    const overlay = join(overlayDir, 'demo.yaml');
    // Slack app mode shows jobs live (from queued on), updating their progress at most every minute.
    writeFileSync(overlay, 'alerts:\n  burstWindowSec: 0\nslackApp:\n  liveProgress: true\n  progressEveryMinutes: 1\n');
    const config = loadConfigWithSecrets({
      file: overlay,
      env: {
        GEM_API_KEY: sim.apiKey,
        GEM_API_BASE_URL: sim.baseUrl,
        GEM_JOB_TYPES: 'ROAD_MATCHING,LANE_LEVEL_MATCHING',
        POLL_CRON: `*/${seconds} * * * * *`,
        // The demo's jobs run for seconds: its status page shows every step of their progress.
        POLL_PROGRESS_EVERY_SECONDS: '0',
        REDIS_URL: redis.url,
        GEM_WATCH_PREFIX: prefix,
        SLACK_WEBHOOK_URL: slack.webhookUrl(),
        TEAMS_WEBHOOK_URL: teams.webhookUrl(),
        WEBHOOK_URL: receiver.url,
        WEBHOOK_SECRET: receiver.secret,
        SLACK_BOT_TOKEN: DEMO_BOT_TOKEN,
        SLACK_CHANNEL: '#gem-alerts',
        SLACK_API_URL: slackApi.apiUrl,
        SMTP_URL: smtp.url(),
        EMAIL_FROM: 'gem-watch@demo.invalid',
        EMAIL_TO: 'data-team@demo.invalid',
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: httpPort,
        LOG_LEVEL: env.LOG_LEVEL ?? 'warn',
      },
    });
    rmSync(overlayDir, { recursive: true, force: true });
    const app: App = createApp(config, { logger });
    closers.push({ name: 'the pipeline', close: () => app.stop(3_000) });
    await app.start();

    print(
      [
        bold('gem-watch demo'),
        `  GEM API      a local simulator at ${sim.baseUrl}, jobs moving every ${seconds} s`,
        `  Redis        ${redis.description}`,
        `  Polling      every ${seconds} s (POLL_CRON "${config.poll.cron}"), the real pipeline`,
        '  Slack        a local sink: each message is printed below',
        '  Teams        a local Workflows endpoint: each card\'s title is printed below',
        '  Webhook      a local receiver that verifies each signature: each event is printed below',
        '  Slack app    a local Web API: each job is one message in #gem-alerts, edited in place; ends reply in its thread',
        `  Email        a local SMTP sink: each mail is written to ${options.outDir}/ as .eml and .html`,
        `  Status page  ${app.http?.url}/   (queues: ${app.http?.url}/queues, metrics: ${app.http?.url}/metrics)`,
        '',
        'Two jobs ended before gem-watch first looked: they are recorded, not announced. The others are',
        'announced when they finish or fail. Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );

    // The story starts once the first poll has seen the jobs, so none ends unseen.
    const probe = new PollHealthStore(app.pipeline.redis, app.pipeline.keys);
    const until = Date.now() + 60_000;
    while (!stopping && Date.now() < until && !(await probe.lastSuccess())) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    if (!stopping) jobs.start(tickMs);
  } catch (error) {
    // Whatever did start is stopped before the error is reported.
    await stopAll();
    throw error;
  } finally {
    startedResolve();
  }
}
