/**
 * Packages only the demo (and the tests' and benchmark's simulator) uses. They are
 * devDependencies, so the production image (`npm ci --omit=dev`) does not carry them; `gem-watch
 * demo` there says so instead of failing with a module stack trace.
 */
export const DEMO_ONLY_PACKAGES: readonly string[] = ['smtp-server', 'mailparser'];

/**
 * When loading the demo failed because a demo-only package is not installed, the sentence to
 * print; otherwise undefined (the error is something else and is reported as it is).
 */
export function missingDemoPackage(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return undefined;
  const message = error instanceof Error ? error.message : '';
  const name = DEMO_ONLY_PACKAGES.find((candidate) => message.includes(`'${candidate}'`));
  if (!name) return undefined;
  return `the demo needs ${name}, a development dependency this installation leaves out (the Docker image has only what the daemon needs): run it from a checkout after npm ci`;
}
