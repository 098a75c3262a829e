import { UnrecoverableError } from 'bullmq';
import type { DigestSettings } from '../digest/digest-config.js';
import { DigestRunner, type DigestRunResult } from '../digest/digest-runner.js';
import { DigestLedger } from '../state/digest-ledger.js';
import type { Logger } from '../telemetry/logger.js';
import type { DigestSlotTaskData } from './names.js';
import type { WatchPipeline } from './pipeline.js';

/**
 * The housekeeping queue's processor of digest slots: a DigestRunner over the pipeline's Redis, its
 * transition stream and tracked jobs, queuing each period's messages on the housekeeping queue. A
 * failure is thrown for the queue's attempts; a task without a slot is given up at once.
 */
export function digestSlotProcessor(
  pipeline: Pick<WatchPipeline, 'redis' | 'keys' | 'store' | 'queueDigestDeliveries'>,
  settings: DigestSettings,
  logger: Logger,
  clock?: () => number,
): (task: DigestSlotTaskData) => Promise<{ kind: DigestRunResult['kind']; periods: number }> {
  const runner = new DigestRunner({
    ledger: new DigestLedger(pipeline.redis, pipeline.keys),
    source: pipeline.store,
    settings,
    enqueue: (tasks) => pipeline.queueDigestDeliveries(tasks),
    logger: logger.child({ component: 'digest' }),
    ...(clock ? { clock } : {}),
  });
  return async (task) => {
    if (!task || typeof task.digestSlot !== 'number' || !Number.isFinite(task.digestSlot)) {
      throw new UnrecoverableError('housekeeping task has no digest slot; given up');
    }
    const result = await runner.runSlot(task.digestSlot);
    return { kind: result.kind, periods: result.digests.length };
  };
}
