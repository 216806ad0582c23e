import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { API_VERSION, KIND_NAMES, type KindName, PLURAL } from './api/index.ts';
import type { Kube, KubeObject } from './kube/index.ts';

// What `npm start` installs on a cluster it is pointed at: the CRDs, the Drop namespace and, if
// asked, the examples. Server-side apply under one field manager, so running it again is harmless.

export const CRDS_DIR = new URL('../crds/', import.meta.url).pathname;
export const EXAMPLES_DIR = new URL('../examples/', import.meta.url).pathname;

const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

interface Crd extends KubeObject {
  readonly status?: { readonly conditions?: readonly { readonly type: string; readonly status: string }[] };
}

/** Every object in the YAML files of `dir`, in file order. */
export function readManifests(dir: string): KubeObject[] {
  return readdirSync(dir)
    .filter((file) => /\.ya?ml$/.test(file))
    .sort()
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((d) => d.toJS() as KubeObject),
    )
    .filter((object) => object?.kind);
}

/** Applies the CRDs and waits until the API server serves each of them. */
export async function installCrds(kube: Kube, dir = CRDS_DIR, timeoutMs = 30_000): Promise<string[]> {
  const crds = readManifests(dir);
  for (const crd of crds) await kube.apply(`${CRDS}/${crd.metadata.name}`, crd);
  const deadline = Date.now() + timeoutMs;
  for (const crd of crds) {
    for (;;) {
      const current = await kube.get<Crd>(`${CRDS}/${crd.metadata.name}`);
      if (current?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline)
        throw new Error(`CRD ${crd.metadata.name} is not Established after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return crds.map((c) => c.metadata.name);
}

/** The namespace Drop runs in, enforcing the `restricted` Pod Security Standard its pull pods meet. */
export async function ensureNamespace(kube: Kube, namespace: string): Promise<void> {
  await kube.apply(`/api/v1/namespaces/${namespace}`, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: namespace, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
  });
}

/** Applies Drop's kinds and Secrets (the kinds the examples hold); anything else is refused by name. */
export async function applyObjects(
  kube: Kube,
  objects: readonly KubeObject[],
  namespace: string,
): Promise<void> {
  for (const object of objects) {
    const name = encodeURIComponent(object.metadata.name);
    if (object.apiVersion === API_VERSION && KIND_NAMES.includes(object.kind as KindName)) {
      await kube.apply(`/apis/${API_VERSION}/${PLURAL[object.kind as KindName]}/${name}`, object);
    } else if (object.apiVersion === 'v1' && object.kind === 'Secret') {
      const ns = object.metadata.namespace ?? namespace;
      await kube.apply(`/api/v1/namespaces/${ns}/secrets/${name}`, {
        ...object,
        metadata: { ...object.metadata, namespace: ns },
      });
    } else {
      throw new Error(
        `cannot apply ${object.apiVersion} ${object.kind} ${object.metadata.name}: not a Drop kind or Secret`,
      );
    }
  }
}
