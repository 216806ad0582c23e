import { describe, expect, it } from 'vitest';
import { type CachedImage, type CachedImageSet, statusWord } from '../../lib/api/index.ts';
import { childName } from './naming.ts';
import { type ObservedSet, planSet, SOURCE_LABEL } from './plan.ts';

const NOW = new Date('2026-11-26T10:00:00Z');

function set(spec: Record<string, unknown>, extra: Partial<CachedImageSet['metadata']> = {}): CachedImageSet {
  return {
    apiVersion: 'drop.corewire.io/v1alpha1',
    kind: 'CachedImageSet',
    metadata: { name: 'ci', uid: 'set-uid', generation: 1, ...extra },
    spec,
  } as CachedImageSet;
}

const CI_TOOLS = set({
  policyRef: { name: 'slow' },
  imagePullPolicy: 'IfNotPresent',
  images: [
    { image: 'docker.io/library/golang', tag: '1.22-bookworm' },
    { image: 'docker.io/library/node', tag: '20-alpine' },
    { image: 'docker.io/library/alpine', tag: '3.19' },
  ],
});

function observe(overrides: Partial<ObservedSet> = {}): ObservedSet {
  return {
    set: CI_TOOLS,
    children: [],
    pullPolicy: { name: 'slow', found: true, object: {} },
    now: NOW,
    ...overrides,
  };
}

/**
 * The children a first plan creates, as the API server returns them (defaults, uid, generation),
 * with the status reconcile-image would write for each STATUS word given.
 */
function stored(plan: ReturnType<typeof planSet>, words: readonly string[] = []): CachedImage[] {
  return plan.create.map((child, i) => ({
    ...child,
    metadata: { ...child.metadata, uid: `child-${i}`, generation: 1, resourceVersion: '1' },
    ...(words[i] ? { status: childStatus(words[i], `m${i}`) } : {}),
  }));
}

function childStatus(word: string, message: string): CachedImage['status'] {
  const ready = { type: 'Ready', status: word === 'Cached' ? 'True' : 'False', reason: word, message };
  return {
    // What reconcile-image writes: Go Drop's phase beside the word.
    phase: word === 'Cached' ? 'Ready' : ['Pending', 'Pulling'].includes(word) ? word : 'Degraded',
    observedGeneration: 1,
    message,
    conditions: [{ ...ready, lastTransitionTime: NOW.toISOString() }],
  } as CachedImage['status'];
}

/** Go Drop's phase (what Argo CD reads) and the STATUS word (the Ready reason kubectl shows). */
function shown(status: CachedImageSet['status']): { phase: string | undefined; word: string } {
  return { phase: status?.phase, word: statusWord(status) };
}

