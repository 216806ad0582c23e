// The users' discovery examples (examples/, as ../shared/examples has them), pointed at the test servers: only the
// endpoint or url and the Secret's credentials change; queries, filters and names stay as written.
import { readFileSync } from 'node:fs';
import { parseAllDocuments, stringify } from 'yaml';
import type { KubeObject } from '../../lib/kube/index.ts';
import type { DiscoveryServers } from './servers.ts';

const EXAMPLES = new URL('../../examples/', import.meta.url);

export type ExampleObject = KubeObject & Record<string, unknown>;

function load(file: string): ExampleObject[] {
  return parseAllDocuments(readFileSync(new URL(file, EXAMPLES), 'utf8')).map(
    (d) => d.toJS() as ExampleObject,
  );
}

type Source = { prometheus?: { endpoint: string }; registry?: { url: string } };

function retarget(
  objects: readonly ExampleObject[],
  credentials: Readonly<Record<string, string>>,
  endpoint: (source: Source) => void,
): ExampleObject[] {
  return objects.map((object) => {
    const copy = structuredClone(object) as ExampleObject & { spec?: { sources?: Source[] } };
    if (copy.kind === 'Secret') return { ...copy, stringData: { ...credentials } };
    if (copy.kind === 'DiscoveryPolicy') for (const source of copy.spec?.sources ?? []) endpoint(source);
    return copy;
  });
}

/** discovery-prometheus.yaml: Secret prometheus-creds, DiscoveryPolicy popular-build-images, CachedImageSet auto-cached-ci-images. */
export function prometheusExample(servers: DiscoveryServers): ExampleObject[] {
  return retarget(load('discovery-prometheus.yaml'), servers.prometheusSecret, (source) => {
    if (source.prometheus) source.prometheus.endpoint = servers.prometheus.url;
  });
}

/** discovery-registry.yaml: Secret registry-api-creds, DiscoveryPolicy latest-app-tags, CachedImageSet registry-discovered-apps. */
export function registryExample(servers: DiscoveryServers): ExampleObject[] {
  return retarget(load('discovery-registry.yaml'), servers.registrySecret, (source) => {
    if (source.registry) source.registry.url = servers.basicRegistry.url;
  });
}

/** The objects as one YAML stream, for `kubectl apply -f -` (or `kubectl delete -f -`). */
export function asYaml(objects: readonly ExampleObject[]): string {
  return objects.map((o) => stringify(o)).join('---\n');
}
