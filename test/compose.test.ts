import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { imageNodeOptions } from '../bench/daemon-process.js';
import { ENV_BINDINGS } from '../src/config/env.js';

/**
 * No Docker engine runs here, so the deployment files are checked as data: the properties that
 * keep gem-watch's state safe and its shutdown graceful must not quietly go away.
 */

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const read = (name: string) => readFileSync(resolve(ROOT, name), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  entrypoint?: string[] | string;
  volumes?: string[];
  env_file?: string | string[];
  environment?: Record<string, string> | string[];
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: { test?: string[] | string };
  ports?: string[];
  stop_grace_period?: string;
}

const compose = parse(read('docker-compose.yml')) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
const services = compose.services;

function words(value: string[] | string | undefined): string {
  return Array.isArray(value) ? value.join(' ') : (value ?? '');
}

function environment(service: Service): Record<string, string> {
  if (Array.isArray(service.environment)) {
    return Object.fromEntries(service.environment.map((item) => [item.split('=')[0]!, item.slice(item.indexOf('=') + 1)]));
  }
  return service.environment ?? {};
}

function seconds(duration: string | undefined): number {
  const match = /^(\d+)(s|m)$/.exec(duration ?? '');
  return match ? Number(match[1]) * (match[2] === 'm' ? 60 : 1) : 0;
}

