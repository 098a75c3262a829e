import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { imageNodeOptions } from '../bench/daemon-process.js';
import { ENV_BINDINGS } from '../src/config/env.js';
import { ConfigError, loadConfig } from '../src/config/load.js';
import { clearSecrets } from '../src/telemetry/redact.js';
import { schemaProblems } from './helpers/kubernetes-schema.js';

/**
 * deploy/kubernetes rendered by `kubectl kustomize` (the kubectl on PATH: on CI Debian's
 * kubernetes-client, whose kustomize is old, so the files keep to what both old and new accept),
 * then checked offline: every object against the Kubernetes API schema, and every Deployment
 * against what gem-watch itself reads (its variables, its secrets as files, its YAML config).
 */

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const KUBE = join(ROOT, 'deploy/kubernetes');
const OVERLAYS = readdirSync(join(KUBE, 'overlays')).sort();
const OPTIONAL = readdirSync(join(KUBE, 'optional')).sort();

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered manifests are untyped YAML */
type K8sObject = Record<string, any>;

const scratch = mkdtempSync(join(tmpdir(), 'gem-watch-k8s-'));
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  clearSecrets();
});

function kustomize(dir: string): K8sObject[] {
  let out: string;
  try {
    out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    if (failure.code === 'ENOENT') throw new Error('kubectl is not on PATH: install Debian\'s kubernetes-client (.ci/run does)');
    throw new Error(`kubectl kustomize ${relative(ROOT, dir)} failed: ${failure.stderr ?? failure.message}`);
  }
  return parseAllDocuments(out)
    .map((doc) => doc.toJSON() as K8sObject | null)
    .filter((object): object is K8sObject => object !== null);
}

/** An overlay with every optional part added, as an operator would add them. */
function withOptionalParts(overlay: string): string {
  const dir = join(scratch, `with-optional-${overlay}`);
  mkdirSync(dir, { recursive: true });
  const bases = [join(KUBE, 'overlays', overlay), ...OPTIONAL.map((name) => join(KUBE, 'optional', name))];
  // Relative paths: the old kustomize refuses absolute ones.
  writeFileSync(join(dir, 'kustomization.yaml'), `namespace: gem-watch\nbases:\n${bases.map((base) => `  - ${relative(dir, base)}`).join('\n')}\n`);
  return dir;
}

const rendered = new Map<string, K8sObject[]>(OVERLAYS.map((overlay) => [overlay, kustomize(join(KUBE, 'overlays', overlay))]));

const of = (objects: K8sObject[], kind: string) => objects.filter((object) => object.kind === kind);

function matches(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  return selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}

const SECRET_BINDINGS = ENV_BINDINGS.filter((binding) => binding.secret);
/** What gem-watch reads besides ENV_BINDINGS: its YAML file, and node's own flags. */
const OTHER_KNOWN = ['GEM_WATCH_CONFIG', 'NODE_OPTIONS'];
const KNOWN_ENV = new Set([...ENV_BINDINGS.map((binding) => binding.name), ...SECRET_BINDINGS.map((binding) => `${binding.name}_FILE`), ...OTHER_KNOWN]);

/** The volume a path in the container lies in, with the path inside it. */
function volumeAt(pod: K8sObject, container: K8sObject, path: string): { volume: K8sObject; mount: K8sObject; inside: string } | undefined {
  const mount = (container.volumeMounts ?? [])
    .filter((candidate: K8sObject) => path.startsWith(`${String(candidate.mountPath).replace(/\/$/, '')}/`))
    .sort((a: K8sObject, b: K8sObject) => b.mountPath.length - a.mountPath.length)[0];
  if (!mount) return undefined;
  const volume = (pod.volumes ?? []).find((candidate: K8sObject) => candidate.name === mount.name);
  return volume ? { volume, mount, inside: path.slice(String(mount.mountPath).replace(/\/$/, '').length + 1) } : undefined;
}

function mebibytes(quantity: string): number {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!match) throw new Error(`memory quantity ${quantity}: use Mi or Gi`);
  return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
}

