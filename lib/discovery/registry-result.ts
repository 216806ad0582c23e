import { parseImageReference } from '../image-ref.ts';
import type { ImageTemplate } from './image-template.ts';
import { ObservationsBuilder, type QueryData } from './observations.ts';
import { failure, type SourceFailure } from './reasons.ts';
import { newestTags, type VersionOf } from './tag-order.ts';

/** The tags one repository listed, in the registry's order. */
export interface TagList {
  readonly repository: string;
  readonly tags: readonly string[];
}

// Docker Hub's API hosts; images on it are named docker.io/... (distribution/reference normalize.go).
const DOCKER_HUB_API_HOSTS = new Set(['registry-1.docker.io', 'index.docker.io', 'registry.hub.docker.com']);

/** The registry part of image references for a registry's API URL: `https://registry:5000` → `registry:5000`. */
export function registryHost(url: string): string {
  const host = new URL(url).host;
  return DOCKER_HUB_API_HOSTS.has(host) ? 'docker.io' : host;
}

export type RegistryImages =
  | { readonly ok: true; readonly data: QueryData; readonly tags: number }
  | { readonly ok: false; readonly failure: SourceFailure };

export interface TagSelection {
  readonly tagFilter?: RegExp;
  readonly topX?: number;
  readonly versionOf?: VersionOf;
  /** Absent: `host/repository:tag`. */
  readonly template?: Extract<ImageTemplate, { ok: true }>;
}

/**
 * The kept tags of every repository as one sample each at `now`: within a repository the newest
 * kept tag scores 1, the next 1/2, then 1/3 …, so merged lists interleave repositories newest-first.
 */
export function registryObservations(
  host: string,
  lists: readonly TagList[],
  options: TagSelection,
  now: Date,
): RegistryImages {
  const builder = new ObservationsBuilder();
  const at = now.getTime() / 1000;
  let tags = 0;
  for (const list of lists) {
    tags += list.tags.length;
    const kept = newestTags(list.tags, options);
    for (const [rank, tag] of kept.entries()) {
      const text = options.template
        ? options.template.render({ registry: host, repository: list.repository, tag })
        : `${host}/${list.repository}:${tag}`;
      const parsed = parseImageReference(text);
      // The registry listed it, so only our own input can make it unreadable: host, repository, template.
      if (!parsed.ok) return { ok: false, failure: failure('InvalidSpec', parsed.message) };
      builder.samples(parsed.ref, [{ at, value: 1 / (rank + 1) }]);
    }
  }
  return { ok: true, data: builder.build(), tags };
}

/**
 * Why `repository` on `host` cannot name images, if it cannot. A host without a dot or port
 * (`registry`) would be read as a Docker Hub path by the kubelet, so its images could never be pulled.
 */
export function repositoryProblem(host: string, repository: string): string | undefined {
  const parsed = parseImageReference(`${host}/${repository}`);
  if (!parsed.ok) return `repository ${JSON.stringify(repository)}: ${parsed.message}`;
  if (parsed.ref.registry !== host)
    return `registry host ${JSON.stringify(host)} reads as a Docker Hub path in an image reference: use a name with a dot or a port (registry.local, registry:5000)`;
  return undefined;
}
