/**
 * The digest's state in Redis cannot be read (a corrupt open period). Not retried into oblivion
 * silently: it is logged on every attempt until an operator looks (`HDEL <prefix>:digest:open
 * <end>` drops that period; the next digest starts at `<prefix>:digest:last-end`).
 */
export class DigestStateError extends Error {
  override readonly name = 'DigestStateError';
}
