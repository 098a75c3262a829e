/**
 * Summarises a V8 .cpuprofile (from `npm run bench -- --profile`): self time by function and by
 * package or source file, so "what dominates" has a number. Usage:
 * npx tsx bench/profile-summary.ts bench/profiles/daemon-1000.cpuprofile [top=25]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const [file, topText] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: profile-summary.ts FILE.cpuprofile [top]\n');
  process.exit(2);
}
const top = Number(topText ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, index) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));
const totalUs = profile.endTime - profile.startTime;

/** node_modules/<pkg> or the project file, or (program)/(gc)/(idle). */
function place(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  if (url.startsWith('node:')) return url;
  const dist = /\/dist\/(.+)$/.exec(url);
  return dist ? `gem-watch ${dist[1]}` : url.replace(/^file:\/\//, '');
}

const byFunction = new Map<string, number>();
const byPlace = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id)!;
  const { functionName, url, lineNumber } = node.callFrame;
  const where = place(url, functionName);
  const key = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  byPlace.set(where, (byPlace.get(where) ?? 0) + us);
}
const show = (title: string, map: Map<string, number>) => {
  process.stdout.write(`\n${title}\n`);
  for (const [key, us] of [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / totalUs).toFixed(1).padStart(5)}%  ${key}\n`);
  }
};
// Inclusive time: each sample counts once for every distinct function on its stack.
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
const inclusive = new Map<string, number>();
profile.samples.forEach((id, index) => {
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const { functionName, url, lineNumber } = byId.get(at)!.callFrame;
    if (!url) continue;
    seen.add(`${functionName || '(anonymous)'} ${place(url, functionName)}:${lineNumber + 1}`);
  }
  for (const key of seen) inclusive.set(key, (inclusive.get(key) ?? 0) + (profile.timeDeltas[index] ?? 0));
});

// Categories: each sample goes to the leaf-most frame that names a known kind of work, so a native
// Intl call made by a template counts as rendering and a socket write made by ioredis as Redis.
const CATEGORIES: Array<[RegExp, string]> = [
  [/^gem-watch templates\//, 'rendering messages (templates/)'],
  [/^gem-watch gem\/normalize|^zod$/, 'normalising GEM answers (gem/normalize, zod)'],
  [/^(ioredis|redis-parser|denque|cluster-key-slot)$/, 'Redis client (ioredis)'],
  [/^(bullmq|msgpackr|cron-parser)$/, 'BullMQ'],
  [/undici|^@slack\/webhook$|^p-retry$|^retry$/, 'HTTP client (fetch/undici, @slack/webhook)'],
  [/^(pino|@pinojs\/redact|pino-std-serializers|sonic-boom|fast-redact)$/, 'logging (pino)'],
  [/^prom-client$/, 'metrics (prom-client)'],
  [/^gem-watch /, 'gem-watch code (other)'],
];
const categories = new Map<string, number>();
profile.samples.forEach((id, index) => {
  const leaf = byId.get(id)!.callFrame;
  let category: string | undefined;
  if (!leaf.url && leaf.functionName.startsWith('(')) category = leaf.functionName;
  for (let at: number | undefined = id; at !== undefined && category === undefined; at = parent.get(at)) {
    const { functionName, url } = byId.get(at)!.callFrame;
    const where = place(url, functionName);
    category = CATEGORIES.find(([pattern]) => pattern.test(where))?.[1];
  }
  category ??= 'node internals (streams, sockets, timers) and startup';
  categories.set(category, (categories.get(category) ?? 0) + (profile.timeDeltas[index] ?? 0));
});

process.stdout.write(`profile: ${(totalUs / 1e6).toFixed(1)} s wall\n`);
show('time by kind of work', categories);
show('self time by package / file', byPlace);
show('self time by function', byFunction);
show('inclusive time by function', inclusive);