describe.each(OVERLAYS)('deploy/kubernetes/overlays/%s', (overlay) => {
  const objects = rendered.get(overlay)!;
  const deployments = of(objects, 'Deployment');

  it('renders with kubectl kustomize, and every object validates against the Kubernetes API schema', () => {
    expect(deployments.length).toBeGreaterThan(0);
    expect(objects.flatMap((object) => schemaProblems(object))).toEqual([]);
    // With the optional ServiceMonitor and NetworkPolicy added, too.
    const full = kustomize(withOptionalParts(overlay));
    expect(full.map((object) => object.kind)).toEqual(expect.arrayContaining(['ServiceMonitor', 'NetworkPolicy']));
    expect(full.flatMap((object) => schemaProblems(object))).toEqual([]);
  });

  it('runs every container as non-root on a read-only root filesystem, without privileges', () => {
    for (const deployment of deployments) {
      const pod = deployment.spec.template.spec;
      expect(pod.securityContext.runAsNonRoot, deployment.metadata.name).toBe(true);
      expect(pod.securityContext.runAsUser).not.toBe(0);
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const container of pod.containers) {
        expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
        expect(container.securityContext.allowPrivilegeEscalation).toBe(false);
        expect(container.securityContext.capabilities.drop).toContain('ALL');
      }
    }
  });

  it('names only variables gem-watch reads, and gives every secret as a *_FILE mount of a Secret', () => {
    for (const deployment of deployments) {
      const pod = deployment.spec.template.spec;
      for (const container of pod.containers) {
        const env: K8sObject[] = container.env ?? [];
        const names = env.map((item) => item.name as string);
        expect(names.filter((name) => !KNOWN_ENV.has(name)), deployment.metadata.name).toEqual([]);
        expect(container.envFrom ?? [], 'envFrom would pass names no test sees').toEqual([]);
        for (const binding of SECRET_BINDINGS) {
          // Never the value itself in the environment, not even from a secretKeyRef.
          expect(names, binding.name).not.toContain(binding.name);
          const file = env.find((item) => item.name === `${binding.name}_FILE`);
          expect(file?.value, `${binding.name}_FILE`).toEqual(expect.stringMatching(/^\//));
          const where = volumeAt(pod, container, file!.value);
          expect(where?.volume.secret?.secretName, `${binding.name}_FILE must lie in a Secret's volume`).toBeTruthy();
          expect(where!.mount.readOnly).toBe(true);
          const items: K8sObject[] | undefined = where!.volume.secret.items;
          if (items) expect(items.map((item) => item.path)).toContain(where!.inside);
          else expect(where!.inside).toBe(binding.name);
        }
      }
    }
  });

  it('loads its ConfigMap and Secret files as a valid gem-watch configuration, with the ports the probes use', () => {
    const configMaps = of(objects, 'ConfigMap');
    for (const deployment of deployments) {
      const pod = deployment.spec.template.spec;
      const container = pod.containers[0];
      const env: Record<string, string> = Object.fromEntries((container.env as K8sObject[]).map((item) => [item.name, String(item.value)]));
      // Every ConfigMap a pod names is rendered beside it (a hashed name must be followed).
      for (const volume of pod.volumes.filter((candidate: K8sObject) => candidate.configMap)) {
        expect(configMaps.map((map) => map.metadata.name), `${deployment.metadata.name} volume ${volume.name}`).toContain(volume.configMap.name);
      }
      const configAt = volumeAt(pod, container, env.GEM_WATCH_CONFIG ?? '');
      const configMap = configMaps.find((map) => map.metadata.name === configAt?.volume.configMap?.name);
      const yamlText = configMap?.data?.[configAt!.inside] as string | undefined;
      expect(yamlText, 'GEM_WATCH_CONFIG names a file of a rendered ConfigMap').toBeDefined();

      // The Secret as the README tells an operator to create it: the required keys set, the rest empty.
      const dir = mkdtempSync(join(scratch, 'pod-'));
      writeFileSync(join(dir, 'config.yaml'), yamlText!);
      const secretValues: Record<string, string> = { GEM_API_KEY: 'k8s-test-key', REDIS_URL: 'redis://redis:6379', HTTP_AUTH_TOKEN: 'k8s-test-token-0123456789' };
      const loadEnv: NodeJS.ProcessEnv = { GEM_WATCH_CONFIG: join(dir, 'config.yaml') };
      for (const [name, value] of Object.entries(env)) {
        if (!name.endsWith('_FILE')) {
          if (name !== 'GEM_WATCH_CONFIG' && name !== 'NODE_OPTIONS') loadEnv[name] = value;
          continue;
        }
        const key = name.slice(0, -'_FILE'.length);
        writeFileSync(join(dir, key), secretValues[key] ?? '');
        loadEnv[name] = join(dir, key);
      }
      let config;
      try {
        config = loadConfig({ env: loadEnv });
      } catch (error) {
        if (error instanceof ConfigError) throw new Error(`${deployment.metadata.name}: ${error.message}`, { cause: error });
        throw error;
      }
      const port = (name: string) => (container.ports as K8sObject[]).find((item) => item.name === name)?.containerPort;
      expect(config.http.port).toBe(port('http'));
      expect(config.http.opsPort).toBe(port('ops'));
      // Probes go to the ops listener, which needs no token: the main port would answer 401.
      expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'ops' });
      expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'ops' });
      if (env.GEM_AUTH_PROVIDER === 'azure' || config.gem.auth.provider === 'azure') {
        expect(config.gem.auth.azureScope).toMatch(/\/\.default$/);
        expect(pod.serviceAccountName).toBeTruthy();
        expect(deployment.spec.template.metadata.labels['azure.workload.identity/use']).toBe('true');
        const account = of(objects, 'ServiceAccount').find((item) => item.metadata.name === pod.serviceAccountName);
        expect(account?.metadata.annotations?.['azure.workload.identity/client-id']).toBeTruthy();
      }
    }
  });

  it('sizes memory from BENCHMARKS.md and keeps the heap flags of the image, stops within its grace period', () => {
    const flags = imageNodeOptions(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
    const oldSpace = Number(flags.find((flag) => flag.startsWith('--max-old-space-size='))!.split('=')[1]);
    for (const deployment of deployments) {
      const container = deployment.spec.template.spec.containers[0];
      const nodeOptions = (container.env as K8sObject[]).find((item) => item.name === 'NODE_OPTIONS')?.value as string;
      expect(nodeOptions.split(/\s+/)).toEqual(flags);
      const { requests, limits } = container.resources;
      const role = container.command[container.command.indexOf('--role') + 1];
      // Measured peak RSS at 50,000 tracked jobs: 214 MB; a scheduler parses no list answers.
      if (role !== 'scheduler') expect(mebibytes(requests.memory)).toBeGreaterThanOrEqual(214);
      // V8 must reach its own heap bound (a named error) before the kernel's OOM kill: old space
      // plus the young generation and ~110 MB of code, buffers and stacks.
      expect(mebibytes(limits.memory)).toBeGreaterThanOrEqual(oldSpace + 128);
      expect(requests.cpu).toBeDefined();
      // gem-watch's own bound after SIGTERM is 20 s.
      expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(20);
      expect(container.command.slice(0, 3)).toEqual(['node', 'dist/cli.js', 'run']);
      expect(['all', 'scheduler', 'worker']).toContain(role);
    }
  });

  it('has a PodDisruptionBudget per Deployment, selectors that never cross, and a Service over every pod', () => {
    const budgets = of(objects, 'PodDisruptionBudget');
    const [service] = of(objects, 'Service');
    for (const deployment of deployments) {
      const labels = deployment.spec.template.metadata.labels;
      expect(matches(deployment.spec.selector.matchLabels, labels)).toBe(true);
      expect(budgets.filter((budget) => matches(budget.spec.selector.matchLabels, labels)), deployment.metadata.name).toHaveLength(1);
      for (const other of deployments.filter((candidate) => candidate !== deployment)) {
        expect(matches(deployment.spec.selector.matchLabels, other.spec.template.metadata.labels)).toBe(false);
      }
      expect(matches(service!.spec.selector, labels)).toBe(true);
      const named = (deployment.spec.template.spec.containers[0].ports as K8sObject[]).map((item) => item.name);
      for (const servicePort of service!.spec.ports) expect(named).toContain(servicePort.targetPort);
    }
    expect(service!.spec.ports.map((item: K8sObject) => item.name).sort()).toEqual(['http', 'ops']);
  });
});

