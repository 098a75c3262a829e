/**
 * `gem-watch digest` could not do what was asked. `usage` marks bad flags (the CLI exits 2 and
 * shows the help); otherwise the work failed (exit 1). The message is scrubbed and safe to print.
 */
export class DigestCommandError extends Error {
  override readonly name = 'DigestCommandError';
  constructor(
    message: string,
    readonly usage = false,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
