/**
 * Azure identity could not produce a token (not logged in, no managed identity, Entra ID refused).
 * The message carries Azure's own explanation with anything token-like masked. Retryable: the next
 * poll asks again.
 */
export class AzureTokenError extends Error {
  override readonly name = 'AzureTokenError';
  /** Classification shared by every gem-watch error: an authentication problem. */
  readonly reason = 'auth' as const;
  readonly retryable = true;

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

export function isAzureTokenError(error: unknown): error is AzureTokenError {
  return error instanceof AzureTokenError;
}
