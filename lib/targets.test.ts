import { describe, expect, it } from 'vitest';
import type { Node } from './kube/core.ts';
import { placementOf, skippedNodes, targetNodes } from './targets.ts';

function node(
  name: string,
  extra: { labels?: Record<string, string>; spec?: Node['spec']; ready?: boolean } = {},
): Node {
  return {
    metadata: { name, labels: extra.labels ?? {} },
    spec: extra.spec ?? {},
    status: { conditions: [{ type: 'Ready', status: extra.ready === false ? 'False' : 'True' }] },
  };
}

const buildTaint = { key: 'node-role.kubernetes.io/build', value: 'true', effect: 'NoSchedule' };

describe('targetNodes', () => {
  it('targets every ready node when there is no selector', () => {
    expect(targetNodes([node('b'), node('a')], {})).toEqual(['a', 'b']);
  });

  it('keeps only nodes whose labels match the selector', () => {
    const nodes = [
      node('build-1', { labels: { role: 'build' } }),
      node('web-1', { labels: { role: 'web' } }),
    ];
    expect(targetNodes(nodes, { nodeSelector: { role: 'build' } })).toEqual(['build-1']);
  });

  it('skips nodes that are not Ready, cordoned or being deleted', () => {
    const nodes = [
      node('down', { ready: false }),
      node('cordoned', { spec: { unschedulable: true } }),
      { ...node('leaving'), metadata: { name: 'leaving', deletionTimestamp: '2026-01-01T00:00:00Z' } },
      node('ok'),
    ];
    expect(targetNodes(nodes, {})).toEqual(['ok']);
  });

  it('skips a NoSchedule-tainted node unless the taint is tolerated', () => {
    const nodes = [node('tainted', { spec: { taints: [buildTaint] } })];
    expect(targetNodes(nodes, {})).toEqual([]);
    expect(
      targetNodes(nodes, {
        tolerations: [{ key: 'node-role.kubernetes.io/build', operator: 'Exists', effect: 'NoSchedule' }],
      }),
    ).toEqual(['tainted']);
    expect(
      targetNodes(nodes, {
        tolerations: [{ key: 'node-role.kubernetes.io/build', operator: 'Equal', value: 'false' }],
      }),
    ).toEqual([]);
  });

  it('an empty key with Exists tolerates every taint', () => {
    const nodes = [node('t', { spec: { taints: [buildTaint, { key: 'x', effect: 'NoExecute' }] } })];
    expect(targetNodes(nodes, { tolerations: [{ operator: 'Exists' }] })).toEqual(['t']);
  });

  it('ignores PreferNoSchedule taints', () => {
    const nodes = [node('soft', { spec: { taints: [{ key: 'x', effect: 'PreferNoSchedule' }] } })];
    expect(targetNodes(nodes, {})).toEqual(['soft']);
  });

  it('a toleration for another effect does not tolerate NoExecute', () => {
    const nodes = [node('t', { spec: { taints: [{ key: 'x', effect: 'NoExecute' }] } })];
    expect(
      targetNodes(nodes, { tolerations: [{ key: 'x', operator: 'Exists', effect: 'NoSchedule' }] }),
    ).toEqual([]);
  });
});

describe('DiskPressure', () => {
  const pressed = (name: string, taint = false): Node => ({
    metadata: { name },
    spec: taint ? { taints: [{ key: 'node.kubernetes.io/disk-pressure', effect: 'NoSchedule' }] } : {},
    status: {
      conditions: [
        { type: 'Ready', status: 'True' },
        { type: 'DiskPressure', status: 'True' },
      ],
    },
  });

  it('a node reporting DiskPressure is no target but skipped, with or without the lifecycle taint', () => {
    const nodes = [
      node('ok'),
      pressed('full'),
      pressed('tainted', true),
      node('other', { labels: { x: 'y' } }),
    ];
    expect(targetNodes(nodes, {})).toEqual(['ok', 'other']);
    expect(skippedNodes(nodes, {})).toEqual([
      { node: 'full', reason: 'DiskPressure' },
      { node: 'tainted', reason: 'DiskPressure' },
    ]);
    expect(skippedNodes(nodes, { nodeSelector: { x: 'y' } })).toEqual([]);
  });

  it('a node whose pressure cleared is a target again; a lingering taint keeps it out as before', () => {
    const cleared = { ...pressed('back'), status: { conditions: [{ type: 'Ready', status: 'True' }] } };
    expect(targetNodes([cleared], {})).toEqual(['back']);
    const lingering = {
      ...pressed('slow', true),
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    };
    expect(targetNodes([lingering], {})).toEqual([]);
    expect(skippedNodes([lingering], {})).toEqual([]);
  });
});

describe('placementOf (a PullPolicy startupTaint)', () => {
  const warming = { key: 'drop.corewire.io/warming', effect: 'NoSchedule' as const };
  const nodes = [
    node('warming', { spec: { taints: [{ key: warming.key, value: 'true', effect: 'NoSchedule' }] } }),
    node('warm'),
  ];

  it('makes a node carrying the startup taint a target of the images it waits for', () => {
    expect(targetNodes(nodes, placementOf({}, warming))).toEqual(['warm', 'warming']);
  });

  it('leaves that node out for images of other policies', () => {
    expect(targetNodes(nodes, placementOf({}, undefined))).toEqual(['warm']);
  });

  it('tolerates only the startup taint, not another taint the node carries too', () => {
    const both = node('both', {
      spec: { taints: [{ key: warming.key, effect: 'NoSchedule' }, buildTaint] },
    });
    expect(targetNodes([both], placementOf({}, warming))).toEqual([]);
    expect(
      targetNodes(
        [both],
        placementOf({ tolerations: [{ key: buildTaint.key, operator: 'Exists' }] }, warming),
      ),
    ).toEqual(['both']);
  });

  it('does not tolerate the same key with another effect', () => {
    const noExecute = node('evicting', { spec: { taints: [{ key: warming.key, effect: 'NoExecute' }] } });
    expect(targetNodes([noExecute], placementOf({}, warming))).toEqual([]);
  });
});
