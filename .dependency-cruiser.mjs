/**
 * The layers of src/, checked by dependency-cruiser (`npm run lint`). Folders are floors; imports
 * point down only, and no two folders import each other. docs/architecture.md opens with the
 * picture these rules keep true; test/layers.test.ts proves that every rule still rejects a wrong
 * import, so a typo in a pattern cannot turn one into a no-op.
 */

/**
 * The floors, bottom-up. A folder may import the folders on the floors below its own and, on a
 * floor of several folders, the others on its floor (the folder-cycle rule keeps that one-way);
 * `only` narrows that to the folders named. The composition root (src/*.ts and demo/) sits on top
 * and may import anything, so it has no row here.
 */
const FLOORS = [
  // Reads files and the environment, so not pure, but needs nothing of ours: every floor reads it.
  { folders: ['config'], only: [] },
  // The ground floor: the model and pure decisions, tested without servers.
  { folders: ['domain'], only: [] },
  { folders: ['telemetry'] },
  // Pure renderers: a transition in, a message out.
  { folders: ['templates'], only: ['domain'] },
  { folders: ['http-client'] },
  // Every Redis key and script. A store reports what happened and leaves logging, counting and
  // settings to its callers, so it needs neither telemetry/ nor config/.
  { folders: ['state'], only: ['domain'] },
  { folders: ['gem'] },
  { folders: ['notify', 'digest', 'alerts'] },
  { folders: ['queue'] },
  { folders: ['observability'] },
  // A fake GEM API that shared the client's schemas or normalisation would be faithful to our
  // bugs, not to the API: it may speak only the model.
  { folders: ['simulator'], only: ['domain'] },
];

const COMPOSITION = ['demo'];

/** Layers that must stay pure: no I/O, no clock, nothing of ours above them. */
const PURE = ['domain', 'templates'];

/** Node built-ins that reach outside the process (files, network, processes, the host) or the clock. */
const IO_BUILTINS = [
  'fs', 'fs/promises', 'net', 'http', 'http2', 'https', 'tls', 'dgram', 'dns', 'dns/promises',
  'child_process', 'cluster', 'worker_threads', 'os', 'readline', 'repl', 'inspector', 'v8',
  'process', 'perf_hooks', 'timers', 'timers/promises',
];

/**
 * The npm packages pure code may import. An allow list rather than a deny list: a new package
 * with I/O (a client, a logger, a transport) is rejected until someone decides it is pure.
 */
const PURE_PACKAGES = ['zod', '@slack/types'];

const escape = (name) => name.replace(/[.*+?^${}()|[\]\\/-]/g, (c) => `\\${c}`);
const under = (folders) => `^src/(${folders.map(escape).join('|')})/`;

const ALL_FOLDERS = [...FLOORS.flatMap((floor) => floor.folders), ...COMPOSITION];

/** One rule per folder: everything of ours outside the folder and the floors it may import. */
function floorRules() {
  return FLOORS.flatMap((floor, level) => {
    const below = FLOORS.slice(0, level).flatMap((lower) => lower.folders);
    return floor.folders.map((folder) => {
      const allowed = floor.only ?? [...below, ...floor.folders.filter((other) => other !== folder)];
      const name =
        floor.only === undefined
          ? `${folder}-imports-down-only`
          : floor.only.length === 0
            ? `${folder}-imports-nothing-of-ours`
            : `${folder}-imports-only-${floor.only.join('-')}`;
      const says =
        allowed.length === 0 ? 'nothing of ours outside itself' : `only ${allowed.map((f) => `${f}/`).join(', ')}`;
      return {
        name,
        severity: 'error',
        comment: `${folder}/ may import ${says}.`,
        from: { path: under([folder]) },
        to: { path: '^src/', pathNot: under([folder, ...allowed]) },
      };
    });
  });
}

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    ...floorRules(),
    {
      name: 'pure-core-no-io-builtins',
      severity: 'error',
      comment: `${PURE.join('/ and ')}/ stay pure: no Node built-in that reaches files, network, processes, the host or the clock.`,
      from: { path: under(PURE) },
      to: { dependencyTypes: ['core'], path: `^(node:)?(${IO_BUILTINS.map(escape).join('|')})$` },
    },
    {
      name: 'pure-core-only-pure-packages',
      severity: 'error',
      comment: `${PURE.join('/ and ')}/ may import only the npm packages known to be pure: ${PURE_PACKAGES.join(', ')}.`,
      from: { path: under(PURE) },
      to: {
        dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-bundled', 'npm-no-pkg', 'npm-unknown'],
        pathNot: `(^|/)node_modules/(${PURE_PACKAGES.map(escape).join('|')})/`,
      },
    },
    {
      name: 'every-folder-has-a-floor',
      severity: 'error',
      comment: 'A folder missing from FLOORS in .dependency-cruiser.mjs would escape every layer rule: give it a floor.',
      from: {},
      to: { path: '^src/[^/]+/', pathNot: under(ALL_FOLDERS) },
    },
    {
      name: 'no-folder-cycle',
      severity: 'error',
      comment: 'Two folders that import each other are one layer in two places.',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A module cycle, type-only imports included: a type is a dependency too.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that does not resolve escapes every rule above.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // Tests beside their code import vitest and fixtures from anywhere; they are not a layer.
    exclude: { path: '\\.test\\.ts$' },
    doNotFollow: { path: 'node_modules' },
    // `import type` is a dependency as well: a type from a higher floor ties the floors together.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['es6', 'cjs'],
  },
};