describe('docker-compose.yml', () => {
  it('runs redis with AOF on, noeviction, a named volume and a healthcheck', () => {
    const redis = services.redis!;
    const command = words(redis.command);
    expect(command).toMatch(/--appendonly yes/);
    expect(command).toMatch(/--maxmemory-policy noeviction/);
    const volume = redis.volumes?.find((item) => item.endsWith(':/data'));
    expect(volume).toBeDefined();
    expect(Object.keys(compose.volumes ?? {})).toContain(volume!.split(':')[0]);
    expect(words(redis.healthcheck?.test)).toContain('ping');
  });

  it('runs gem-watch from .env, after a healthy redis, with a /healthz healthcheck and a token on 0.0.0.0', () => {
    const app = services['gem-watch']!;
    expect([app.env_file].flat()).toContain('.env');
    const dependsOn = app.depends_on as Record<string, { condition?: string }>;
    expect(dependsOn.redis?.condition).toBe('service_healthy');
    expect(words(app.healthcheck?.test)).toContain('/healthz');
    const env = environment(app);
    expect(env.HTTP_HOST).toBe('0.0.0.0');
    expect(env.HTTP_AUTH_TOKEN).toMatch(/^\$\{HTTP_AUTH_TOKEN:\?.+\}$/);
    expect(env.REDIS_URL).toBe('redis://redis:6379');
    // Signals reach node only if nothing in between swallows them.
    expect(words(app.command)).not.toMatch(/\bnpm\b/);
    expect(words(app.entrypoint)).not.toMatch(/\bnpm\b/);
    // docker stop must wait longer than gem-watch's own bound (10 s grace + 10 s to close).
    expect(seconds(app.stop_grace_period)).toBeGreaterThan(20);
    for (const port of app.ports ?? []) expect(port.startsWith('127.0.0.1:')).toBe(true);
  });

  it('has mailpit for local mail', () => {
    expect(services.mailpit?.image).toMatch(/^axllent\/mailpit/);
    expect(read('.env.example')).toMatch(/^SMTP_URL=smtp:\/\/mailpit:1025$/m);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const instructions = dockerfile
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const froms = instructions.filter((line) => /^FROM\s/i.test(line));

  it('is multi-stage on a Node 22 LTS image', () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) expect(from).toMatch(/^FROM node:22[-.\w]*(\s+AS\s+\w+)?$/i);
  });

  it('runs node itself, as a non-root user', () => {
    const runtime = instructions.slice(instructions.lastIndexOf(froms[froms.length - 1]!));
    const user = runtime.filter((line) => /^USER\s/i.test(line)).pop();
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER\s+(root|0)(:|\s|$)/i);
    const cmd = runtime.filter((line) => /^CMD\s/i.test(line)).pop();
    expect(JSON.parse(cmd!.replace(/^CMD\s+/i, ''))).toEqual(['node', 'dist/cli.js', 'run']);
    expect(runtime.some((line) => /^ENTRYPOINT\s/i.test(line))).toBe(false);
  });

  const stage = (name: string) => {
    const start = instructions.findIndex((line) => new RegExp(`^FROM\\s+\\S+\\s+AS\\s+${name}$`, 'i').test(line));
    const next = instructions.findIndex((line, index) => index > start && /^FROM\s/i.test(line));
    return instructions.slice(start, next < 0 ? undefined : next);
  };

  it('checks its own health on /healthz with node (the image has no curl)', () => {
    const healthchecks = stage('runtime').filter((line) => /^HEALTHCHECK\s/i.test(line));
    expect(healthchecks).toHaveLength(1);
    const [, options, command] = /^HEALTHCHECK\s+((?:--[a-z-]+=\S+\s+)*)CMD\s+(.+)$/i.exec(healthchecks[0]!)!;
    expect(options).toMatch(/--timeout=\d+s/);
    const argv = JSON.parse(command!) as string[];
    expect(argv.slice(0, 2)).toEqual(['node', '-e']);
    expect(argv[2]).toContain('/healthz');
    expect(argv[2]).toContain('process.env.HTTP_OPS_PORT || process.env.HTTP_PORT || 9464');
  });

  it('carries the OCI labels version, revision and source, the version defaulting to package.json\'s', () => {
    const runtime = stage('runtime');
    const labels = runtime.filter((line) => /^LABEL\s/i.test(line)).join(' ');
    for (const label of ['version', 'revision', 'source']) {
      const [, arg] = new RegExp(`org\\.opencontainers\\.image\\.${label}="\\$\\{(\\w+)\\}"`).exec(labels) ?? [];
      expect(arg, label).toBeDefined();
      expect(runtime.some((line) => new RegExp(`^ARG\\s+${arg}(=|$)`).test(line)), `ARG ${arg}`).toBe(true);
    }
    const version = /^ARG\s+VERSION=(\S+)$/m.exec(runtime.join('\n'))?.[1];
    expect(version).toBe((JSON.parse(read('package.json')) as { version: string }).version);
  });

  it('runs the unit tests on the runtime\'s Node in the build stage, and installs only production dependencies', () => {
    const build = stage('build');
    expect(build[0]).toMatch(/^FROM node:22-/);
    expect(build).toContain('RUN npm run test:unit');
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(pkg.scripts['test:unit']).toContain('vitest.unit.config.ts');
    expect(stage('deps').join(' ')).toMatch(/npm ci --omit=dev/);
    expect(stage('runtime').join(' ')).toContain('COPY --from=deps --chown=root:root /app/node_modules ./node_modules');
    // What the build stage copies from test/ must pass .dockerignore, which keeps test/ out.
    const ignored = read('.dockerignore').split(/\r?\n/).map((line) => line.trim());
    const copied = build.filter((line) => /^COPY\s+test\//.test(line)).map((line) => line.split(/\s+/)[1]!);
    expect(copied.length).toBeGreaterThan(0);
    for (const source of copied) expect(ignored, source).toContain(`!${source}`);
  });

  it('bounds the V8 heap through NODE_OPTIONS, which an operator can replace', () => {
    const runtime = instructions.slice(instructions.lastIndexOf(froms[froms.length - 1]!));
    const env = runtime.find((line) => /^ENV\s+NODE_OPTIONS=/i.test(line));
    expect(env).toMatch(/^ENV NODE_OPTIONS="--max-old-space-size=\d+ --max-semi-space-size=\d+"$/);
    expect(imageNodeOptions(dockerfile)).toEqual(['--max-old-space-size=512', '--max-semi-space-size=8']);
  });
});

describe('.env.example and .dockerignore', () => {
  it('names only environment variables gem-watch reads', () => {
    const known = new Set(ENV_BINDINGS.flatMap((binding) => (binding.secret ? [binding.name, `${binding.name}_FILE`] : [binding.name])));
    const names = [...read('.env.example').matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1]!);
    expect(names.length).toBeGreaterThan(10);
    expect(names.filter((name) => !known.has(name))).toEqual([]);
    expect(names).toContain('GEM_API_KEY');
    expect(names).toContain('HTTP_AUTH_TOKEN');
  });

  it('keeps secrets and local state out of the image', () => {
    const ignored = read('.dockerignore').split(/\r?\n/).map((line) => line.trim());
    for (const entry of ['.env', 'node_modules', 'dist', '.git', 'demo-out']) expect(ignored).toContain(entry);
  });
});
