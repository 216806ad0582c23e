import { describe, expect, it } from 'vitest';
import type { CachedImage } from '../../lib/api/index.ts';
import type { Pod } from '../../lib/kube/index.ts';
import { pullPodOf } from '../../test/fixtures/pull-pods.ts';
import { collisions, contested } from './collisions.ts';

function pod(image: string, node: string, policy: string, extra: Partial<Pod['metadata']> = {}): Pod {
  const base = pullPodOf(image, node, policy);
  return { ...base, metadata: { ...base.metadata, ...extra } };
}

const targets = new Map<string, readonly string[]>();

/** An image of `policy` whose `waiting` target nodes do not hold it yet. */
function image(name: string, policy: string, waiting: readonly string[]): CachedImage {
  targets.set(name, waiting);
  return {
    apiVersion: 'drop.corewire.io/v1alpha1',
    kind: 'CachedImage',
    metadata: { name },
    spec: {
      image: `registry.example/${name}`,
      policyRef: { name: policy },
      imagePullPolicy: 'Always',
      priority: 0,
    },
    status: { nodesWaiting: waiting.length, cachedNodes: [] },
  };
}

const targetsOf = (i: CachedImage) => targets.get(i.metadata.name) ?? [];

describe('contested', () => {
  const nodes = new Set(['n1']);

  it('is false when only this policy wants the node', () => {
    expect(contested('a', nodes, [image('x', 'a', ['n1'])], [pod('x', 'n1', 'a')], targetsOf)).toBe(false);
  });

  it('is true when another policy waits for the node or pulls on it', () => {
    expect(contested('a', nodes, [image('y', 'b', ['n1'])], [], targetsOf)).toBe(true);
    expect(contested('a', nodes, [], [pod('y', 'n1', 'b')], targetsOf)).toBe(true);
    expect(contested('a', nodes, [image('y', 'b', ['n2'])], [pod('y', 'n2', 'b')], targetsOf)).toBe(false);
  });
});

describe('collisions', () => {
  it('withdraws a new pull from a node another policy filled at the same moment', () => {
    const mine = pod('x', 'n1', 'a');
    const theirs = pod('y', 'n1', 'b');
    expect(collisions('a', [mine], [mine, theirs], 1)).toEqual([{ pod: mine, rank: 0 }]);
    expect(collisions('b', [theirs], [mine, theirs], 1)).toEqual([{ pod: theirs, rank: 1 }]);
  });

  it('keeps pulls on nodes within the limit, and does not count pulls that ended or are going', () => {
    const mine = pod('x', 'n1', 'a');
    const done = { ...pod('y', 'n1', 'b'), status: { phase: 'Succeeded' } };
    const leaving = pod('z', 'n1', 'c', { deletionTimestamp: '2026-11-26T10:00:00Z' });
    expect(collisions('a', [mine], [mine, done, leaving], 1)).toEqual([]);
    expect(collisions('a', [mine], [mine, pod('y', 'n1', 'b')], 2)).toEqual([]);
  });
});
