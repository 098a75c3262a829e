/**
 * Whether to print ANSI colour to a stream: only to a terminal, and never when `NO_COLOR` is set to
 * anything but the empty string (https://no-color.org). Every place gem-watch colours its output
 * (pretty logs, the demo's console) asks here, so the convention holds everywhere at once.
 */
export function colorWanted(stream: NodeJS.WritableStream | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return (stream as NodeJS.WriteStream | undefined)?.isTTY === true;
}
