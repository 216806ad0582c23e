import type { Credentials } from './credentials.ts';
import { imageTemplate } from './image-template.ts';
import type { QueryIo, QueryOutcome } from './io.ts';
import { failure } from './reasons.ts';
import { RegistryClient } from './registry-client.ts';
import { registryHost, registryObservations, repositoryProblem, type TagList } from './registry-result.ts';
import { parseVersion, versionReader } from './tag-order.ts';

/** A registry query as discover runs it (the sources[] form has no tagSeek, maxScan or template). */
export interface RegistryQueryConfig {
  readonly url: string;
  readonly repositories: readonly string[];
  readonly tagFilter?: string;
  readonly topX?: number;
  readonly tagSeek?: string;
  /** Absent: every tag (the sources[] form). */
  readonly maxScan?: number;
  readonly versionPattern?: string;
  readonly imageTemplate?: string;
}

/**
 * Runs a registry query: each repository's tags from tagSeek on, at most maxScan of them, then
 * the newest kept per tagFilter and topX, named by imageTemplate. The pipeline form reads versions
 * as Go Drop does (versionPattern, else the tag or a version embedded in it); sources[] strictly.
 */
export async function queryRegistry(
  config: RegistryQueryConfig,
  credentials: Credentials,
  io: QueryIo,
): Promise<QueryOutcome> {
  const host = registryHost(config.url);
  const template = imageTemplate(config.imageTemplate);
  if (!template.ok) return { ok: false, failure: failure('InvalidSpec', template.problem) };
  if (config.imageTemplate === undefined)
    for (const repository of config.repositories) {
      const problem = repositoryProblem(host, repository);
      if (problem) return { ok: false, failure: failure('InvalidSpec', problem) };
    }
  const client = new RegistryClient(config.url, credentials, io);
  const lists: TagList[] = [];
  let capped = 0;
  for (const repository of config.repositories) {
    const listed = await client.tags(repository, {
      ...(config.tagSeek !== undefined ? { after: config.tagSeek } : {}),
      ...(config.maxScan !== undefined ? { max: config.maxScan } : {}),
    });
    if (!listed.ok) return listed;
    if (listed.capped) capped++;
    lists.push({ repository, tags: listed.items });
  }
  const pipelineForm = config.maxScan !== undefined;
  const found = registryObservations(
    host,
    lists,
    {
      ...(config.tagFilter !== undefined ? { tagFilter: new RegExp(config.tagFilter) } : {}),
      ...(config.topX !== undefined ? { topX: config.topX } : {}),
      versionOf: pipelineForm
        ? versionReader(config.versionPattern !== undefined ? new RegExp(config.versionPattern) : undefined)
        : parseVersion,
      ...(config.imageTemplate !== undefined ? { template } : {}),
    },
    io.now,
  );
  if (!found.ok) return found;
  const seek = config.tagSeek !== undefined ? ` after ${JSON.stringify(config.tagSeek)}` : '';
  const cap = capped ? `; stopped at maxScan ${config.maxScan} in ${capped}` : '';
  return {
    ok: true,
    data: found.data,
    summary: `${found.data.size} of ${found.tags} tags${seek} in ${lists.length} repositories${cap}`,
  };
}
