// A Kube whose every request is written down with the API server's answer, as the authorizer sees
// it (verb, group, resource, namespace): what a function really did with its token.

import type { IncomingMessage } from 'node:http';
import { KubeHttp, type Method, type RequestOptions } from '../../lib/kube/http.ts';
import { Kube, KubeError, loadKubeConfig } from '../../lib/kube/index.ts';

export interface AuditedRequest {
  readonly method: Method;
  readonly path: string;
  readonly verb: string;
  readonly group: string;
  /** `pods`, `cachedimages/status` */
  readonly resource: string;
  /** '' for cluster-scoped kinds. */
  readonly namespace: string;
  /** The HTTP status; 0 when the server never answered. */
  readonly status: number;
}

class AuditedHttp extends KubeHttp {
  readonly log: AuditedRequest[] = [];

  override async request<T>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
    try {
      const body = await super.request<T>(method, path, options);
      this.log.push({ method, path, ...attributesOf(method, path, options.query), status: 200 });
      return body;
    } catch (error) {
      const status = error instanceof KubeError ? error.status : 0;
      this.log.push({ method, path, ...attributesOf(method, path, options.query), status });
      throw error;
    }
  }

  override async stream(
    path: string,
    query: Readonly<Record<string, string>>,
    signal: AbortSignal,
  ): Promise<IncomingMessage> {
    const record = (status: number) =>
      this.log.push({ method: 'GET', path, ...attributesOf('GET', path, query), status });
    try {
      const response = await super.stream(path, query, signal);
      record(response.statusCode ?? 0);
      return response;
    } catch (error) {
      // An abort (the watcher stopping) is no answer from the API server.
      if (!signal.aborted) record(error instanceof KubeError ? error.status : 0);
      throw error;
    }
  }
}

export interface AuditedKube {
  readonly kube: Kube;
  /** Every request so far, in order. */
  readonly requests: readonly AuditedRequest[];
}

/** A Kube for the kubeconfig (e.g. a ServiceAccount's, from service-accounts.ts) that records its requests. */
export function auditedKube(kubeconfigPath: string, fieldManager: string): AuditedKube {
  const http = new AuditedHttp(loadKubeConfig(kubeconfigPath));
  return { kube: new Kube(http, fieldManager), requests: http.log };
}

type Attributes = Pick<AuditedRequest, 'verb' | 'group' | 'resource' | 'namespace'>;

/**
 * The request attributes RBAC decides on, from the REST path (k8s.io/apiserver
 * pkg/endpoints/request RequestInfoFactory): `/api/v1/...` is the core group,
 * `/apis/<group>/<version>/...` any other; then `[namespaces/<ns>/]<resource>[/<name>[/<subresource>]]`.
 */
export function attributesOf(method: Method, path: string, query: RequestOptions['query'] = {}): Attributes {
  const parts = new URL(path, 'https://api').pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const [prefix, ...rest] = parts;
  const group = prefix === 'api' ? '' : (rest.shift() ?? '');
  rest.shift(); // the version
  let namespace = '';
  if (rest[0] === 'namespaces' && rest.length > 2) {
    namespace = rest[1] ?? '';
    rest.splice(0, 2);
  }
  const [resource = '', name, subresource] = rest;
  return {
    verb: verbOf(method, name !== undefined, query?.watch === true || query?.watch === 'true'),
    group,
    resource: subresource ? `${resource}/${subresource}` : resource,
    namespace,
  };
}

function verbOf(method: Method, named: boolean, watch: boolean): string {
  switch (method) {
    case 'GET':
      return named ? 'get' : watch ? 'watch' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return named ? 'delete' : 'deletecollection';
  }
}
