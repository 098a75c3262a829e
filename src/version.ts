import { readFileSync } from 'node:fs';

let cached: string | undefined;

/**
 * gem-watch's version, from package.json (`../package.json` from both src/ and dist/; the Docker
 * image copies it). Read once, on first use.
 */
export function packageVersion(): string {
  cached ??= (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return cached;
}
