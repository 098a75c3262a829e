#!/usr/bin/env node
import { Argument, Command, Option } from 'commander';
import { connectCliRedis } from './cli-redis.js';
import { COMPLETION_SHELLS, completionScript, type CompletionShell } from './completion.js';
import { loadConfigWithSecrets } from './config-secrets.js';
import { ConfigError } from './config/load.js';
import type { Config } from './config/schema.js';
import { isoTime, orNull, writeJson } from './json-output.js';
import { createLogger } from './telemetry/logger.js';
import { errorText } from './telemetry/redact.js';
import { sanitizeHeader } from './templates/escape.js';
import { packageVersion } from './version.js';

/**
 * The `gem-watch` command. Exit codes: 0 success; 1 a runtime failure; 2 invalid configuration or
 * usage; 3 a check that found a problem (`check`).
 */
export const EXIT = { ok: 0, failure: 1, config: 2, checkFailed: 3 } as const;

const program = new Command()
  .name('gem-watch')
  .description('Watches TomTom GEM jobs and announces in Slack, by email, in Teams or by signed webhook every job that finishes or fails.')
  .version(packageVersion(), '-V, --version', 'print the version of gem-watch')
  .option('-c, --config <file>', 'YAML file merged over config/default.yaml (else GEM_WATCH_CONFIG)')
  .showHelpAfterError()
  .exitOverride((error) => {
    process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.config);
  });

/**
 * Loads the configuration or exits 2 with every problem named. `readOnly`: for commands that only
 * read gem-watch's state in Redis, which need no GEM_API_KEY. `onProblems` also hands the problems
 * to a command that reports them in its own form (`check --json`).
 */
function config(options: { readOnly?: boolean; onProblems?: (problems: readonly string[]) => void } = {}): Config {
  try {
    return loadConfigWithSecrets({ file: program.opts<{ config?: string }>().config, readOnly: options.readOnly === true });
  } catch (error) {
    if (error instanceof ConfigError) {
      options.onProblems?.(error.problems);
      process.stderr.write(`gem-watch: ${error.message}\n`);
      process.exit(EXIT.config);
    }
    throw error;
  }
}

/** Runs a command body; a failure prints one scrubbed line and exits 1. */
function action<A extends unknown[]>(body: (...args: A) => Promise<number | void>) {
  return async (...args: A) => {
    try {
      const code = await body(...args);
      process.exit(code ?? EXIT.ok);
    } catch (error) {
      process.stderr.write(`gem-watch: ${errorText(error)}\n`);
      process.exit(EXIT.failure);
    }
  };
}

/** How long `digest --now` waits for a worker to deliver the digest it queued, in ms. */
const DIGEST_NOW_WAIT_MS = 60_000;

/** A logger for one-shot commands: warnings and worse, on stderr, so stdout stays for output. */
function quietLogger(cfg: Config) {
  return createLogger({ level: process.env.LOG_LEVEL ?? 'warn', pretty: cfg.log.pretty, destination: process.stderr });
}

program
  .command('run')
  .description('run the daemon (default role: all)')
  .addOption(new Option('--role <role>', 'all, scheduler (cron only) or worker (workers only)').choices(['all', 'scheduler', 'worker']).default('all'))
  .action(async (options: { role: 'all' | 'scheduler' | 'worker' }) => {
    const cfg = config();
    const { runDaemon } = await import('./main.js');
    try {
      await runDaemon(cfg, { role: options.role });
    } catch (error) {
      process.stderr.write(`gem-watch: cannot start: ${errorText(error)}\n`);
      process.exit(EXIT.failure);
    }
  });

program
  .command('check')
  .description('validate the configuration, then Redis, the GEM API, SMTP, the Slack bot token (and Slack posts with --send)')
  .option('--send', 'also post a test message to each Slack webhook and Slack app channel')
  .option('--json', 'print JSON: { ok, checks: [{ verdict, what, detail }] }')
  .action(
    action(async (options: { send?: boolean; json?: boolean }) => {
      const cfg = config({
        // An invalid configuration is a check that failed too: as JSON, one result per problem.
        onProblems: (problems) => {
          if (options.json) writeJson(process.stdout, { ok: false, checks: problems.map((detail) => ({ verdict: 'fail', what: 'config', detail })) });
        },
      });
      const { runChecks } = await import('./check.js');
      const results: import('./check.js').CheckResult[] = [];
      const outcome = await runChecks(cfg, { send: options.send === true, ...(options.json ? { results } : { out: process.stdout }), logger: quietLogger(cfg) });
      if (options.json) writeJson(process.stdout, { ok: outcome === 'ok', checks: results });
      return outcome === 'ok' ? EXIT.ok : outcome === 'setting' ? EXIT.config : EXIT.checkFailed;
    }),
  );

