#!/usr/bin/env node
import { Command, Option } from 'commander';
import { ConfigError, loadConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import { createLogger } from './observability/logger.js';
import { errorText } from './observability/redact.js';

/**
 * The `gem-watch` command. Exit codes: 0 success; 1 a runtime failure; 2 invalid configuration or
 * usage; 3 a check that found a problem (`check`).
 */
export const EXIT = { ok: 0, failure: 1, config: 2, checkFailed: 3 } as const;

const program = new Command()
  .name('gem-watch')
  .description('Watches TomTom GEM jobs and announces in Slack and by email every job that finishes or fails.')
  .option('-c, --config <file>', 'YAML file merged over config/default.yaml (else GEM_WATCH_CONFIG)')
  .showHelpAfterError()
  .exitOverride((error) => {
    process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.config);
  });

/** Loads the configuration or exits 2 with every problem named. */
function config(): Config {
  try {
    return loadConfig({ file: program.opts<{ config?: string }>().config });
  } catch (error) {
    if (error instanceof ConfigError) {
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
  .description('validate the configuration, then Redis, the GEM API, SMTP (and Slack with --send)')
  .option('--send', 'also post a test message to each Slack webhook')
  .action(
    action(async (options: { send?: boolean }) => {
      const cfg = config();
      const { runChecks } = await import('./check.js');
      const ok = await runChecks(cfg, { send: options.send === true, out: process.stdout, logger: quietLogger(cfg) });
      return ok ? EXIT.ok : EXIT.checkFailed;
    }),
  );

program
  .command('poll-once')
  .description('one full poll cycle for every job type, printing the transitions found')
  .action(
    action(async () => {
      const cfg = config();
      const { createApp } = await import('./main.js');
      const app = createApp(cfg, { role: 'scheduler', logger: quietLogger(cfg) });
      try {
        const transitions = await app.pipeline.pollOnce();
        for (const t of transitions) {
          process.stdout.write(`${t.jobType}\t${t.jobId}\t${t.from ?? '(new)'} -> ${t.to}\tv${t.version}\n`);
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
      const cfg = config();
      const { printStatus } = await import('./status.js');
      await printStatus(cfg, { all: options.all === true, json: options.json === true, out: process.stdout, logger: quietLogger(cfg) });
    }),
  );

program
  .command('test-notify')
  .description('send a sample message, built from sample data, through each configured channel')
  .option('--channel <name>', 'only this channel (slack, email)')
  .option('--target <name>', 'only this webhook name (Slack) or route (email)')
  .addOption(new Option('--sample <kind>', 'what to send').choices(['finished', 'failed', 'alert']).default('finished'))
  .action(
    action(async (options: { channel?: string; target?: string; sample: 'finished' | 'failed' | 'alert' }) => {
      const cfg = config();
      const { createNotifiers } = await import('./notify/registry.js');
      const { testNotify, UnknownChannelError } = await import('./notify/operations.js');
      const notifiers = createNotifiers(cfg, quietLogger(cfg));
      try {
        const results = await testNotify({ notifiers, channel: options.channel, target: options.target, sample: options.sample });
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
      const cfg = config();
      const { Queue } = await import('bullmq');
      const { createRedis } = await import('./queue/connection.js');
      const { QUEUE_NAMES } = await import('./queue/names.js');
      const { Keys } = await import('./state/keys.js');
      const { listFailedDeliveries, retryFailedDeliveries } = await import('./notify/operations.js');
      const logger = quietLogger(cfg);
      const redis = createRedis(cfg.redis.url, logger, 'cli', { maxRetriesPerRequest: 1 });
      const queue = new Queue(QUEUE_NAMES.notify, { connection: redis, prefix: cfg.redis.prefix });
      queue.on('error', () => {});
      try {
        if (options.retry) {
          const ids = Array.isArray(options.retry) ? options.retry : undefined;
          const result = await retryFailedDeliveries({ queue, ids, redis, keys: new Keys(cfg.redis.prefix) });
          if (options.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
          else {
            process.stdout.write(`re-queued ${result.retried.length} deliver${result.retried.length === 1 ? 'y' : 'ies'}\n`);
            if (result.alreadyDelivered.length > 0) process.stdout.write(`left alone (already delivered): ${result.alreadyDelivered.join(', ')}\n`);
            if (result.notFound.length > 0) process.stdout.write(`not failed tasks: ${result.notFound.join(', ')}\n`);
          }
          return EXIT.ok;
        }
        const failed = await listFailedDeliveries({ queue });
        if (options.json) process.stdout.write(`${JSON.stringify(failed, null, 2)}\n`);
        else if (failed.length === 0) process.stdout.write('no failed deliveries\n');
        else {
          for (const f of failed) {
            const at = f.failedAt ? new Date(f.failedAt).toISOString() : '';
            process.stdout.write(`${at}  ${f.channel}/${f.target} (route ${f.route})  ${f.subject}  after ${f.attemptsMade} attempt(s): ${f.failedReason}\n  id ${f.id}\n`);
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
    const { runDemo } = await import('./demo/run-demo.js');
    try {
      await runDemo({ outDir: options.out });
    } catch (error) {
      process.stderr.write(`gem-watch demo: ${errorText(error)}\n`);
      process.exit(EXIT.failure);
    }
  });

await program.parseAsync(process.argv);
