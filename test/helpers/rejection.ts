/**
 * What `promise` rejected with, checked by a type guard of the error class the test expects. The
 * test fails when the promise resolves or rejects with anything else.
 */
export async function rejection<T>(promise: Promise<unknown>, is: (error: unknown) => error is T): Promise<T> {
  const outcome = await promise.then(
    () => ({ rejected: false as const }),
    (error: unknown) => ({ rejected: true as const, error }),
  );
  if (!outcome.rejected) throw new Error('expected a rejection, but the promise resolved');
  if (!is(outcome.error)) throw new Error(`rejected with something else than expected: ${String(outcome.error)}`, { cause: outcome.error });
  return outcome.error;
}
