import { describe, expect, it } from 'vitest';
import type { Node } from '../kube/index.ts';
import { type KubeEvent, kubePullEvents } from './kube-events.ts';
import { readyNodesMatching } from './node-count.ts';

const NOW = new Date('2026-01-10T12:00:00Z');

// A core/v1 Event as the kubelet's recorder writes it (record.EventRecorder: lastTimestamp, count).
const event = (
  name: string,
  namespace: string,
  reason: string,
  message: string,
  at: string,
  count = 1,
): KubeEvent => ({
  metadata: { name: `${name}.1`, namespace },
  involvedObject: { kind: 'Pod', name, namespace },
  reason,
  message,
  lastTimestamp: at,
  count,
});

describe('kubePullEvents', () => {
  const events = [
    event(
      'runner-1',
      'ci',
      'Pulled',
      'Successfully pulled image "golang:1.22" in 12.3s (12.3s including waiting). Image size: 300 bytes.',
      '2026-01-10T11:30:00Z',
    ),
    event('web-1', 'web', 'Pulled', 'Successfully pulled image "nginx:1.25" in 2s', '2026-01-10T11:40:00Z'),
    event(
      'runner-2',
      'ci',
      'Pulled',
      'Container image "golang:1.22" already present on machine',
      '2026-01-10T11:50:00Z',
      3,
    ),
    event(
      'runner-3',
      'ci',
      'Pulled',
      'Successfully pulled image "golang:1.22" in 9s',
      '2026-01-10T09:00:00Z',
    ),
  ];

  it('reads the kubelet’s messages of pods, repeats included', () => {
    const found = kubePullEvents(events, {}, NOW);
    expect(found.map((e) => [e.pod, e.message.kind, e.message.seconds])).toEqual([
      ['ci/runner-1', 'pulled', 12.3],
      ['web/web-1', 'pulled', 2],
      ['ci/runner-2', 'cacheHit', undefined],
      ['ci/runner-2', 'cacheHit', undefined],
      ['ci/runner-2', 'cacheHit', undefined],
      ['ci/runner-3', 'pulled', 9],
    ]);
  });

  it('keeps one namespace, pods matching podNamePattern, and events within lookback', () => {
    const found = kubePullEvents(
      events,
      { namespace: 'ci', podNamePattern: '^runner-[13]$', lookback: '1h' },
      NOW,
    );
    expect(found.map((e) => e.pod)).toEqual(['ci/runner-1']);
  });

  it('ignores events about other kinds', () => {
    const node = {
      ...event('n1', '', 'Pulled', 'Pulling image "x:1"', '2026-01-10T11:00:00Z'),
      involvedObject: { kind: 'Node', name: 'n1' },
    };
    expect(kubePullEvents([node], {}, NOW)).toEqual([]);
  });
});

describe('readyNodesMatching (modelExposure N from a node selector)', () => {
  const node = (name: string, labels: Record<string, string>, ready = true): Node =>
    ({
      metadata: { name, labels },
      status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
    }) as Node;
  const nodes = [
    node('cp', { 'node-role.kubernetes.io/control-plane': '' }),
    node('w1', { pool: 'ci' }),
    node('w2', { pool: 'ci' }, false),
    node('w3', { pool: 'web', cores: '16' }),
  ];

  it('counts Ready nodes of any term, every requirement holding (Drop’s worker example)', () => {
    const workers = {
      nodeSelectorTerms: [
        {
          matchExpressions: [
            { key: 'node-role.kubernetes.io/control-plane', operator: 'DoesNotExist' as const },
          ],
        },
      ],
    };
    expect(readyNodesMatching(nodes, workers)).toBe(2);
    expect(readyNodesMatching(nodes, undefined)).toBe(3);
    const big = {
      nodeSelectorTerms: [
        { matchExpressions: [{ key: 'cores', operator: 'Gt' as const, values: ['8'] }] },
        { matchFields: [{ key: 'metadata.name', operator: 'In' as const, values: ['cp'] }] },
      ],
    };
    expect(readyNodesMatching(nodes, big)).toBe(2);
  });
});
