import { randomUUID } from 'node:crypto';
import type { KubeObject } from '../kube/client.ts';
import type { WatchAction } from '../kube/watch.ts';

export type EventMode = 'Resource' | 'Reference';

export interface HttpEvent {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * The CloudEvent Knative's ApiServerSource adapter would send for this object, in binary mode
 * (knative.dev/eventing pkg/adapter/apiserver/events/events.go): same type, subject, extensions.
 */
export function apiServerEvent(
  source: string,
  action: WatchAction,
  object: KubeObject,
  plural: string,
  mode: EventMode,
): HttpEvent {
  const apiVersion = object.apiVersion ?? 'v1';
  const kind = object.kind ?? '';
  const namespace = object.metadata.namespace ?? '';
  const name = object.metadata.name;
  const data = mode === 'Resource' ? object : { kind, namespace: namespace || undefined, name, apiVersion };
  return {
    headers: {
      'ce-specversion': '1.0',
      'ce-id': randomUUID(),
      'ce-source': source,
      'ce-type': `dev.knative.apiserver.${mode === 'Resource' ? 'resource' : 'ref'}.${action}`,
      'ce-subject': `/apis/${apiVersion}/namespaces/${namespace}/${plural}/${name}`,
      'ce-time': new Date().toISOString(),
      'ce-kind': kind,
      'ce-apiversion': apiVersion,
      'ce-name': name,
      'ce-namespace': namespace,
      'content-type': 'application/json',
    },
    body: JSON.stringify(data),
  };
}

/** The CloudEvent PingSource sends on a tick (knative.dev/eventing pkg/adapter/mtping/runner.go). */
export function pingEvent(namespace: string, name: string, data: unknown): HttpEvent {
  return {
    headers: {
      'ce-specversion': '1.0',
      'ce-id': randomUUID(),
      'ce-source': `/apis/v1/namespaces/${namespace}/pingsources/${name}`,
      'ce-type': 'dev.knative.sources.ping',
      'ce-time': new Date().toISOString(),
      'content-type': 'application/json',
    },
    body: JSON.stringify(data),
  };
}
