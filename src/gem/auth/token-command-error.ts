/** How a token command failed. */
export type TokenCommandFailure = 'spawn' | 'exit' | 'timeout' | 'empty' | 'badOutput' | 'tooLarge';

export interface TokenCommandErrorOptions {
  cause?: unknown;
  exitCode?: number | null;
  signal?: string | null;
}

/**
 * The bearer token command (GEM_BEARER_TOKEN_COMMAND) did not yield a token. The message names the
 * failure but never quotes the command's output: on success that output is the token, and on
 * failure it may still hold one. Retryable: the next poll runs the command again.
 */
export class TokenCommandError extends Error {
  override readonly name = 'TokenCommandError';
  /** Classification shared by every gem-watch error: an authentication problem. */
  readonly reason = 'auth' as const;
  readonly retryable = true;
  readonly exitCode: number | null | undefined;
  readonly signal: string | null | undefined;

  constructor(
    readonly failure: TokenCommandFailure,
    message: string,
    options: TokenCommandErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = options.exitCode;
    this.signal = options.signal;
  }
}

export function isTokenCommandError(error: unknown): error is TokenCommandError {
  return error instanceof TokenCommandError;
}
