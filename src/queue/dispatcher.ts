import type { JobsOptions, Queue } from 'bullmq';
import type { OperatorAlert } from '../domain/operator-alert.js';
import type { Destination } from '../domain/routing.js';
import { jobAlertRoutingSubject, type JobAlert } from '../domain/overdue.js';
import { transitionKey, type Transition } from '../domain/transition.js';
import type { Logger } from '../telemetry/logger.js';
import type { StateStore } from '../state/state-store.js';
import { notifyTaskId, type NotifyTaskData } from '../notify/task.js';

/** Routing, as a function of the transition (pure; see domain/routing.ts). */
export type ResolveDestinations = (transition: Transition) => Destination[];

/** Routing of operator alerts (the default route's channels). */
export type ResolveAlertDestinations = (alert: OperatorAlert) => Destination[];

export interface DispatcherOptions {
  notifyQueue: Queue<NotifyTaskData>;
  store: StateStore;
  resolve: ResolveDestinations;
  resolveAlert?: ResolveAlertDestinations;
  /** Attempts, backoff and retention of notify tasks. */
  jobOptions: JobsOptions;
  logger: Logger;
  /** Test seam: called after the tasks are added and before the outbox entry is removed. */
  afterEnqueue?: (transition: Transition) => void | Promise<void>;
}

/**
 * Turns recorded transitions into notify tasks: one per destination, with ids derived from
 * (job, version, route, channel, target), so enqueuing the same transition again, from a replay,
 * a sweep or another replica, adds nothing. Only after the tasks exist is the transition's outbox
 * entry removed; a crash in between leaves it for the sweeper.
 */
export class Dispatcher {
  constructor(private readonly options: DispatcherOptions) {}

  async dispatch(transition: Transition): Promise<number> {
    const { store, resolve, jobOptions } = this.options;
    const destinations = transition.silent ? [] : resolve(transition);
    const tasks = destinations.map((destination) => {
      const data: NotifyTaskData = { transition, ...destination };
      return { name: 'transition', data, opts: { ...jobOptions, jobId: notifyTaskId(data) } };
    });
    await this.enqueue(tasks);
    await this.options.afterEnqueue?.(transition);
    const [first] = tasks;
    if (!first) {
      await store.ackOutbox(transitionKey(transition));
    } else if (!(await store.ackOutboxIfQueued(transitionKey(transition), this.options.notifyQueue.name, first.opts.jobId))) {
      // The queue's connection and the store's are two: after a failover the add may have gone to
      // the old primary and been lost. Only an acknowledgement next to the task is safe.
      this.options.logger.warn({ jobId: transition.jobId, version: transition.version }, 'notify task not found where the transition is acknowledged (lost in a failover?); left in the outbox for the sweeper');
    }
    return destinations.length;
  }

  /**
   * Queues an operator alert (credentials refused, polling failing) to the default route. The task
   * id carries the alert's kind, state and start, so the replica that saw the change adds it once.
   */
  async dispatchAlert(alert: OperatorAlert): Promise<number> {
    const destinations = this.options.resolveAlert?.(alert) ?? [];
    if (destinations.length === 0) return 0;
    await this.enqueue(
      destinations.map((destination) => {
        const data: NotifyTaskData = { alert, ...destination };
        return { name: 'alert', data, opts: { ...this.options.jobOptions, jobId: notifyTaskId(data) } };
      }),
    );
    return destinations.length;
  }

  /**
   * Queues a stuck or overdue job alert wherever the job's failure would go (see
   * `jobAlertRoutingSubject`). Task ids carry (job, version, condition), so dispatching it again,
   * from another replica or a later poll, adds nothing while the tasks are kept; the caller's
   * marker covers longer.
   */
  async dispatchJobAlert(alert: JobAlert): Promise<number> {
    const destinations = this.options.resolve(jobAlertRoutingSubject(alert));
    if (destinations.length === 0) return 0;
    await this.enqueue(
      destinations.map((destination) => {
        const data: NotifyTaskData = { jobAlert: alert, ...destination };
        return { name: 'job-alert', data, opts: { ...this.options.jobOptions, jobId: notifyTaskId(data) } };
      }),
    );
    return destinations.length;
  }

  /**
   * Queues progress updates of a job's Slack app message (liveProgress). Each task id carries the
   * job, its status version and the slot (`progressSlot`), so every replica that fetches the job
   * within one slot adds the same task, once.
   */
  async dispatchProgress(tasks: readonly NotifyTaskData[]): Promise<number> {
    await this.enqueue(tasks.map((data) => ({ name: 'progress', data, opts: { ...this.options.jobOptions, jobId: notifyTaskId(data) } })));
    return tasks.length;
  }

  /**
   * Adds notify tasks. One task (the usual case: one destination) goes in with `add`, a single
   * script call; `addBulk` builds an ioredis pipeline (~75 µs of CPU to create, with BullMQ's
   * scripts loaded) and a MULTI around it even for one task (npm run bench profile, 50,000 jobs).
   */
  private async enqueue(tasks: Array<{ name: string; data: NotifyTaskData; opts: JobsOptions }>): Promise<void> {
    const [only] = tasks;
    if (tasks.length === 1 && only) await this.options.notifyQueue.add(only.name, only.data, only.opts);
    else if (tasks.length > 1) await this.options.notifyQueue.addBulk(tasks);
  }

  /**
   * Dispatches transitions left in the outbox longer than `graceMs`: their detail task died between
   * recording and dispatching. Safe to run anywhere, any number of times.
   */
  async sweep(now: number, graceMs: number): Promise<number> {
    const pending = await this.options.store.pendingOutbox(now - graceMs);
    for (const { transition } of pending) {
      this.options.logger.info({ jobId: transition.jobId, version: transition.version }, 'dispatching a transition left in the outbox');
      await this.dispatch(transition);
    }
    return pending.length;
  }
}
