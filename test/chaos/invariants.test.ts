import { describe, expect, it } from 'vitest';
import { notConverged } from './convergence.ts';
import { checkReady, checkStart, duplicatePulls, leakedSecrets, type ObservedPull } from './invariants.ts';

function pull(name: string, fields: Partial<ObservedPull> = {}): ObservedPull {
  return {
    name,
    image: 'app',
    node: `node-${name}`,
    policy: 'p',
    reference: 'registry.chaos/app:v1',
    host: 'registry.chaos',
    state: 'pulling',
    deleting: false,
    ...fields,
  };
}

const limits = { p: { perImage: 2, perPolicy: 3, perNode: 1 } };

describe('checkStart', () => {
  it('a start that keeps every limit is no violation', () => {
    const started = pull('b');
    expect(
      checkStart({ pull: started, pods: [pull('a'), started], limits, hosts: {}, hostStartsLastHour: 2 }),
    ).toEqual([]);
  });

  it('a third pull of one image with maxConcurrentNodes 2 is a violation', () => {
    const started = pull('c');
    const violations = checkStart({
      pull: started,
      pods: [pull('a'), pull('b'), started],
      limits,
      hosts: {},
      hostStartsLastHour: 3,
    });
    expect(violations.map((v) => v.message)).toEqual([
      'c (app on node-c) started with 3 pulls of image app (limit 2)',
    ]);
  });

  it('pulls that ended do not count', () => {
    const started = pull('c');
    const pods = [pull('a', { state: 'cached' }), pull('b', { state: 'failed' }), pull('d'), started];
    expect(checkStart({ pull: started, pods, limits, hosts: {}, hostStartsLastHour: 1 })).toEqual([]);
  });

  it('the policy cap counts the policy’s pulls of every image', () => {
    const started = pull('d', { image: 'd' });
    const pods = [pull('a', { image: 'a' }), pull('b', { image: 'b' }), pull('c', { image: 'c' }), started];
    expect(
      checkStart({ pull: started, pods, limits, hosts: {}, hostStartsLastHour: 1 })[0]?.message,
    ).toContain('4 pulls of policy p (limit 3)');
  });

  it('two pulls on one node over maxConcurrentPullsPerNode 1 is a violation, whatever the policies', () => {
    const started = pull('b', { node: 'n', image: 'other', policy: 'q' });
    const both = { ...limits, q: { perImage: 5, perNode: 1 } };
    const violations = checkStart({
      pull: started,
      pods: [pull('a', { node: 'n' }), started],
      limits: both,
      hosts: {},
      hostStartsLastHour: 1,
    });
    expect(violations.map((v) => v.message)).toEqual([
      'b (other on n) started with 2 pulls on node n (limit 1)',
    ]);
  });

  it('a registry host cap holds across policies, concurrently and per hour', () => {
    const started = pull('b', { image: 'x', policy: 'q' });
    const both = { ...limits, q: { perImage: 5, perNode: 5 } };
    const hosts = { 'registry.chaos': { maxConcurrentPulls: 1, maxPullsPerHour: 10 } };
    const violations = checkStart({
      pull: started,
      pods: [pull('a'), started],
      limits: both,
      hosts,
      hostStartsLastHour: 11,
    });
    expect(violations.map((v) => v.message)).toEqual([
      'b (x on node-b) started with 2 pulls from registry.chaos (limit 1)',
      'b (x on node-b) started with 11 pulls from registry.chaos in an hour (limit 10)',
    ]);
  });

  it('a pull first seen already finished is no start', () => {
    const started = pull('c', { state: 'cached' });
    expect(
      checkStart({
        pull: started,
        pods: [pull('a'), pull('b'), started],
        limits,
        hosts: {},
        hostStartsLastHour: 3,
      }),
    ).toEqual([]);
  });
});

describe('duplicatePulls', () => {
  it('two pulls of one image on one node at once are a violation', () => {
    const pods = [pull('a', { node: 'n' }), pull('b', { node: 'n', reference: 'registry.chaos/app:v2' })];
    expect(duplicatePulls(pods).map((v) => v.message)).toEqual(['two pulls of app on n at once: a and b']);
  });

  it('a pull being deleted or finished beside a new one is not', () => {
    expect(duplicatePulls([pull('a', { node: 'n', deleting: true }), pull('b', { node: 'n' })])).toEqual([]);
    expect(duplicatePulls([pull('a', { node: 'n', state: 'cached' }), pull('b', { node: 'n' })])).toEqual([]);
    expect(duplicatePulls([pull('a', { node: 'n' }), pull('b', { node: 'n', image: 'other' })])).toEqual([]);
  });
});

describe('checkReady', () => {
  const base = {
    image: 'app',
    nodesReady: 2,
    nodesTargeted: 3,
    cachedNodes: ['n1', 'n2'],
    pulledOn: new Set(['n1', 'n2']),
    targeted: new Set(['n1', 'n2', 'n3']),
  };

  it('READY counting nodes that pulled the image and are targets is no violation', () => {
    expect(checkReady(base)).toEqual([]);
  });

  it('READY counting a node whose pull never finished is a violation', () => {
    const violations = checkReady({ ...base, pulledOn: new Set(['n1']) });
    expect(violations.map((v) => v.message)).toEqual([
      'app: READY counts 2 nodes but only 1 hold it and are targets (n2: never pulled)',
    ]);
  });

  it('READY counting a node that is no target (cordoned, gone) is a violation', () => {
    const violations = checkReady({ ...base, targeted: new Set(['n1', 'n3']) });
    expect(violations[0]?.message).toContain('n2: not a target');
  });

  it('READY above the targets is a violation', () => {
    expect(checkReady({ ...base, nodesReady: 2, nodesTargeted: 1 })[0]?.message).toBe(
      'app: READY 2/1 counts more nodes than it targets',
    );
  });
});

describe('leakedSecrets', () => {
  it('names where a planted value shows, without printing it whole', () => {
    expect(
      leakedSecrets('a log line of pace', 'auth failed: chaos-pull-abcdef0123', ['chaos-pull-abcdef0123']),
    ).toEqual([{ invariant: 'secret', message: 'a log line of pace contains the Secret value chaos-…' }]);
    expect(leakedSecrets('status', '{"message":"401 Unauthorized"}', ['chaos-pull-abcdef0123'])).toEqual([]);
  });
});

describe('notConverged', () => {
  const image = {
    name: 'app',
    generation: 2,
    observedGeneration: 2,
    phase: 'Ready',
    nodesReady: 3,
    nodesTargeted: 3,
    targets: 3,
  };

  it('every image READY on its targets, sets Ready and no pull in flight is converged', () => {
    expect(notConverged([image], [{ name: 's', ready: true }], [pull('a', { state: 'cached' })])).toEqual([]);
  });

  it('an object the workload must have that the watch does not show yet is not converged', () => {
    expect(notConverged([image], [], [], { images: ['app', 'gone'], sets: ['s'] })).toEqual([
      'gone: not there',
      'set s: not there',
    ]);
  });

  it('says what still waits', () => {
    expect(
      notConverged(
        [
          { ...image, observedGeneration: 1 },
          { ...image, name: 'b', nodesTargeted: 2 },
          { ...image, name: 'c', nodesReady: 1, phase: 'Pulling' },
        ],
        [{ name: 's', ready: false, message: 'waiting for 1 image' }],
        [pull('a')],
      ),
    ).toEqual([
      'app: generation 2 not observed yet',
      'b: targets 2 of 3 nodes',
      'c: READY 1/3 (Pulling)',
      'set s: waiting for 1 image',
      '1 pulls in flight',
    ]);
  });
});