describe('planSet', () => {
  it('creates one owned, labelled child per image with the set settings copied', () => {
    const plan = planSet(observe());
    expect(plan.create).toHaveLength(3);
    const golang = plan.create[0];
    expect(golang?.metadata).toMatchObject({
      name: childName('ci', 'docker.io/library/golang:1.22-bookworm'),
      labels: { 'drop.corewire.io/imageset': 'ci', [SOURCE_LABEL]: 'static' },
      ownerReferences: [{ kind: 'CachedImageSet', name: 'ci', uid: 'set-uid', controller: true }],
    });
    expect(golang?.spec).toEqual({
      image: 'docker.io/library/golang',
      tag: '1.22-bookworm',
      imagePullPolicy: 'IfNotPresent',
      priority: 0,
      policyRef: { name: 'slow' },
    });
    expect(plan.status).toMatchObject({
      phase: 'Pending',
      ready: '0/3',
      imagesManaged: 3,
      imagesReady: 0,
    });
  });

  it('all children Cached is AllReady 3/3 and nothing to write', () => {
    const children = stored(planSet(observe()), ['Cached', 'Cached', 'Cached']);
    const plan = planSet(observe({ children }));
    expect([plan.create, plan.update, plan.delete]).toEqual([[], [], []]);
    expect(plan.status).toMatchObject({ phase: 'Ready', ready: '3/3', imagesManaged: 3, imagesReady: 3 });
    expect(shown(plan.status)).toEqual({ phase: 'Ready', word: 'AllReady' });
    expect(plan.status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'True',
      reason: 'AllReady',
    });
  });

  it('one failing child makes the set Degraded and names it with its reason', () => {
    const children = stored(planSet(observe()), ['Cached', 'ErrImagePull', 'Pulling']);
    const plan = planSet(observe({ children }));
    expect(plan.status).toMatchObject({ phase: 'Degraded', ready: '1/3' });
    expect(plan.status.message).toContain(`${children[1]?.metadata.name}: ErrImagePull (m1)`);
  });

  it('an entry that leaves the list has its child deleted', () => {
    const children = stored(planSet(observe()), ['Cached', 'Cached', 'Cached']);
    const fewer = set({ ...CI_TOOLS.spec, images: CI_TOOLS.spec.images?.slice(0, 2) }, { generation: 2 });
    const plan = planSet(observe({ set: fewer, children }));
    expect(plan.delete).toEqual([{ name: children[2]?.metadata.name, uid: 'child-2' }]);
    expect(plan.status).toMatchObject({ ready: '2/2', imagesManaged: 2 });
  });

  it('a change on the set updates every child', () => {
    const children = stored(planSet(observe()), ['Cached', 'Cached', 'Cached']);
    const changed = set({ ...CI_TOOLS.spec, nodeSelector: { pool: 'build' } }, { generation: 2 });
    const plan = planSet(observe({ set: changed, children }));
    expect(plan.update).toHaveLength(3);
    expect(plan.update.every((c) => c.spec.nodeSelector?.pool === 'build')).toBe(true);
    expect(plan.update[0]?.metadata.resourceVersion).toBe('1');
    // Their statuses describe the old spec: not ready until they are reconciled again.
    expect(shown(plan.status)).toEqual({ phase: 'Pending', word: 'Progressing' });
    expect(plan.status?.ready).toBe('0/3');
  });

  it('a child edited by hand is put back, keeping what the set does not own', () => {
    const children = stored(planSet(observe()), ['Cached', 'Cached', 'Cached']);
    const edited = children.map((c, i) =>
      i === 0
        ? { ...c, metadata: { ...c.metadata, labels: { team: 'x' } }, spec: { ...c.spec, tag: 'hacked' } }
        : c,
    );
    const plan = planSet(observe({ children: edited }));
    expect(plan.update).toHaveLength(1);
    expect(plan.update[0]?.spec.tag).toBe('1.22-bookworm');
    expect(plan.update[0]?.metadata.labels).toMatchObject({ team: 'x', 'drop.corewire.io/imageset': 'ci' });
  });

  it('defaults the API server filled in are not a difference', () => {
    const minimal = set({ images: [{ image: 'alpine' }] });
    const children = stored(planSet(observe({ set: minimal, pullPolicy: undefined })));
    const plan = planSet(observe({ set: minimal, pullPolicy: undefined, children }));
    expect(plan.update).toEqual([]);
    expect(children[0]?.spec).toMatchObject({ image: 'docker.io/library/alpine', tag: 'latest' });
  });

  it('an empty set is valid and AllReady 0/0', () => {
    const plan = planSet(observe({ set: set({}), pullPolicy: undefined }));
    expect(plan.status).toMatchObject({ phase: 'Ready', ready: '0/0', imagesManaged: 0 });
    expect(statusWord(plan.status)).toBe('AllReady');
  });

  it('repeated entries make one child and say so', () => {
    const twice = set({
      images: [
        { image: 'golang', tag: '1' },
        { image: 'docker.io/library/golang', tag: '1' },
      ],
    });
    const plan = planSet(observe({ set: twice, pullPolicy: undefined }));
    expect(plan.create).toHaveLength(1);
    expect(plan.status.message).toContain('spec.images[1] repeats docker.io/library/golang:1');
  });

  it('follows discovery: new images become children, ones that fall out are deleted', () => {
    const source = set({ discoveryPolicyRef: { name: 'popular' } });
    const image = (name: string) => `docker.io/library/${name}:1`;
    const first = planSet(
      observe({
        set: source,
        pullPolicy: undefined,
        discovery: { name: 'popular', found: true, object: { references: [image('a'), image('b')] } },
      }),
    );
    expect(first.create.map((c) => c.metadata.labels?.[SOURCE_LABEL])).toEqual(['discovery', 'discovery']);
    expect(first.status.source).toBe('popular');
    const children = stored(first, ['Cached', 'Cached']);
    const next = planSet(
      observe({
        set: source,
        pullPolicy: undefined,
        children,
        discovery: { name: 'popular', found: true, object: { references: [image('b'), image('c')] } },
      }),
    );
    expect(next.delete.map((d) => d.name)).toEqual([children[0]?.metadata.name]);
    expect(next.create.map((c) => c.spec.image)).toEqual(['docker.io/library/c']);
  });

  it('a missing DiscoveryPolicy is Degraded, named in a condition, and keeps discovered children', () => {
    const source = set({ discoveryPolicyRef: { name: 'popular' }, images: [{ image: 'alpine', tag: '3' }] });
    const discovered: CachedImage = {
      ...stored(
        planSet(observe({ set: set({ images: [{ image: 'node', tag: '20' }] }), pullPolicy: undefined })),
      )[0]!,
    };
    const kept = {
      ...discovered,
      metadata: {
        ...discovered.metadata,
        labels: { ...discovered.metadata.labels, [SOURCE_LABEL]: 'discovery' },
      },
    };
    const plan = planSet(
      observe({
        set: source,
        pullPolicy: undefined,
        children: [kept],
        discovery: { name: 'popular', found: false },
      }),
    );
    expect(plan.delete).toEqual([]);
    expect(plan.status.phase).toBe('Degraded');
    expect(plan.status.imagesManaged).toBe(2);
    expect(plan.status.conditions?.find((c) => c.type === 'ReferencesFound')).toMatchObject({
      status: 'False',
      reason: 'DiscoveryPolicyNotFound',
      message: expect.stringContaining('DiscoveryPolicy "popular"'),
    });
  });

  it('a missing PullPolicy is Degraded with a condition naming it', () => {
    const plan = planSet(observe({ pullPolicy: { name: 'slow', found: false } }));
    expect(plan.status.phase).toBe('Degraded');
    expect(plan.status.message).toContain('PullPolicy "slow" (spec.policyRef) does not exist');
  });

  it('never touches a CachedImage of the same name that another owner controls, and says so', () => {
    const theirs = stored(planSet(observe()))[0]!;
    const foreign = {
      ...theirs,
      metadata: {
        ...theirs.metadata,
        ownerReferences: [{ apiVersion: 'x/v1', kind: 'Other', name: 'o', uid: 'o', controller: true }],
      },
    };
    const plan = planSet(observe({ children: [foreign] }));
    expect(plan.create).toHaveLength(2);
    expect(plan.update).toEqual([]);
    expect(plan.delete).toEqual([]);
    expect(plan.status.phase).toBe('Degraded');
    expect(plan.status.message).toContain(
      `CachedImage ${theirs.metadata.name} exists and is not managed by this set`,
    );
  });

  it('adopts the children of an earlier set of the same name', () => {
    const children = stored(planSet(observe()), ['Cached', 'Cached', 'Cached']);
    const recreated = set(CI_TOOLS.spec, { uid: 'new-uid' });
    const plan = planSet(observe({ set: recreated, children }));
    expect(plan.update).toHaveLength(3);
    expect(plan.update[0]?.metadata.ownerReferences?.[0]?.uid).toBe('new-uid');
  });

  it('an unreadable spec changes no child and says why', () => {
    const children = stored(planSet(observe()));
    const broken = set({ images: [{ image: 'golang', tag: '1', digest: 'sha256:x' }] });
    const plan = planSet(observe({ set: broken, children }));
    expect([plan.create, plan.update, plan.delete]).toEqual([[], [], []]);
    expect(plan.status.phase).toBe('Degraded');
    expect(plan.status.message).toMatch(/^invalid spec: spec\.images\[0\]/);
  });

  it('waits for the first sync of its DiscoveryPolicy before it says AllReady', () => {
    const source = set({ discoveryPolicyRef: { name: 'popular' } });
    const plan = planSet(
      observe({
        set: source,
        pullPolicy: undefined,
        discovery: { name: 'popular', found: true, object: { references: [] } },
      }),
    );
    expect(shown(plan.status)).toEqual({ phase: 'Pending', word: 'Progressing' });
    expect(plan.status?.ready).toBe('0/0');
    expect(plan.status.message).toContain('waiting for the first sync of DiscoveryPolicy "popular"');
  });

  it('a failing DiscoveryPolicy keeps the children it found and makes the set Degraded, saying why', () => {
    const source = set({ discoveryPolicyRef: { name: 'popular' } });
    const found = 'docker.io/library/a:1';
    const object = {
      references: [found],
      phase: 'ConnectionRefused',
      message: 'connect ECONNREFUSED 10.0.0.9:9090',
    };
    const first = planSet(
      observe({
        set: source,
        pullPolicy: undefined,
        discovery: { name: 'popular', found: true, object: { references: [found], phase: 'Synced' } },
      }),
    );
    const children = stored(first, ['Cached']);
    const plan = planSet(
      observe({
        set: source,
        pullPolicy: undefined,
        children,
        discovery: { name: 'popular', found: true, object },
      }),
    );
    expect(plan.delete).toEqual([]);
    expect(plan.status).toMatchObject({ phase: 'Degraded', ready: '1/1' });
    expect(plan.status.message).toContain(
      'DiscoveryPolicy "popular" is ConnectionRefused: connect ECONNREFUSED',
    );
  });
});