describe('the split overlay', () => {
  it('runs one scheduler Deployment and one worker Deployment, the only difference being the role', () => {
    const deployments = of(rendered.get('scheduler-workers')!, 'Deployment');
    const roles = deployments.map((deployment) => deployment.spec.template.spec.containers[0].command.at(-1)).sort();
    expect(roles).toEqual(['scheduler', 'worker']);
    expect(of(rendered.get('all-in-one')!, 'Deployment').map((deployment) => deployment.spec.template.spec.containers[0].command.at(-1))).toEqual(['all']);
  });
});

describe('deploy/kubernetes/optional', () => {
  const objects = kustomize(withOptionalParts('all-in-one'));

  it('scrapes the ops port, which needs no token, and limits egress to DNS, HTTPS, SMTP and Redis', () => {
    const [monitor] = of(objects, 'ServiceMonitor');
    const [service] = of(objects, 'Service');
    expect(monitor!.spec.endpoints.map((endpoint: K8sObject) => [endpoint.port, endpoint.path])).toEqual([['ops', '/metrics']]);
    expect(matches(monitor!.spec.selector.matchLabels, service!.metadata.labels)).toBe(true);
    const [policy] = of(objects, 'NetworkPolicy');
    expect(policy!.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    const egressPorts = policy!.spec.egress.flatMap((rule: K8sObject) => rule.ports.map((item: K8sObject) => item.port)).sort((a: number, b: number) => a - b);
    expect(egressPorts).toEqual([25, 53, 53, 443, 465, 587, 6379, 6380]);
    for (const deployment of of(objects, 'Deployment')) {
      expect(matches(policy!.spec.podSelector.matchLabels, deployment.spec.template.metadata.labels)).toBe(true);
    }
  });
});
