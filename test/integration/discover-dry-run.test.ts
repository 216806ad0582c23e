// The dry run: a policy file's queries against the real Prometheus, its ranking printed with
// every contribution, and not one write to the cluster.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { dryRun } from '../../functions/discover/dry-run.ts';
import { createKube, loadKubeConfig, paths } from '../../lib/kube/index.ts';
import { cleanUp, createSecret, NAMESPACE } from '../discovery/cluster.ts';
import { DATA_END, RANKING_QUERY } from '../discovery/data.ts';
import { type DiscoveryServers, startDiscoveryServers } from '../discovery/servers.ts';
import { auditedKube } from './audited-kube.ts';
import { kubeconfigPath, kubectlResult, uniqueName } from './harness.ts';

describe('npm run discover:dry-run', () => {
  let servers: DiscoveryServers;
  let dir: string;
  let file: string;
  const name = uniqueName('dry-run');
  const secret = uniqueName('prom-creds');
  const admin = () => createKube(loadKubeConfig(kubeconfigPath()), 'drop-test');

  beforeAll(async () => {
    servers = await startDiscoveryServers();
    await createSecret(admin(), secret, { ...servers.prometheusSecret });
    dir = mkdtempSync(join(tmpdir(), 'drop-dry-run-'));
    file = join(dir, 'policy.yaml');
    const policy = {
      apiVersion: 'drop.corewire.io/v1alpha1',
      kind: 'DiscoveryPolicy',
      metadata: { name },
      spec: {
        maxImages: 3,
        queries: [
          {
            name: 'usage',
            type: 'prometheus',
            prometheus: { endpoint: servers.prometheus.url, query: RANKING_QUERY, lookback: '168h' },
            secretRef: { name: secret },
          },
        ],
        signals: [
          { name: 'total', query: 'usage', type: 'aggregate', aggregate: { method: 'sum' } },
          { name: 'peak', query: 'usage', type: 'aggregate', aggregate: { method: 'max' } },
        ],
        ranking: {
          strategy: 'weightedSum',
          weightedSum: {
            terms: [
              { signal: 'total', weight: '700m' },
              { signal: 'peak', weight: '300m' },
            ],
          },
        },
      },
    };
    writeFileSync(file, stringify(policy));
  });

  afterAll(async () => {
    await cleanUp(admin(), { policies: [], secrets: [secret] });
    await servers?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('prints the ranking with each image’s contributions and writes nothing', async () => {
    const audited = auditedKube(kubeconfigPath(), 'drop-dry-run');
    const result = await dryRun(readFileSync(file, 'utf8'), {
      kube: audited.kube,
      namespace: NAMESPACE,
      now: () => new Date((DATA_END + 30) * 1000),
    });
    expect(result.exitCode, result.text).toBe(0);
    const lines = result.text.split('\n');
    expect(lines[0]).toBe(`DiscoveryPolicy ${name}: Synced (1 requests)`);
    expect(result.text).toContain('ranking: 0.7×minMax(total) + 0.3×minMax(peak); top ');
    const header = lines.findIndex((l) => l.startsWith('RANK'));
    expect(lines[header]).toMatch(/^RANK\s+IMAGE\s+SCORE\s+CONTRIBUTIONS$/);
    const rows = lines.slice(header + 1);
    expect(rows).toHaveLength(3);
    // Every row: rank, reference, score, then both terms with weight × normalised (raw).
    for (const [i, row] of rows.entries())
      expect(row).toMatch(
        new RegExp(
          `^${i + 1}\\s+\\S+\\s+[0-9.]+\\s+total 0\\.7×[0-9.e-]+ \\([0-9.e+-]+\\) \\+ peak 0\\.3×[0-9.e-]+ \\([0-9.e+-]+\\)$`,
        ),
      );
    expect(audited.requests.map((r) => `${r.verb} ${r.resource}`)).toEqual(['get secrets']);
    expect((await kubectlResult(['get', 'discoverypolicy', name])).code).not.toBe(0);
    expect(await admin().get(paths.lease(NAMESPACE, `drop-discover-${name}`))).toBeUndefined();
  });

  it('without a cluster, says which query needed one and fails', async () => {
    const result = await dryRun(readFileSync(file, 'utf8'), {
      kube: undefined,
      namespace: NAMESPACE,
      now: () => new Date(),
    });
    expect(result.exitCode).toBe(1);
    expect(result.text).toContain(
      `query usage (prometheus): NotFound: secretRef names Secret ${NAMESPACE}/${secret}: reading it needs a cluster (set KUBECONFIG)`,
    );
  });
});
