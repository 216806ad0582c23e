// Drop's metrics as a user's Prometheus and Grafana see them: the standalone runner does a real
// run (a set cached on a node pool, paced; an image that fails; a DiscoveryPolicy synced), a real
// Prometheus scrapes its /metrics every second, and every query of the shipped Grafana dashboard
// (charts/drop/dashboards/drop.json) is evaluated through Prometheus' HTTP API.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CachedImage,
  type CachedImageSet,
  type DiscoveryPolicy,
  statusWord,
} from '../../lib/api/index.ts';
import { createKube, loadKubeConfig, paths } from '../../lib/kube/index.ts';
import type { Standalone } from '../../standalone/standalone.ts';
import { createNodes, deleteNodes } from '../controlplane/index.ts';
import { startStandaloneOnLoopback } from './drop.ts';
import { kubeconfigPath, uniqueName, waitFor } from './harness.ts';
import { cachedImage, cachedImageSet, pullPolicy } from './objects.ts';
import { type Sample, type ScrapingPrometheus, startScrapingPrometheus } from './scraping-prometheus.ts';

const DASHBOARD = new URL('../../charts/drop/dashboards/drop.json', import.meta.url);

/** The 11 series Go Drop exports (corewire/drop internal/metrics), with the labels it gives them. */
const GO_DROP_SERIES: Readonly<Record<string, readonly string[]>> = {
  drop_images_cached_total: ['image'],
  drop_pull_duration_seconds_bucket: ['image'],
  drop_pull_errors_total: ['image'],
  drop_discovery_images_found: ['policy', 'source_type'],
  drop_active_pulls: [],
  drop_reconcile_total: ['controller', 'result'],
  drop_discovery_source_health: ['policy', 'source_type', 'endpoint'],
  drop_discovery_source_latency_seconds_bucket: ['policy', 'source_type'],
  drop_nodes_targeted: ['cachedimage'],
  drop_nodes_cached: ['cachedimage'],
  drop_consecutive_failures: ['cachedimage', 'image'],
};

interface Panel {
  readonly type: string;
  readonly title: string;
  readonly targets?: readonly { readonly expr: string; readonly instant?: boolean }[];
}

// Grafana asks a graph's query over the dashboard's time range at a step, with $__rate_interval at
// least four scrape intervals: over a run of minutes, a 5 s step and the 1 m window Grafana uses for
// a range of hours (a slow /metrics under load may miss a scrape or two, as in any cluster).
const STEP_SECONDS = 5;
function resolved(expr: string): string {
  return expr.replaceAll('$__rate_interval', '1m');
}

