import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';

/**
 * Offline validation of Kubernetes objects against the API's OpenAPI schema, as packaged by
 * kubernetes-models (and its prometheus-operator models for the ServiceMonitor CRD).
 *
 * kubernetes-models checks types, enums, patterns and required fields but lets unknown fields
 * through, while an API server with strict field validation (kubectl's default since 1.27) refuses
 * them: a misspelt `readOnlyRootFileSystem` would be dropped in silence by an older one. So every
 * object the validator is given is watched, and a field it never looked at is one the schema does
 * not know. The compiled validators read each property the schema declares and iterate the keys of
 * maps (labels, data), so "never read" is exactly "not in the schema".
 */

interface ModelClass {
  prototype: { validate(): void };
}

/** `apiVersion/kind` of every kind the manifests may hold; anything else is a problem of its own. */
const MODELS: Record<string, ModelClass> = {
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
};

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A copy of the value whose every object records the keys read from it, by JSON path. */
function watched(value: Json, path: string, read: Map<string, Set<string>>, keys: Map<string, string[]>): Json {
  if (Array.isArray(value)) return value.map((item, index) => watched(item, `${path}/${index}`, read, keys));
  if (value === null || typeof value !== 'object') return value;
  const seen = new Set<string>();
  read.set(path, seen);
  keys.set(path, Object.keys(value));
  const copy: Record<string, Json> = {};
  for (const [key, item] of Object.entries(value)) copy[key] = watched(item, `${path}/${key}`, read, keys);
  return new Proxy(copy, {
    get(target, key, receiver) {
      if (typeof key === 'string') seen.add(key);
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
}

/** The object's kind, name and every schema problem: wrong types, missing fields, unknown fields. */
export function schemaProblems(object: Record<string, Json>): string[] {
  const id = `${String(object.kind)} ${String((object.metadata as Record<string, Json> | undefined)?.name ?? '?')}`;
  const model = MODELS[`${String(object.apiVersion)}/${String(object.kind)}`];
  if (!model) return [`${id}: no schema known for ${String(object.apiVersion)} ${String(object.kind)}`];
  const read = new Map<string, Set<string>>();
  const keys = new Map<string, string[]>();
  const subject = watched(object, '', read, keys);
  try {
    model.prototype.validate.call(subject);
  } catch (error) {
    return [`${id}: ${(error as Error).message}`];
  }
  const problems: string[] = [];
  for (const [path, names] of keys) {
    const seen = read.get(path)!;
    for (const name of names) if (!seen.has(name)) problems.push(`${id}: unknown field ${path}/${name}`);
  }
  return problems;
}
