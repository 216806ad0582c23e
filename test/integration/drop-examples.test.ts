// Every DiscoveryPolicy a Go Drop user has, applied unchanged with strict validation, and synced:
// the examples of Drop's discovery docs, its config/samples and its hack/dev-samples.yaml
// (test/fixtures/drop-examples/README.md). Their servers (mimir.example.com, *.svc.cluster.local)
// do not resolve here, so each ends with the named reason of its first failing query.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { DiscoveryPolicy } from '../../lib/api/index.ts';
import { FAILURE_REASONS } from '../../lib/discovery/index.ts';
import { createKube, type Kube, loadKubeConfig } from '../../lib/kube/index.ts';
import { discoverApp, ping, readPolicy } from '../discovery/cluster.ts';
import { kubeconfigPath, kubectl } from './harness.ts';

const FILES = ['discovery-md.yaml', 'discovery-md-snippets.yaml', 'config-samples.yaml', 'dev-samples.yaml'];
const path = (file: string) => new URL(`../fixtures/drop-examples/${file}`, import.meta.url).pathname;

function policyNames(file: string): string[] {
  return parseAllDocuments(readFileSync(path(file), 'utf8'))
    .map((d) => d.toJS() as { kind: string; metadata: { name: string } })
    .filter((o) => o.kind === 'DiscoveryPolicy')
    .map((o) => o.metadata.name);
}

describe('Go Drop’s DiscoveryPolicy examples', () => {
  let kube: Kube;

  beforeAll(() => {
    kube = createKube(loadKubeConfig(kubeconfigPath()), 'drop-test');
  });

  afterAll(async () => {
    for (const file of FILES)
      await kubectl(['delete', '--ignore-not-found', '-f', path(file)]).catch(() => undefined);
  });

  // Files one after another: two of them hold a policy of the same name as another file's.
  it.each(FILES)(
    '%s applies unchanged and every policy ends Synced or with a named reason',
    async (file) => {
      const applied = await kubectl(['apply', '--validate=strict', '-f', path(file)]);
      const names = policyNames(file);
      for (const name of names)
        expect(applied).toMatch(
          new RegExp(`discoverypolicy.drop.corewire.io/${name} (created|configured|unchanged)`),
        );
      await ping(discoverApp(kube, { requestTimeoutMs: 10_000 }));
      const policies: DiscoveryPolicy[] = await Promise.all(names.map((n) => readPolicy(kube, n)));
      for (const policy of policies) {
        const status = policy.status;
        const where = `${file}: ${policy.metadata.name}: ${status?.message}`;
        expect(['Synced', ...FAILURE_REASONS], where).toContain(status?.phase);
        expect(status?.phase, where).not.toBe('InvalidSpec');
        expect(status?.queryResults?.length, where).toBe(policy.spec.queries?.length);
        for (const result of status?.queryResults ?? []) {
          expect(result.reason, where).toBeDefined();
          if (result.status === 'failed') expect(result.message, where).toMatch(/\S/);
        }
        // The first failing query names the reason, e.g. a host that does not resolve, a Secret that is missing.
        const failed = status?.queryResults?.find((q) => q.status === 'failed');
        if (failed) expect(status?.message, where).toContain(`query ${failed.name} (${failed.type}): `);
      }
      const wide = await kubectl(['get', 'discoverypolicies', ...names, '-o', 'wide']);
      expect(wide).toMatch(/^NAME\s+STATUS\s+SOURCES\s+IMAGES\s+LASTSYNC\s+AGE\s+RANKING\s+MESSAGE/);
      await kubectl(['delete', '-f', path(file)]);
    },
    120_000,
  );
});