program
  .command('poll-once')
  .description('one full poll cycle for every job type, printing the transitions found')
  .option('--json', 'print JSON: the transitions found')
  .action(
    action(async (options: { json?: boolean }) => {
      const cfg = config();
      // The pipeline's connections wait out an outage, as the daemon's must; a one-shot command
      // should say at once that Redis cannot be used.
      (await connectCliRedis(cfg.redis, 'cli')).disconnect();
      const { createApp } = await import('./main.js');
      const app = createApp(cfg, { role: 'scheduler', logger: quietLogger(cfg) });
      try {
        const transitions = await app.pipeline.pollOnce();
        if (options.json) {
          writeJson(
            process.stdout,
            transitions.map((t) => ({ jobType: t.jobType, jobId: t.jobId, from: orNull(t.from), to: t.to, version: t.version, detectedAt: isoTime(t.detectedAt), silent: t.silent === true })),
          );
          return EXIT.ok;
        }
        for (const t of transitions) {
          // Job type and id are the API's text: one printable line each, never terminal control codes.
          process.stdout.write(`${sanitizeHeader(t.jobType, 60)}\t${sanitizeHeader(t.jobId, 80)}\t${t.from ?? '(new)'} -> ${t.to}\tv${t.version}\n`);
        }
        process.stdout.write(`${transitions.length} transition(s)\n`);
      } finally {
        await app.stop(1_000);
      }
    }),
  );

program
  .command('status')
  .description('a table of tracked jobs: id, type, status, progress, ETA, last change')
  .option('--all', 'include finished, failed and cancelled jobs')
  .option('--json', 'print JSON instead of a table')
  .action(
    action(async (options: { all?: boolean; json?: boolean }) => {
      const cfg = config({ readOnly: true });
      const { printStatus } = await import('./status.js');
      const redis = await connectCliRedis(cfg.redis, 'status');
      try {
        await printStatus(cfg, redis, { all: options.all === true, json: options.json === true, out: process.stdout });
      } finally {
        redis.disconnect();
      }
    }),
  );

program
  .command('digest')
  .description('the summary: without flags print the period so far; --now sends one; --dry-run renders the HTML')
  .option('--now', 'send a digest now (from the last one sent, or from --since)')
  .option('--since <iso>', 'start of the period, an ISO 8601 time')
  .option('--dry-run', 'render the HTML and send nothing')
  .option('--out <file>', 'with --dry-run: write the HTML to this file instead of stdout')
  .option('--json', 'print JSON: what was done, the period and the rendered subject, text and HTML')
  .action(
    action(async (options: { now?: boolean; since?: string; dryRun?: boolean; out?: string; json?: boolean }) => {
      const cfg = config();
      const { runDigest } = await import('./digest/run-digest.js');
      const { DigestCommandError } = await import('./digest/digest-command-error.js');
      const { digestSettings } = await import('./digest/digest-config.js');
      const { Queue } = await import('bullmq');
      const { digestJobs, settleDigestTasks } = await import('./queue/digest-queue.js');
      const { QUEUE_NAMES } = await import('./queue/names.js');
      const { queueOptions } = await import('./queue/queue-options.js');
      const { notifyJobOptions } = await import('./notify/task-options.js');
      const { DigestLedger } = await import('./state/digest-ledger.js');
      const { Keys } = await import('./state/keys.js');
      const { StateStore } = await import('./state/state-store.js');
      const logger = quietLogger(cfg);
      const redis = await connectCliRedis(cfg.redis, 'cli');
      const keys = new Keys(cfg.redis.prefix);
      // Only --now queues anything; the queue shares the command's connection.
      const digestQueue = options.now ? new Queue(QUEUE_NAMES.housekeeping, queueOptions(redis, cfg.redis.prefix)) : undefined;
      try {
        const settings = digestSettings(cfg);
        const result = await runDigest(options, {
          settings,
          ledger: new DigestLedger(redis, keys),
          source: new StateStore(redis, keys, { transitionsDays: cfg.retention.transitionsDays }),
          ...(digestQueue
            ? {
                queue: {
                  enqueue: async (tasks) => void (await digestQueue.addBulk(digestJobs(tasks, notifyJobOptions(cfg)))),
                  settle: (tasks) => settleDigestTasks(digestQueue, tasks, DIGEST_NOW_WAIT_MS),
                },
              }
            : {}),
          logger,
        });
        process.stderr.write(`${result.message}\n`);
        if (options.json) {
          writeJson(process.stdout, {
            action: result.action,
            periodStart: isoTime(result.period?.start),
            periodEnd: isoTime(result.period?.end),
            channels: result.channels ?? null,
            scheduled: result.scheduled ?? null,
            subject: result.email?.subject ?? null,
            text: result.email?.text ?? null,
            // With --out the HTML went to the file.
            html: result.out === undefined ? (result.email?.html ?? null) : null,
            out: result.out ?? null,
            message: result.message,
          });
        }
        return EXIT.ok;
      } catch (error) {
        if (error instanceof DigestCommandError && error.usage) {
          process.stderr.write(`gem-watch digest: ${error.message}\n`);
          return EXIT.config;
        }
        throw error;
      } finally {
        await digestQueue?.close();
        redis.disconnect();
      }
    }),
  );

