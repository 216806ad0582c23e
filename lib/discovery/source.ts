import type { DiscoverySource } from '../api/index.ts';
import type { Credentials } from './credentials.ts';
import { queryPrometheus, type SourceOutcome } from './prometheus.ts';
import { failure } from './reasons.ts';
import { queryRegistry } from './registry.ts';
import type { RegistryIo } from './registry-client.ts';

/** Runs one source of a DiscoveryPolicy. Never throws: every failure is a reason and a message. */
export function querySource(
  source: DiscoverySource,
  credentials: Credentials,
  io: RegistryIo,
): Promise<SourceOutcome> {
  if (source.type === 'prometheus' && source.prometheus)
    return queryPrometheus(source.prometheus, credentials, io);
  if (source.type === 'registry' && source.registry) return queryRegistry(source.registry, credentials, io);
  return Promise.resolve({
    ok: false,
    failure: failure('InvalidSpec', `a ${source.type} source needs the ${source.type} field`),
  });
}
