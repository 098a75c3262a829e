/**
 * The digest's state in Redis cannot be read (a corrupt pending record). Not retried into oblivion
 * silently: it is logged on every attempt until an operator looks (`DEL <prefix>:digest:pending`
 * drops the period being sent; the next digest then starts at `<prefix>:digest:last-end`).
 */
export class DigestStateError extends Error {
  override readonly name = 'DigestStateError';
}