describe('metrics and the Grafana dashboard after a real run', () => {
  const kube = createKube(loadKubeConfig(kubeconfigPath()), 'drop-dashboard-test');
  const pool = uniqueName('dashboard');
  const dir = mkdtempSync(join(tmpdir(), 'drop-dashboard-'));
  let nodes: string[] = [];
  let drop: Standalone | undefined;
  let prometheus: ScrapingPrometheus | undefined;
  const ask = () => prometheus as ScrapingPrometheus;
  let runStarted = new Date();

  beforeAll(async () => {
    nodes = await createNodes(3, {
      kubeconfigPath: kubeconfigPath(),
      prefix: pool,
      labels: { 'drop.test/pool': pool },
    });
    drop = await startStandaloneOnLoopback(kube);
    prometheus = await startScrapingPrometheus(dir, [`127.0.0.1:${drop.port}`]);
    runStarted = new Date();
    const onPool = { policyRef: { name: pool }, nodeSelector: { 'drop.test/pool': pool } };
    // One node at a time, a second apart: nodes wait for a pacing slot.
    await kube.create(
      paths.pullPolicies(),
      pullPolicy(pool, { maxConcurrentNodes: 1, minDelayBetweenPulls: '1s' }),
    );
    await kube.create(
      paths.cachedImageSets(),
      cachedImageSet(pool, {
        ...onPool,
        images: [
          { image: 'docker.io/library/alpine', tag: '3.20' },
          { image: 'docker.io/library/busybox', tag: '1.36' },
        ],
      }),
    );
    await kube.create(
      paths.cachedImages(),
      cachedImage(`${pool}-broken`, {
        ...onPool,
        image: 'registry.example/team/errimagepull-app',
        tag: 'v1',
      }),
    );
    // Discovery from the same Prometheus: the images Drop caches, by their image label.
    await kube.create(paths.discoveryPolicies(), {
      apiVersion: 'drop.corewire.io/v1alpha1',
      kind: 'DiscoveryPolicy',
      metadata: { name: pool },
      spec: {
        sources: [
          {
            type: 'prometheus',
            prometheus: { endpoint: prometheus.url, query: 'count by (image) (drop_consecutive_failures)' },
          },
        ],
      },
    } as DiscoveryPolicy);
    await waitFor(
      async () =>
        statusWord((await kube.get<CachedImageSet>(paths.cachedImageSet(pool)))?.status) === 'AllReady',
      { timeoutMs: 120_000, message: `set ${pool} AllReady` },
    );
    await waitFor(
      async () =>
        ((await kube.get<CachedImage>(paths.cachedImage(`${pool}-broken`)))?.status?.failedNodes?.length ??
          0) > 0,
      { timeoutMs: 60_000, message: 'a failed pull recorded' },
    );
    await waitFor(
      async () => (await kube.get<DiscoveryPolicy>(paths.discoveryPolicy(pool)))?.status?.phase === 'Synced',
      { timeoutMs: 60_000, message: `DiscoveryPolicy ${pool} synced` },
    );
    // The run goes on, as runs do: a node joins the pool (the set's images are pulled on it), and
    // the DiscoveryPolicy changes (it syncs again). Prometheus has scraped every series by now, so
    // these show as increases (a series' first observations cannot: see docs/design.md §Metrics).
    nodes.push(
      ...(await createNodes(1, {
        kubeconfigPath: kubeconfigPath(),
        prefix: `${pool}-late`,
        labels: { 'drop.test/pool': pool },
      })),
    );
    await kube.mergePatch(paths.discoveryPolicy(pool), { spec: { maxImages: 20 } });
    await waitFor(
      async () =>
        (await kube.get<CachedImageSet>(paths.cachedImageSet(pool)))?.status?.ready === '2/2' &&
        (await kube.list<CachedImage>(paths.cachedImages())).items
          .filter((i) => i.metadata.labels?.['drop.corewire.io/imageset'] === pool)
          .every((i) => i.status?.ready === '4/4'),
      { timeoutMs: 120_000, message: `the set's images on the node that joined` },
    );
    await waitFor(
      async () => {
        const policy = await kube.get<DiscoveryPolicy>(paths.discoveryPolicy(pool));
        return (
          policy?.status?.observedGeneration === policy?.metadata.generation &&
          policy?.status?.phase === 'Synced'
        );
      },
      { timeoutMs: 60_000, message: `DiscoveryPolicy ${pool} synced again` },
    );
  });

  afterAll(async () => {
    for (const path of [
      paths.cachedImageSet(pool),
      paths.cachedImage(`${pool}-broken`),
      paths.discoveryPolicy(pool),
      paths.pullPolicy(pool),
    ])
      await kube.delete(path).catch(() => undefined);
    await prometheus?.server.stop();
    await drop?.stop();
    await deleteNodes(kubeconfigPath(), nodes).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it("curl /metrics shows all 11 of Go Drop's series, with Go's labels (node only when opted in)", async () => {
    const text = await (await fetch(`http://127.0.0.1:${drop?.port}/metrics`)).text();
    for (const [name, labels] of Object.entries(GO_DROP_SERIES)) {
      const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
      expect(line, name).toBeDefined();
      for (const label of labels) expect(line, `${name} ${label}`).toContain(`${label}="`);
    }
    expect(text).toMatch(/^drop_images_cached_total\{image="docker\.io\/library\/alpine"\} [1-9]\d*$/m);
    expect(text).not.toMatch(/^drop_images_cached_total\{[^}]*node=/m);
    expect(text).toMatch(new RegExp(`^drop_nodes_cached\\{cachedimage="${pool}-broken"\\} 0$`, 'm'));
  });

  it('every panel of the dashboard has data in Prometheus after the run', async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: readonly Panel[] };
    const queries = dashboard.panels.flatMap((p) =>
      (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr, instant: t.instant === true })),
    );
    expect(queries.length).toBeGreaterThanOrEqual(15);
    // Until every query returns a number, or the deadline: then the panels still empty are named.
    let empty: string[] = [];
    await waitFor(
      async () => {
        empty = [];
        for (const { panel, expr, instant } of queries) {
          const values = instant
            ? (await ask().query(resolved(expr))).map((s) => s.value)
            : (await ask().queryRange(resolved(expr), runStarted, STEP_SECONDS)).flatMap((s) => s.values);
          if (!values.some(Number.isFinite)) empty.push(`${panel}: ${expr}`);
        }
        return empty.length === 0;
      },
      { timeoutMs: 90_000, intervalMs: 2_000, message: 'data for every panel of the dashboard' },
    ).catch(() => undefined);
    expect(empty).toEqual([]);
  });

  it('the gauges come from status: what Prometheus holds is what the CachedImages say', async () => {
    // Read at scrape time (at most every 5 s, from the watch cache): a scrape or two behind at most.
    const mismatches = (images: readonly CachedImage[], samples: readonly Sample[]) =>
      images
        .filter(
          (i) =>
            samples.find((s) => s.metric.cachedimage === i.metadata.name)?.value !== i.status?.nodesReady,
        )
        .map((i) => i.metadata.name);
    let last: string[] = [];
    await waitFor(
      async () => {
        const images = (await kube.list<CachedImage>(paths.cachedImages())).items.filter((i) =>
          i.metadata.name.startsWith(pool),
        );
        const samples = await ask().query(`drop_nodes_cached{cachedimage=~"${pool}.*"}`);
        last = mismatches(images, samples);
        return images.length === 3 && samples.length === images.length && last.length === 0;
      },
      { timeoutMs: 30_000, message: 'drop_nodes_cached of every image of the run' },
    ).catch(() => undefined);
    expect(last).toEqual([]);
  });
});
