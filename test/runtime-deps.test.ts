import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEMO_ONLY_PACKAGES } from '../src/demo/demo-dependencies.js';

/**
 * The Docker image installs `dependencies` only (npm ci --omit=dev): runtime code under src/ must
 * not import a dev dependency (mailparser, playwright-core, vitest, ...) or a package it does not
 * declare (one that happens to be hoisted from another package's dependencies). The demo and its
 * simulator (src/demo, src/simulator) may also use the demo-only packages, which the image leaves
 * out; the daemon reaches them only through the `demo` command's dynamic import.
 */

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const DEMO_DIRS = [join(ROOT, 'src', 'demo'), join(ROOT, 'src', 'simulator')];
const isDemoFile = (file: string) => DEMO_DIRS.some((dir) => file.startsWith(`${dir}/`));

function runtimeFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return runtimeFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

describe('runtime imports', () => {
  it('come only from node itself and the declared dependencies', () => {
    const builtins = new Set(builtinModules);
    const problems: string[] = [];
    for (const file of runtimeFiles(join(ROOT, 'src'))) {
      const source = readFileSync(file, 'utf8');
      // Static imports and exports (type-only ones vanish at compile time) and dynamic imports.
      const specifiers = [
        ...[...source.matchAll(/^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)].map((match) => match[1]!),
        ...[...source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((match) => match[1]!),
      ];
      for (const specifier of specifiers) {
        if (specifier.startsWith('.') || specifier.startsWith('node:') || builtins.has(specifier)) continue;
        const name = packageOf(specifier);
        if (name in pkg.dependencies) continue;
        if (isDemoFile(file) && DEMO_ONLY_PACKAGES.includes(name)) continue;
        problems.push(`${file.slice(ROOT.length + 1)} imports ${specifier}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('leave the demo-only packages out of the production install, and reach the demo only by dynamic import', () => {
    for (const name of DEMO_ONLY_PACKAGES) {
      expect(pkg.dependencies, name).not.toHaveProperty(name);
      expect(pkg.devDependencies, name).toHaveProperty(name);
    }
    const problems: string[] = [];
    for (const file of runtimeFiles(join(ROOT, 'src')).filter((candidate) => !isDemoFile(candidate))) {
      const source = readFileSync(file, 'utf8');
      for (const match of source.matchAll(/^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)) {
        if (/(^|\/)(demo|simulator)\//.test(match[1]!)) problems.push(`${file.slice(ROOT.length + 1)} imports ${match[1]} statically`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('keeps the demo-only packages (smtp-server, mailparser) out of what the daemon and the other commands load', () => {
    // Only static imports: cli.ts loads each command's code with import() when that command runs,
    // so what the demo pulls in is loaded by `gem-watch demo` alone.
    const seen = new Set<string>();
    const packages = new Map<string, string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      for (const match of source.matchAll(/^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)) {
        const specifier = match[1]!;
        if (specifier.startsWith('.')) visit(resolve(file, '..', specifier.replace(/\.js$/, '.ts')));
        else if (!specifier.startsWith('node:')) packages.set(packageOf(specifier), file.slice(ROOT.length + 1));
      }
    };
    visit(join(ROOT, 'src', 'cli.ts'));
    visit(join(ROOT, 'src', 'main.ts'));
    expect(seen.size).toBeGreaterThan(20);
    expect(packages.has('bullmq')).toBe(true);
    for (const demoOnly of ['smtp-server', 'mailparser']) expect(packages.get(demoOnly), demoOnly).toBeUndefined();
  });
});

