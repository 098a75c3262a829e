import type { GemClient } from '../src/gem/client.js';
import type { JobStatus } from '../src/domain/job.js';

export interface NaiveCycle {
  listCalls: number;
  detailCalls: number;
  /** Jobs whose status differs from the previous cycle (or that are new). */
  changed: number;
  ms: number;
}

/**
 * The watcher gem-watch is compared with: every cycle it lists each job type and fetches every
 * job's details, then compares statuses with what it saw last time. No state store, no
 * notifications: only its API cost and time are of interest.
 */
export class NaiveWatcher {
  private readonly seen = new Map<string, JobStatus>();

  constructor(
    private readonly client: GemClient,
    private readonly jobTypes: readonly string[],
    /** Detail requests in flight at once. */
    private readonly concurrency = 32,
  ) {}

  async cycle(): Promise<NaiveCycle> {
    const started = performance.now();
    let listCalls = 0;
    let detailCalls = 0;
    let changed = 0;
    for (const jobType of this.jobTypes) {
      const list = await this.client.listJobs(jobType);
      listCalls += 1;
      const ids = list.jobs.map((job) => job.id);
      let next = 0;
      const lane = async () => {
        while (next < ids.length) {
          const id = ids[next++]!;
          const { job } = await this.client.getJob(id, jobType);
          detailCalls += 1;
          if (this.seen.get(id) !== job.status) changed += 1;
          this.seen.set(id, job.status);
        }
      };
      await Promise.all(Array.from({ length: this.concurrency }, lane));
    }
    return { listCalls, detailCalls, changed, ms: performance.now() - started };
  }
}
