import { estimateEnd } from '../domain/eta.js';
import type { Destination } from '../domain/routing.js';
import { SLACK_APP_CHANNEL } from '../domain/routing.js';
import type { TrackedJob } from '../domain/tracked-job.js';
import type { Transition } from '../domain/transition.js';
import type { NotifyTaskData } from '../notify/task.js';

/**
 * Slack app mode's liveProgress: after each detail fetch of a running job, one progress update of
 * its message per `progressEveryMinutes` slot, to each Slack app destination whose route shows jobs
 * live. The update is a notify task like any other (lock, marker, rate gate), whose id names the
 * job, its status version and the slot: replicas fetching the job in one slot add it once, and a
 * replay adds nothing. It only ever edits the job's message (the notifier never posts for it), and
 * it spends the workspace's budget for chat.update, which ends and alerts never wait for.
 */

export interface LiveProgressOptions {
  /** Routing of a transition (the pipeline's). */
  resolve: (transition: Transition) => Destination[];
  /** Each route's liveProgress period, ms, by route name (`default` included); absent = not live. */
  everyMs: (route: string) => number | undefined;
  dispatch: (tasks: NotifyTaskData[]) => Promise<unknown>;
}

export class LiveProgress {
  constructor(private readonly options: LiveProgressOptions) {}

  /** The progress tasks for a job just fetched at `now`; none unless it runs and reports progress. */
  tasksFor(tracked: TrackedJob, now: number): NotifyTaskData[] {
    const progress = tracked.job.progress;
    if (tracked.status !== 'running' || progress === undefined || !Number.isFinite(progress)) return [];
    const transition: Transition = {
      jobId: tracked.job.id,
      jobType: tracked.job.jobType,
      to: 'running',
      version: tracked.version,
      detectedAt: now,
      job: tracked.job,
      ...(tracked.generation ? { generation: tracked.generation } : {}),
    };
    const etaAt = estimateEnd(tracked.progress, now);
    const tasks: NotifyTaskData[] = [];
    for (const destination of this.options.resolve(transition)) {
      if (destination.channel !== SLACK_APP_CHANNEL) continue;
      const everyMs = this.options.everyMs(destination.route);
      if (everyMs === undefined) continue;
      tasks.push({ transition, ...destination, progressSlot: Math.floor(now / everyMs) * everyMs, ...(etaAt === undefined ? {} : { etaAt }) });
    }
    return tasks;
  }

  /** Adds the job's progress tasks for this slot, if any. */
  async check(tracked: TrackedJob, now: number): Promise<number> {
    const tasks = this.tasksFor(tracked, now);
    if (tasks.length > 0) await this.options.dispatch(tasks);
    return tasks.length;
  }
}
