// What the chart suites share: the pinned Helm with a home of its own, the charts rendered to
// objects, and those objects compared with what kustomize renders from config/.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { Manifest } from '../config/manifests.ts';
import { execHelm, type HelmResult, runHelm } from '../controlplane/index.ts';

export const ROOT = new URL('../../', import.meta.url).pathname;
export const DROP_CHART = join(ROOT, 'charts/drop');
export const CRDS_CHART = join(ROOT, 'charts/drop-crds');
export const NAMESPACE = 'drop-system';

/** The image values every install needs (no image is published; see the chart's values.yaml). */
export const IMAGE = { repository: 'registry.example.com/drop', tag: '0.1.0' } as const;
export const IMAGE_VALUES = [
  '--set',
  `image.repository=${IMAGE.repository}`,
  '--set',
  `image.tag=${IMAGE.tag}`,
];

let scratch: string | undefined;

/** A fresh directory for a suite's files (Helm homes, values files, chart copies); see removeScratch. */
export function scratchDir(prefix: string): string {
  scratch ??= mkdtempSync(join(tmpdir(), 'drop-charts-'));
  return mkdtempSync(join(scratch, `${prefix}-`));
}

/** Removes every scratchDir of this suite (from its afterAll). */
export function removeScratch(): void {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
}

/** A helm bound to one home directory (registry logins, caches) and, if given, one cluster. */
export interface Helm {
  readonly home: string;
  run(args: readonly string[], options?: { env?: Record<string, string> }): Promise<HelmResult>;
  exec(args: readonly string[], options?: { env?: Record<string, string> }): Promise<HelmResult>;
}

export function helmFor(
  kubeconfigPath?: string,
  env: Record<string, string> = {},
  home = scratchDir('helm'),
): Helm {
  const options = (extra?: Record<string, string>) => ({
    home,
    cwd: ROOT,
    env: { ...env, ...extra },
    ...(kubeconfigPath ? { kubeconfigPath } : {}),
  });
  return {
    home,
    run: (args, o) => runHelm(args, options(o?.env)),
    exec: (args, o) => execHelm(args, options(o?.env)),
  };
}

/** Every object of a multi-document YAML text (helm template, kubectl kustomize). */
export function objectsOf(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

/** `helm template drop <chart> -n drop-system <args>`, as objects. */
export async function renderChart(
  helm: Helm,
  args: readonly string[],
  chart = DROP_CHART,
): Promise<Manifest[]> {
  return objectsOf((await helm.run(['template', 'drop', chart, '-n', NAMESPACE, ...args])).stdout);
}

export function keyOf(m: Manifest): string {
  return `${m.kind} ${m.metadata.namespace ? `${m.metadata.namespace}/` : ''}${m.metadata.name}`;
}

/** Labels and annotations the chart adds to every object it renders from config/ and crds/. */
export const CHART_LABELS = [
  'helm.sh/chart',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/version',
  'app.kubernetes.io/managed-by',
  'app.kubernetes.io/part-of',
];
const CHART_ANNOTATIONS = ['helm.sh/resource-policy'];

/** The object without what the chart adds on top of config/ (its labels and keep annotation). */
export function withoutChartMetadata(m: Manifest): Manifest {
  const strip = (map: Readonly<Record<string, string>> | undefined, keys: readonly string[]) => {
    const left = Object.fromEntries(Object.entries(map ?? {}).filter(([k]) => !keys.includes(k)));
    return Object.keys(left).length > 0 ? left : undefined;
  };
  const { labels, annotations, ...metadata } = m.metadata;
  const keptLabels = strip(labels, CHART_LABELS);
  const keptAnnotations = strip(annotations, CHART_ANNOTATIONS);
  return {
    ...m,
    metadata: {
      ...metadata,
      ...(keptLabels ? { labels: keptLabels } : {}),
      ...(keptAnnotations ? { annotations: keptAnnotations } : {}),
    },
  };
}

/** The objects by kind, namespace and name. */
export function byKey(objects: readonly Manifest[]): Map<string, Manifest> {
  return new Map(objects.map((m) => [keyOf(m), m]));
}