program
  .command('test-notify')
  .description('send a sample message, built from sample data, through each configured channel')
  .option('--channel <name>', 'only this channel (slack, email, teams, webhook, slack-app)')
  .option('--target <name>', 'only this webhook or endpoint name (Slack, Teams, webhook), channel (Slack app) or route (email)')
  .addOption(new Option('--sample <kind>', 'what to send').choices(['finished', 'failed', 'alert']).default('finished'))
  .action(
    action(async (options: { channel?: string; target?: string; sample: 'finished' | 'failed' | 'alert' }) => {
      const cfg = config();
      const { createNotifiers } = await import('./notify/registry.js');
      const { testNotify, UnknownChannelError } = await import('./notify/operations.js');
      const notifiers = createNotifiers(cfg, quietLogger(cfg));
      try {
        const { timeZoneFor } = await import('./notify/notifier.js');
        const timeZoneOf = (route: string) => timeZoneFor(route, cfg);
        const results = await testNotify({ notifiers, channel: options.channel, target: options.target, sample: options.sample, timeZoneOf });
        if (results.length === 0) process.stdout.write('no channel is configured (set SLACK_WEBHOOK_URL or SMTP_URL)\n');
        for (const r of results) {
          process.stdout.write(`${r.ok ? 'OK  ' : 'FAIL'}  ${r.channel} ${r.target} (route ${r.route}): ${r.detail}\n`);
        }
        return results.every((r) => r.ok) ? EXIT.ok : EXIT.failure;
      } catch (error) {
        if (error instanceof UnknownChannelError) {
          process.stderr.write(`gem-watch: ${error.message}\n`);
          return EXIT.config;
        }
        throw error;
      } finally {
        await notifiers.close();
      }
    }),
  );

