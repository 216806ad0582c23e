import type { RegistrySource } from '../api/index.ts';
import type { Credentials } from './credentials.ts';
import type { SourceOutcome } from './prometheus.ts';
import { failure } from './reasons.ts';
import { RegistryClient, type RegistryIo } from './registry-client.ts';
import { registryCandidates, registryHost, repositoryProblem, type TagList } from './registry-result.ts';

/** Runs a registry source: every repository's tags (all pages), the newest kept per tagFilter and topX. */
export async function queryRegistry(
  source: RegistrySource,
  credentials: Credentials,
  io: RegistryIo,
): Promise<SourceOutcome> {
  const host = registryHost(source.url);
  for (const repository of source.repositories) {
    const problem = repositoryProblem(host, repository);
    if (problem) return { ok: false, failure: failure('InvalidSpec', problem) };
  }
  const client = new RegistryClient(source.url, credentials, io);
  const lists: TagList[] = [];
  for (const repository of source.repositories) {
    const listed = await client.tags(repository);
    if (!listed.ok) return listed;
    lists.push({ repository, tags: listed.items });
  }
  const found = registryCandidates(host, lists, {
    ...(source.tagFilter !== undefined ? { tagFilter: new RegExp(source.tagFilter) } : {}),
    ...(source.topX !== undefined ? { topX: source.topX } : {}),
  });
  if (!found.ok) return found;
  return {
    ok: true,
    candidates: found.candidates,
    summary: `${found.candidates.length} of ${found.tags} tags in ${lists.length} repositories`,
  };
}
