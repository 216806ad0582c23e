import { parseImageReference } from '../image-ref.ts';
import { type Candidate, candidateOf } from './candidate.ts';
import { failure, type SourceFailure } from './reasons.ts';
import { newestTags } from './tag-order.ts';

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
  | { readonly ok: true; readonly candidates: readonly Candidate[]; readonly tags: number }
  | { readonly ok: false; readonly failure: SourceFailure };

/**
 * The kept tags of every repository as candidates. Within a repository the newest kept tag scores
 * 1, the next 1/2, then 1/3 …, so merged lists interleave repositories newest-first.
 */
export function registryCandidates(
  host: string,
  lists: readonly TagList[],
  options: { readonly tagFilter?: RegExp; readonly topX?: number },
): RegistryImages {
  const candidates: Candidate[] = [];
  let tags = 0;
  for (const list of lists) {
    tags += list.tags.length;
    const kept = newestTags(list.tags, options);
    for (const [rank, tag] of kept.entries()) {
      const parsed = parseImageReference(`${host}/${list.repository}:${tag}`);
      // The registry listed it, so only our own input can make it unreadable: the host or the repository.
      if (!parsed.ok) return { ok: false, failure: failure('InvalidSpec', parsed.message) };
      candidates.push(candidateOf(parsed.ref, 1 / (rank + 1), 'registry'));
    }
  }
  return { ok: true, candidates, tags };
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