program
  .command('notifications')
  .description('list deliveries that failed for good; --retry re-queues them')
  .option('--failed', 'list failed deliveries (the default)')
  .option('--retry [ids...]', 're-queue failed deliveries (all, or these task ids) with fresh attempts')
  .option('--json', 'print JSON')
  .action(
    action(async (options: { failed?: boolean; retry?: boolean | string[]; json?: boolean }) => {
      const cfg = config({ readOnly: true });
      const { Queue } = await import('bullmq');
      const { queueOptions } = await import('./queue/queue-options.js');
      const { QUEUE_NAMES } = await import('./queue/names.js');
      const { Keys } = await import('./state/keys.js');
      const { listFailedDeliveries, retryFailedDeliveries } = await import('./notify/operations.js');
      const redis = await connectCliRedis(cfg.redis, 'cli');
      const queue = new Queue(QUEUE_NAMES.notify, queueOptions(redis, cfg.redis.prefix));
      queue.on('error', () => {});
      try {
        if (options.retry) {
          const ids = Array.isArray(options.retry) ? options.retry : undefined;
          const result = await retryFailedDeliveries({ queue, ids, redis, keys: new Keys(cfg.redis.prefix) });
          if (options.json) writeJson(process.stdout, result);
          else {
            process.stdout.write(`re-queued ${result.retried.length} deliver${result.retried.length === 1 ? 'y' : 'ies'}\n`);
            if (result.alreadyDelivered.length > 0) process.stdout.write(`left alone (already delivered): ${result.alreadyDelivered.join(', ')}\n`);
            if (result.notFound.length > 0) process.stdout.write(`not failed tasks: ${result.notFound.join(', ')}\n`);
          }
          return EXIT.ok;
        }
        const failed = await listFailedDeliveries({ queue });
        if (options.json) writeJson(process.stdout, failed.map((f) => ({ ...f, failedAt: isoTime(f.failedAt) })));
        else if (failed.length === 0) process.stdout.write('no failed deliveries\n');
        else {
          for (const f of failed) {
            const at = f.failedAt ? new Date(f.failedAt).toISOString() : '';
            // Subject and reason may quote API text: printable, one line each. The id is printable
            // already (its parts are encoded) and is printed whole, to be pasted into --retry.
            const line = `${at}  ${f.channel}/${f.target} (route ${f.route})  ${sanitizeHeader(f.subject)}  after ${f.attemptsMade} attempt(s): ${sanitizeHeader(f.failedReason, 500)}`;
            process.stdout.write(`${line}\n  id ${f.id}\n`);
          }
        }
        return EXIT.ok;
      } finally {
        await queue.close();
        redis.disconnect();
      }
    }),
  );

program
  .command('demo')
  .description('run gem-watch against a local GEM simulator, Slack and SMTP sinks, with nothing configured')
  .option('--out <dir>', 'where each mail is written as .eml and .html', 'demo-out')
  .action(async (options: { out: string }) => {
    const { missingDemoPackage } = await import('./demo/demo-dependencies.js');
    try {
      const { runDemo } = await import('./demo/run-demo.js');
      await runDemo({ outDir: options.out });
    } catch (error) {
      process.stderr.write(`gem-watch demo: ${missingDemoPackage(error) ?? errorText(error)}\n`);
      process.exit(EXIT.failure);
    }
  });

/** The notify queue and a Redis client for the alert commands; closed by `done`. */
async function alertContext(cfg: Config) {
  const { Queue } = await import('bullmq');
  const { queueOptions } = await import('./queue/queue-options.js');
  const { QUEUE_NAMES } = await import('./queue/names.js');
  const { Keys } = await import('./state/keys.js');
  const redis = await connectCliRedis(cfg.redis, 'cli');
  const queue = new Queue(QUEUE_NAMES.notify, queueOptions(redis, cfg.redis.prefix));
  queue.on('error', () => {});
  return {
    config: cfg,
    redis,
    keys: new Keys(cfg.redis.prefix),
    queue,
    now: Date.now(),
    done: async () => {
      await queue.close();
      redis.disconnect();
    },
  };
}

const silence = program.command('silence').description('hold a route\'s messages for a while; what arrives is sent as one summary when the silence ends');

silence
  .command('add')
  .description('silence a route: its messages are held and sent as one summary at the end (failures break through when the route says so)')
  .requiredOption('--route <name>', 'route name (`default` for SLACK_WEBHOOK_URL / EMAIL_TO)')
  .requiredOption('--for <duration>', 'how long, e.g. 2h, 90m, 1h30m, 1d (at most 90 days)')
  .option('--comment <text>', 'why, shown by `silence list`')
  .action(
    action(async (options: { route: string; for: string; comment?: string }) => {
      const cfg = config();
      const { addSilence, formatSilence } = await import('./alerts/operations.js');
      const { parseDuration } = await import('./alerts/silence-duration.js');
      const { SilenceInputError } = await import('./state/silence-store.js');
      const context = await alertContext(cfg);
      try {
        const added = await addSilence(context, { route: options.route, durationMs: parseDuration(options.for), ...(options.comment ? { comment: options.comment } : {}) });
        process.stdout.write(`added ${formatSilence(added, context.now)}\n`);
        return EXIT.ok;
      } catch (error) {
        if (error instanceof SilenceInputError) {
          process.stderr.write(`gem-watch: ${error.message}\n`);
          return EXIT.config;
        }
        throw error;
      } finally {
        await context.done();
      }
    }),
  );

