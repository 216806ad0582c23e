// The bad-input table (docs/bad-input.md) against the real API server: each manifest is refused at
// `kubectl apply` with the message in the table, and what only Drop can judge becomes a status
// reason a person can act on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CachedImage } from '../../lib/api/index.ts';
import { type KubeObject, paths } from '../../lib/kube/index.ts';
import { APPLY_CASES } from '../bad-input/apply-cases.ts';
import { STATUS_CASES } from '../bad-input/status-cases.ts';
import { createNodes, deleteNodes } from '../controlplane/index.ts';
import { NAMESPACE, type RunningDrop, startDrop } from './drop.ts';
import { kubeconfigPath, kubectlResult, uniqueName, waitFor } from './harness.ts';
import { cachedImage } from './objects.ts';

describe('bad input refused at kubectl apply', () => {
  it.each(APPLY_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const manifest = {
      apiVersion: 'drop.corewire.io/v1alpha1',
      kind: c.kind,
      metadata: { name: uniqueName('bad') },
      spec: c.spec,
    };
    // A server-side dry run: every admission and validation step runs, nothing is stored.
    const result = await kubectlResult(['apply', '--dry-run=server', '-f', '-'], {
      input: JSON.stringify(manifest),
    });
    expect(result.code, result.stdout).not.toBe(0);
    expect(result.stderr).toMatch(c.message);
    expect(result.stderr).not.toMatch(/should match '\^/);
  });
});

describe('bad input Drop answers in status', () => {
  let drop: RunningDrop;
  let nodes: string[] = [];
  const pool = uniqueName('badpool');
  beforeAll(async () => {
    drop = await startDrop({ kubeconfigPath: kubeconfigPath(), events: true });
    nodes = await createNodes(1, {
      kubeconfigPath: kubeconfigPath(),
      prefix: pool,
      labels: { 'drop.test/pool': pool },
    });
  });
  afterAll(async () => {
    await drop?.stop();
    await deleteNodes(kubeconfigPath(), nodes);
  });

  it.each(STATUS_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const name = uniqueName('bad-status');
    if (c.secret)
      await drop.kube.create(paths.secrets(NAMESPACE), {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: c.secret.name, namespace: NAMESPACE },
        type: c.secret.type,
        stringData: c.secret.stringData,
      } as KubeObject);
    await drop.kube.create(
      paths.cachedImages(),
      cachedImage(name, { nodeSelector: { 'drop.test/pool': pool }, ...c.spec }),
    );
    try {
      const image = await waitFor(
        async () => {
          const current = await drop.kube.get<CachedImage>(paths.cachedImage(name));
          const condition = current?.status?.conditions?.find((x) => x.type === c.condition);
          if (condition?.reason === c.reason) return current;
          throw new Error(JSON.stringify(current?.status));
        },
        { timeoutMs: 90_000, message: `${c.condition} reason ${c.reason}` },
      );
      const condition = image.status?.conditions?.find((x) => x.type === c.condition);
      expect(condition?.message).toMatch(c.message);
    } finally {
      await drop.kube.delete(paths.cachedImage(name));
      if (c.secret) await drop.kube.delete(paths.secret(NAMESPACE, c.secret.name));
    }
  });
});
