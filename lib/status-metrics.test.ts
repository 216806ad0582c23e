import { describe, expect, it } from 'vitest';
import type { CachedImage, DiscoveryPolicy } from './api/index.ts';
import { statusFigures } from './status-metrics.ts';

function image(name: string, status: CachedImage['status']): CachedImage {
  return {
    apiVersion: 'drop.corewire.io/v1alpha1',
    kind: 'CachedImage',
    metadata: { name },
    spec: { image: `docker.io/library/${name}`, imagePullPolicy: 'Always', priority: 0 },
    status,
  } as CachedImage;
}

const failed = (node: string, failures: number) => ({
  node,
  reason: 'ErrImagePull',
  message: 'm',
  failures,
  retryAt: '2026-11-25T10:00:00Z',
});

describe("Go Drop's gauges, read from status", () => {
  it('gives each CachedImage its nodes targeted and cached, and its worst node’s consecutive failures', () => {
    const figures = statusFigures(
      [
        image('nginx', { nodesTargeted: 3, nodesReady: 3, nodesPulling: 0 }),
        image('broken', {
          nodesTargeted: 3,
          nodesReady: 1,
          nodesPulling: 2,
          failedNodes: [failed('a', 1), failed('b', 4)],
        }),
        image('new', undefined),
      ],
      [],
    );
    expect(figures.nodesTargeted).toEqual([
      { labels: { cachedimage: 'nginx' }, value: 3 },
      { labels: { cachedimage: 'broken' }, value: 3 },
      { labels: { cachedimage: 'new' }, value: 0 },
    ]);
    expect(figures.nodesCached.map((s) => s.value)).toEqual([3, 1, 0]);
    expect(figures.consecutiveFailures).toContainEqual({
      labels: { cachedimage: 'broken', image: 'docker.io/library/broken' },
      value: 4,
    });
    expect(figures.activePulls).toBe(2);
  });

  it('gives each discovery query its images found and its health, without credentials in the endpoint', () => {
    const policy = {
      apiVersion: 'drop.corewire.io/v1alpha1',
      kind: 'DiscoveryPolicy',
      metadata: { name: 'popular' },
      spec: {
        queries: [
          {
            name: 'ci',
            type: 'prometheus',
            prometheus: { endpoint: 'https://user:secret@mimir.example.com/prom?x=1', query: 'q' },
          },
          {
            name: 'tags',
            type: 'registry',
            registry: { url: 'https://registry.example.com', repositories: ['a'] },
          },
          {
            name: 'other',
            type: 'registry',
            registry: { url: 'https://other.example.com', repositories: ['b'] },
          },
          { name: 'pulls', type: 'kubernetesEvents', kubernetesEvents: {} },
        ],
      },
      status: {
        queryResults: [
          { name: 'ci', type: 'prometheus', status: 'success', images: 5 },
          { name: 'tags', type: 'registry', status: 'success', images: 2 },
          { name: 'other', type: 'registry', status: 'failed', reason: 'Unauthorized', images: 1 },
          { name: 'pulls', type: 'kubernetesEvents', status: 'success', images: 4 },
        ],
      },
    } as unknown as DiscoveryPolicy;
    const figures = statusFigures([], [policy]);
    expect(figures.discoveryImagesFound).toEqual([
      { labels: { policy: 'popular', source_type: 'prometheus' }, value: 5 },
      { labels: { policy: 'popular', source_type: 'registry' }, value: 3 },
      { labels: { policy: 'popular', source_type: 'kubernetesEvents' }, value: 4 },
    ]);
    expect(figures.discoverySourceHealth.map((s) => [s.labels.endpoint, s.value])).toEqual([
      ['https://mimir.example.com/prom', 1],
      ['https://registry.example.com/', 1],
      ['https://other.example.com/', 0],
      ['', 1],
    ]);
  });

  it('finds the endpoint of a sources[] policy by its source-<n> query name', () => {
    const policy = {
      metadata: { name: 'legacy' },
      spec: {
        sources: [
          { type: 'registry', registry: { url: 'https://registry.example.com', repositories: ['a'] } },
        ],
      },
      status: { queryResults: [{ name: 'source-0', type: 'registry', status: 'success', images: 3 }] },
    } as unknown as DiscoveryPolicy;
    expect(statusFigures([], [policy]).discoverySourceHealth).toEqual([
      {
        labels: { policy: 'legacy', source_type: 'registry', endpoint: 'https://registry.example.com/' },
        value: 1,
      },
    ]);
  });
});
