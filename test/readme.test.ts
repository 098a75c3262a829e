import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_BINDINGS } from '../src/config/env.js';
import { SHUTDOWN_EXIT } from '../src/lifecycle.js';
import { renderEnvTable, ROOT, TABLE_END, TABLE_START } from '../scripts/readme-env-table.js';

/** The README states facts the code owns; each is checked here so the two cannot drift apart. */

const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
const source = (path: string) => readFileSync(resolve(ROOT, path), 'utf8');

function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  if (start < 0) return '';
  const next = readme.indexOf('\n## ', start + 4);
  return readme.slice(start, next < 0 ? undefined : next);
}

describe('README', () => {
  it('starts with the two commands a newcomer runs', () => {
    expect(readme).toContain('npm run demo');
    expect(readme).toContain('npm test');
    const firstSection = readme.indexOf('\n## ');
    const configuration = readme.indexOf('\n## Configuration');
    expect(readme.indexOf('npm ci && npm run demo')).toBeGreaterThan(firstSection);
    expect(readme.indexOf('npm ci && npm run demo')).toBeLessThan(configuration);
    expect(readme.indexOf('npm test')).toBeLessThan(configuration);
  });

  it('has the environment table generated from src/config/env.ts and config/default.yaml', () => {
    const start = readme.indexOf(TABLE_START);
    const end = readme.indexOf(TABLE_END);
    expect(start, 'the table markers').toBeGreaterThanOrEqual(0);
    const table = readme.slice(start, end + TABLE_END.length);
    expect(table, 'the README table is stale: run npx tsx scripts/readme-env-table.ts').toBe(renderEnvTable());
    for (const binding of ENV_BINDINGS) expect(table).toContain(`\`${binding.name}\``);
  });

  it('documents every exit code of the CLI', () => {
    const exit = /export const EXIT = \{([^}]*)\}/.exec(source('src/cli.ts'))?.[1];
    expect(exit).toBeDefined();
    const codes = [...exit!.matchAll(/:\s*(\d+)/g)].map((match) => Number(match[1]));
    expect(codes.length).toBeGreaterThanOrEqual(4);
    for (const code of [...codes, ...Object.values(SHUTDOWN_EXIT)]) expect(readme, `exit code ${code}`).toMatch(new RegExp(`^\\| ${code} \\|`, 'm'));
  });

  it('lists every CLI command', () => {
    const commands = [...source('src/cli.ts').matchAll(/\.command\('([a-z-]+)'\)/g)].map((match) => match[1]!);
    expect(commands).toContain('run');
    const table = section('Commands');
    for (const command of commands) expect(table, `command ${command}`).toMatch(new RegExp(`\\b${command}\\b`));
  });

  it('lists every metric', () => {
    const names = [...source('src/telemetry/metrics.ts').matchAll(/name: '(gemwatch_[a-z_]+)'/g)].map((match) => match[1]!);
    expect(names.length).toBeGreaterThan(5);
    for (const name of names) expect(section('Operations'), name).toContain(`\`${name}\``);
  });

  it('shows the pictures it names', () => {
    const pictures = [...readme.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((match) => match[1]!);
    expect(pictures).toEqual(expect.arrayContaining(['docs/slack-message.png', 'docs/email.png', 'docs/status-page.png']));
    for (const picture of pictures) {
      expect(existsSync(resolve(ROOT, picture)), picture).toBe(true);
      expect(readFileSync(resolve(ROOT, picture)).subarray(1, 4).toString('latin1'), picture).toBe('PNG');
    }
  });

  it('names every Kubernetes overlay and optional part, and every secret key the Deployments mount', () => {
    const start = readme.indexOf('\n### Kubernetes\n');
    expect(start).toBeGreaterThan(0);
    // To the next `### ` heading: its own `#### Azure workload identity` belongs to it.
    const kubernetes = readme.slice(start, readme.indexOf('\n### ', start + 1));
    for (const dir of ['overlays', 'optional']) {
      for (const name of readdirSync(resolve(ROOT, 'deploy/kubernetes', dir))) expect(kubernetes, `${dir}/${name}`).toContain(`\`${dir}/${name}\``);
    }
    const created = [...kubernetes.matchAll(/--from-literal=([A-Z_]+)=/g)].map((match) => match[1]).sort();
    expect(created).toEqual(ENV_BINDINGS.filter((binding) => binding.secret).map((binding) => binding.name).sort());
  });

  it('keeps the sections the lead fills in', () => {
    expect(readme).toMatch(/^## Digest$/m);
    expect(readme).toMatch(/^## Alerts$/m);
    for (const title of ['Configuration', 'Commands', 'Deployment', 'Operations', 'Troubleshooting']) expect(readme).toMatch(new RegExp(`^## ${title}$`, 'm'));
  });
});
