// `helm upgrade` from one chart version to the next, both from a real OCI registry, keeps every
// Drop object and applies the new CRDs: the next version here is the chart in charts/, the previous
// one the same chart whose CachedImage CRD lacks a printer column (MESSAGE) — a CRD change, as a
// release brings. Helm upgrades CRDs that are templates (not crds/), which is why both charts have
// them there. An upgrade that takes the CRDs out of charts/drop keeps them (helm.sh/resource-policy).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKube, type Kube, type KubeObject, loadKubeConfig, paths } from '../../lib/kube/index.ts';
import { installKnativeCrds } from '../controlplane/index.ts';
import {
  type ChartCluster,
  chartCopy,
  pushChart,
  removeDropCrds,
  startChartCluster,
} from './chart-cluster.ts';
import { CRDS_CHART, DROP_CHART, IMAGE_VALUES, NAMESPACE } from './charts.ts';
import { uniqueName } from './harness.ts';
import { cachedImage, cachedImageSet, pullPolicy } from './objects.ts';

const PREVIOUS = '0.1.0';
const NEXT = '0.1.1';
const MESSAGE_COLUMN = /\n {8}- name: MESSAGE\n(?: {10}.*\n)+?(?= {6}schema:)/;

let cluster: ChartCluster;
let admin: Kube;
let registry: string;
beforeAll(async () => {
  cluster = await startChartCluster('upgrade');
  admin = createKube(loadKubeConfig(cluster.kubeconfigPath), 'drop-test');
  await installKnativeCrds(cluster.kubeconfigPath);
  for (const [chart, crd] of [
    [CRDS_CHART, 'templates/cachedimages.yaml'],
    [DROP_CHART, 'templates/crds/cachedimages.yaml'],
  ] as const) {
    const previous = chartCopy(cluster, chart);
    const file = join(previous, crd);
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(MESSAGE_COLUMN);
    writeFileSync(file, text.replace(MESSAGE_COLUMN, '\n'));
    registry = await pushChart(cluster, previous, PREVIOUS);
    await pushChart(cluster, chart, NEXT);
  }
});
afterAll(async () => {
  await cluster?.stop();
});

async function columns(): Promise<string[]> {
  const crd = JSON.parse(
    await cluster.kubectl(['get', 'crd', 'cachedimages.drop.corewire.io', '-o', 'json']),
  ) as {
    spec: { versions: { additionalPrinterColumns: { name: string }[] }[] };
  };
  return crd.spec.versions[0]?.additionalPrinterColumns.map((c) => c.name) ?? [];
}

/** A user's Drop objects; returns each one's path and uid, to find them again after the upgrade. */
async function createObjects(): Promise<Map<string, string>> {
  const name = uniqueName('upgrade');
  const created: [string, KubeObject | undefined][] = [
    [
      paths.pullPolicy(name),
      await admin.create(paths.pullPolicies(), pullPolicy(name, { maxConcurrentNodes: 2 })),
    ],
    [
      paths.cachedImageSet(name),
      await admin.create(
        paths.cachedImageSets(),
        cachedImageSet(name, {
          images: [{ image: 'registry.example/upgrade/set', tag: '1' }],
          policyRef: { name },
        }),
      ),
    ],
  ];
  for (const image of ['a', 'b', 'c']) {
    const path = paths.cachedImage(`${name}-${image}`);
    const object = cachedImage(`${name}-${image}`, { image: `registry.example/upgrade/${image}`, tag: '1' });
    created.push([path, await admin.create(paths.cachedImages(), object)]);
  }
  return new Map(created.map(([path, object]) => [path, object?.metadata.uid ?? '']));
}

async function expectKept(objects: ReadonlyMap<string, string>): Promise<void> {
  for (const [path, uid] of objects) expect((await admin.get(path))?.metadata.uid, path).toBe(uid);
}

async function chartOf(release: string): Promise<string> {
  const [entry] = JSON.parse(
    (await cluster.helm.run(['list', '-n', NAMESPACE, '-o', 'json', '--filter', `^${release}$`])).stdout,
  ) as {
    chart: string;
    revision: string;
  }[];
  return `${entry?.chart} r${entry?.revision}`;
}

describe('helm upgrade to the next chart version', () => {
  it('drop-crds and drop, as the quickstart installs them: every object kept, the new CRD applied', async () => {
    await cluster.helm.run([
      'install',
      'drop-crds',
      `${registry}/drop-crds`,
      '--version',
      PREVIOUS,
      '-n',
      NAMESPACE,
    ]);
    await cluster.helm.run([
      'install',
      'drop',
      `${registry}/drop`,
      '--version',
      PREVIOUS,
      '-n',
      NAMESPACE,
      '--set',
      'crds.install=false',
      ...IMAGE_VALUES,
    ]);
    expect(await columns()).not.toContain('MESSAGE');
    const objects = await createObjects();

    await cluster.helm.run([
      'upgrade',
      'drop-crds',
      `${registry}/drop-crds`,
      '--version',
      NEXT,
      '-n',
      NAMESPACE,
    ]);
    await cluster.helm.run([
      'upgrade',
      'drop',
      `${registry}/drop`,
      '--version',
      NEXT,
      '-n',
      NAMESPACE,
      '--reuse-values',
    ]);
    expect(await chartOf('drop-crds')).toBe(`drop-crds-${NEXT} r2`);
    expect(await chartOf('drop')).toBe(`drop-${NEXT} r2`);
    expect(await columns()).toContain('MESSAGE');
    await expectKept(objects);

    await cluster.helm.run(['uninstall', 'drop', '-n', NAMESPACE]);
    await cluster.helm.run(['uninstall', 'drop-crds', '-n', NAMESPACE]);
    await removeDropCrds(cluster);
  });

  it('drop with its own CRDs (knative): every object kept, also when the next upgrade leaves the CRDs out', async () => {
    const drop = ['drop', `${registry}/drop`, '-n', NAMESPACE];
    await cluster.helm.run([
      'install',
      ...drop,
      '--version',
      PREVIOUS,
      '--set',
      'mode=knative',
      ...IMAGE_VALUES,
    ]);
    const objects = await createObjects();
    await cluster.helm.run(['upgrade', ...drop, '--version', NEXT, '--reuse-values']);
    expect(await chartOf('drop')).toBe(`drop-${NEXT} r2`);
    expect(await columns()).toContain('MESSAGE');
    await expectKept(objects);
    // crds.install=false drops the CRDs from the release: without keep, Helm would delete them and
    // every Drop object with them.
    const moved = await cluster.helm.run([
      'upgrade',
      ...drop,
      '--version',
      NEXT,
      '--reuse-values',
      '--set',
      'crds.install=false',
    ]);
    expect(moved.stdout + moved.stderr).not.toMatch(/error/i);
    expect(await columns()).toContain('MESSAGE');
    await expectKept(objects);
    await cluster.helm.run(['uninstall', 'drop', '-n', NAMESPACE]);
    await expectKept(objects);
  });
});