silence
  .command('list')
  .description('silences not over yet')
  .option('--json', 'print JSON')
  .action(
    action(async (options: { json?: boolean }) => {
      const cfg = config({ readOnly: true });
      const { listSilences, formatSilence } = await import('./alerts/operations.js');
      const context = await alertContext(cfg);
      try {
        const silences = await listSilences(context);
        if (options.json) {
          writeJson(
            process.stdout,
            silences.map((s) => ({ id: s.id, route: s.route, startsAt: isoTime(s.startsAt), endsAt: isoTime(s.endsAt), comment: orNull(s.comment), createdAt: isoTime(s.createdAt) })),
          );
        }
        else if (silences.length === 0) process.stdout.write('no silences\n');
        else for (const s of silences) process.stdout.write(`${formatSilence(s, context.now)}\n`);
        return EXIT.ok;
      } finally {
        await context.done();
      }
    }),
  );

silence
  .command('remove')
  .description('end a silence now; what it held is sent as one summary')
  .argument('<id>', 'silence id, as `silence list` shows it')
  .action(
    action(async (id: string) => {
      const cfg = config();
      const { removeSilence } = await import('./alerts/operations.js');
      const context = await alertContext(cfg);
      try {
        const removed = await removeSilence(context, id);
        if (!removed) {
          process.stderr.write(`gem-watch: no silence with id ${JSON.stringify(id.slice(0, 60))}\n`);
          return EXIT.failure;
        }
        process.stdout.write(`removed ${removed.silence.id} (route ${removed.silence.route}); ${removed.released.length} held summar${removed.released.length === 1 ? 'y' : 'ies'} released\n`);
        return EXIT.ok;
      } finally {
        await context.done();
      }
    }),
  );

program
  .command('log')
  .description('the notification log: every delivery attempt with its outcome, newest first')
  .option('--job <id>', 'only deliveries about this job')
  .option('--failed', 'only failed attempts (failed, retrying)')
  .option('--limit <n>', 'at most this many entries', '100')
  .option('--json', 'print JSON')
  .action(
    action(async (options: { job?: string; failed?: boolean; limit: string; json?: boolean }) => {
      const cfg = config({ readOnly: true });
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1) {
        process.stderr.write('gem-watch: --limit must be a whole number of at least 1\n');
        return EXIT.config;
      }
      const { NotificationLog } = await import('./notify/notification-log.js');
      const { formatLogEntry } = await import('./alerts/operations.js');
      const context = await alertContext(cfg);
      try {
        const log = new NotificationLog(context.redis, context.keys, {
          maxEntries: cfg.retention.notificationLogMax,
          retentionMs: cfg.retention.deliveriesDays * 86_400_000,
        });
        const entries = await log.query({ ...(options.job !== undefined ? { jobId: options.job } : {}), failed: options.failed === true, limit });
        if (options.json) {
          writeJson(
            process.stdout,
            entries.map((e) => ({
              at: isoTime(e.at),
              taskId: e.taskId,
              route: e.route,
              channel: e.channel,
              target: e.target,
              outcome: e.outcome,
              attempt: e.attempt,
              attempts: e.attempts,
              subject: e.subject,
              kind: orNull(e.kind),
              jobId: orNull(e.jobId),
              version: orNull(e.version),
              status: orNull(e.status),
              reason: orNull(e.reason),
              detail: orNull(e.detail),
              via: orNull(e.via),
            })),
          );
        }
        else if (entries.length === 0) process.stdout.write('no deliveries logged' + (options.job || options.failed ? ' that match' : '') + '\n');
        else for (const entry of entries) process.stdout.write(`${formatLogEntry(entry)}\n`);
        return EXIT.ok;
      } finally {
        await context.done();
      }
    }),
  );

program
  .command('completion')
  .description('print a shell completion script: source <(gem-watch completion bash) in ~/.bashrc, or zsh in ~/.zshrc')
  .addArgument(new Argument('<shell>', 'bash or zsh').choices(COMPLETION_SHELLS))
  .action((shell: CompletionShell) => {
    process.stdout.write(completionScript(program, shell));
  });

await program.parseAsync(process.argv);
