import type { DigestTrackedJob } from '../domain/digest.js';
import type { Transition } from '../domain/transition.js';

/**
 * What the digest reads. The state store (state/state-store.ts) has both methods; this interface
 * keeps the digest free of the rest of it.
 */
export interface DigestSource {
  /**
   * Transitions detected between `fromMs` and `toMs`, both inclusive (XRANGE on the transitions
   * stream, whose ids are the detection time in ms).
   */
  readTransitions(fromMs: number, toMs: number): Promise<Transition[]>;
  /** Every tracked job now. `TrackedJob[]` fits. */
  listTracked(): Promise<DigestTrackedJob[]>;
}
