import { describe, expect, it } from 'vitest';
import { type CachedImageStatus, statusWord } from '../../lib/api/index.ts';
import type { Pod } from '../../lib/kube/core.ts';
import { imageReportOf, type NodeImageReport } from '../../lib/node-images.ts';
import { PROBE_ANNOTATION, pullPodFor } from '../../lib/pull-pod.ts';
import { type ObservedImage, planImage, specView } from './plan.ts';
import { imagePhase } from './status.ts';

const REF = 'docker.io/library/nginx:1.25-alpine';
const DIGEST = `sha256:${'a'.repeat(64)}`;
const NOW = new Date('2026-11-25T10:00:00Z');

type ContainerState = NonNullable<
  NonNullable<NonNullable<Pod['status']>['containerStatuses']>[number]['state']
>;

function pod(
  nodeName: string,
  state?: ContainerState,
  extra: { imageID?: string; reference?: string } = {},
): Pod {
  const base = pullPodFor({
    cachedImage: 'nginx',
    reference: extra.reference ?? REF,
    node: nodeName,
    namespace: 'drop-system',
    policy: 'default',
    imagePullPolicy: 'Always',
    imagePullSecrets: [],
    tolerations: [],
  });
  return {
    ...base,
    metadata: { ...base.metadata, uid: `uid-${nodeName}`, creationTimestamp: '2026-11-25T09:59:00Z' },
    status: state
      ? {
          phase: 'Pending',
          containerStatuses: [{ name: 'pull', image: REF, imageID: extra.imageID ?? '', state }],
        }
      : { phase: 'Pending' },
  };
}

function observe(overrides: Partial<ObservedImage> = {}): ObservedImage {
  return {
    generation: 1,
    spec: { ok: true, reference: REF, placement: {}, repullable: true },
    targets: ['a', 'b', 'c'],
    pods: [],
    missingSecrets: [],
    backoff: { initialMs: 30_000, maxMs: 300_000 },
    repull: { intervalMs: undefined },
    now: NOW,
    ...overrides,
  };
}

/** What `kubectl get` shows (STATUS, the Ready reason) beside what Argo CD reads (phase). */
function shown(status: CachedImageStatus): { phase: string | undefined; word: string } {
  return { phase: status.phase, word: statusWord(status) };
}

const pulled = { terminated: { exitCode: 0, reason: 'Completed', finishedAt: '2026-11-25T09:59:30Z' } };
const errImagePull = { waiting: { reason: 'ErrImagePull', message: 'Failed to pull image "x": not found' } };

describe('status words and phases', () => {
  it("maps every STATUS word to Go Drop's phase: Cached is Ready, on its way is Pending or Pulling, the rest Degraded", () => {
    const words = [
      'Cached',
      'Pulling',
      'Pending',
      'ErrImagePull',
      'ImagePullBackOff',
      'NoTargetNodes',
      'PolicyNotFound',
      'InvalidSpec',
    ];
    expect(words.map(imagePhase)).toEqual([
      'Ready',
      'Pulling',
      'Pending',
      'Degraded',
      'Degraded',
      'Degraded',
      'Degraded',
      'Degraded',
    ]);
  });

  it('keeps the STATUS word as the Ready reason, which the STATUS column reads', () => {
    const plan = planImage(observe({ pods: [pod('a', { waiting: { reason: 'ContainerCreating' } })] }));
    expect(shown(plan.status)).toEqual({ phase: 'Pulling', word: 'Pulling' });
  });

  it('says the tag pulled: the spec tag, latest without tag and digest, none for a digest', () => {
    const image = (spec: Record<string, unknown>) =>
      ({ metadata: { name: 'x' }, spec: { image: 'docker.io/library/nginx', ...spec } }) as never;
    expect(specView(image({ tag: '1.25' })).tag).toBe('1.25');
    expect(specView(image({})).tag).toBe('latest');
    expect(specView(image({ digest: DIGEST })).tag).toBeUndefined();
    const plan = planImage(observe({ spec: { ...observe().spec, tag: 'latest' } as ObservedImage['spec'] }));
    expect(plan.status.tag).toBe('latest');
  });
});

describe('planImage', () => {
  it('a new image waits on every target node', () => {
    const plan = planImage(observe());
    expect(plan.status).toMatchObject({ phase: 'Pending', ready: '0/3', nodesTargeted: 3, nodesWaiting: 3 });
    expect(plan.pendingNodes).toEqual(['a', 'b', 'c']);
  });

  it('a node with a pull in progress counts as pulling, not pending', () => {
    const plan = planImage(observe({ pods: [pod('a', { waiting: { reason: 'ContainerCreating' } })] }));
    expect(plan.status).toMatchObject({ phase: 'Pulling', nodesPulling: 1 });
    expect(plan.pendingNodes).toEqual(['b', 'c']);
    expect(plan.deletePods).toEqual([]);
  });

  it('a finished pull is recorded, its pod deleted, and its digest kept', () => {
    const done = pod('a', pulled, { imageID: `docker.io/library/nginx@${DIGEST}` });
    const plan = planImage(observe({ pods: [done] }));
    expect(plan.status.cachedNodes).toEqual(['a']);
    expect(plan.status.resolvedDigest).toBe(DIGEST);
    expect(plan.status.lastPulledAt).toBe('2026-11-25T09:59:30Z');
    expect(plan.deletePods).toEqual([{ name: done.metadata.name, uid: 'uid-a', node: 'a', recorded: true }]);
  });

  it('a container that failed to start still means the image was pulled', () => {
    const startError = { terminated: { exitCode: 128, reason: 'StartError' } };
    expect(planImage(observe({ pods: [pod('a', startError)] })).status.cachedNodes).toEqual(['a']);
  });

  it('every target cached is Cached and Ready', () => {
    const plan = planImage(observe({ previous: { reference: REF, cachedNodes: ['a', 'b', 'c'] } }));
    expect(plan.status).toMatchObject({ phase: 'Ready', ready: '3/3' });
    expect(plan.status.conditions.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'True',
      reason: 'Cached',
    });
    expect(plan.pendingNodes).toEqual([]);
  });

  it('a failed pull records the kubelet reason and message and backs off', () => {
    const plan = planImage(observe({ pods: [pod('a', errImagePull)] }));
    expect(shown(plan.status)).toEqual({ phase: 'Degraded', word: 'ErrImagePull' });
    expect(plan.status.failedNodes).toEqual([
      {
        node: 'a',
        reason: 'ErrImagePull',
        failures: 1,
        retryAt: '2026-11-25T10:00:30.000Z',
        lastFailedAt: NOW.toISOString(),
        lastPod: 'uid-a',
      },
    ]);
    expect(plan.status.failures).toEqual([
      { reason: 'ErrImagePull', message: 'Failed to pull image "x": not found', nodes: 1, examples: ['a'] },
    ]);
    expect(plan.status.message).toContain('Failed to pull image "x": not found');
    expect(plan.deletePods).toHaveLength(1);
  });

  it('backoff doubles with each failure up to the max', () => {
    const previous = {
      reference: REF,
      failedNodes: [
        { node: 'a', reason: 'ErrImagePull', message: 'm', failures: 4, retryAt: '', lastPod: 'old' },
      ],
    };
    const plan = planImage(observe({ previous, pods: [pod('a', errImagePull)] }));
    expect(plan.status.failedNodes[0]).toMatchObject({ failures: 5, retryAt: '2026-11-25T10:05:00.000Z' });
  });

  it('the same failed pod seen twice counts once', () => {
    const failedPod = pod('a', errImagePull);
    const first = planImage(observe({ pods: [failedPod] }));
    const second = planImage(observe({ previous: first.status, pods: [failedPod] }));
    expect(second.status.failedNodes[0]?.failures).toBe(1);
    expect(second.deletePods).toHaveLength(1);
  });

  it('a retry reuses the pod name but is a new attempt: it counts', () => {
    const first = planImage(observe({ pods: [pod('a', errImagePull)] }));
    const retry = pod('a', errImagePull);
    const again = { ...retry, metadata: { ...retry.metadata, uid: 'uid-a-2' } };
    const second = planImage(observe({ previous: first.status, pods: [again] }));
    expect(second.status.failedNodes[0]?.failures).toBe(2);
  });

  it('a success after failures clears the failure', () => {
    const previous = {
      reference: REF,
      failedNodes: [
        { node: 'a', reason: 'ErrImagePull', message: 'm', failures: 2, retryAt: '', lastPod: 'old' },
      ],
    };
    const plan = planImage(observe({ previous, pods: [pod('a', pulled)] }));
    expect(plan.status.failedNodes).toEqual([]);
    expect(plan.status.cachedNodes).toEqual(['a']);
  });

  it('a node that joins is pending; a node that leaves drops out of the count', () => {
    const previous = { reference: REF, cachedNodes: ['a', 'gone'] };
    const plan = planImage(observe({ previous, targets: ['a', 'new'] }));
    expect(plan.status).toMatchObject({ ready: '1/2', cachedNodes: ['a'] });
    expect(plan.pendingNodes).toEqual(['new']);
  });

  it('a new tag starts over on every node and removes pulls of the old one', () => {
    const oldPod = pod('a', undefined, { reference: 'docker.io/library/nginx:1.24' });
    const previous = { reference: 'docker.io/library/nginx:1.24', cachedNodes: ['a', 'b', 'c'] };
    const plan = planImage(observe({ previous, pods: [oldPod] }));
    expect(plan.status).toMatchObject({ ready: '0/3', cachedNodes: [], reference: REF });
    expect(plan.deletePods.map((p) => p.name)).toEqual([oldPod.metadata.name]);
    expect(plan.pendingNodes).toEqual(['a', 'b', 'c']);
  });

  it('pods on nodes that are no longer targets are removed', () => {
    const plan = planImage(observe({ targets: ['b'], pods: [pod('a')] }));
    expect(plan.deletePods).toHaveLength(1);
  });

  it('no matching node is NoTargetNodes with a message saying why', () => {
    const plan = planImage(observe({ targets: [] }));
    expect(plan.status).toMatchObject({ phase: 'Degraded', ready: '0/0' });
    expect(statusWord(plan.status)).toBe('NoTargetNodes');
    expect(plan.status.message).toMatch(/no Ready, schedulable node matches/);
  });

  it('an invalid spec becomes the status and removes every pull', () => {
    const plan = planImage(
      observe({
        spec: { ok: false, reason: 'InvalidImageName', message: 'invalid reference format: uppercase' },
        pods: [pod('a')],
      }),
    );
    expect(plan.status).toMatchObject({ phase: 'Degraded', message: 'invalid reference format: uppercase' });
    expect(statusWord(plan.status)).toBe('InvalidImageName');
    expect(plan.deletePods).toHaveLength(1);
    expect(plan.pendingNodes).toEqual([]);
  });

  it('a missing pull secret is a condition and in the message', () => {
    const plan = planImage(observe({ missingSecrets: ['regcred'] }));
    expect(plan.status.conditions.find((c) => c.type === 'PullSecretsFound')).toMatchObject({
      status: 'False',
      reason: 'SecretNotFound',
    });
    expect(plan.status.message).toContain('regcred');
  });

  it('a pull secret the kubelet would skip is a condition naming why, and in the message', () => {
    const why = 'Secret regcred is of type Opaque: the kubelet reads only kubernetes.io/dockerconfigjson';
    const plan = planImage(observe({ unusableSecrets: [why] }));
    expect(plan.status.conditions.find((c) => c.type === 'PullSecretsFound')).toMatchObject({
      status: 'False',
      reason: 'SecretNotUsable',
      message: why,
    });
    expect(plan.status.message).toContain(why);
  });

  it('a missing policy is the status, not a silent default', () => {
    const policyProblem = { reason: 'PolicyNotFound', message: 'PullPolicy "fast" not found' };
    const plan = planImage(observe({ policyProblem }));
    expect(shown(plan.status)).toEqual({ phase: 'Degraded', word: 'PolicyNotFound' });
    expect(plan.status.message).toContain('PullPolicy "fast" not found');
  });

  it('planning the same observation twice gives the same status', () => {
    const observed = observe({ pods: [pod('a', pulled), pod('b', errImagePull)] });
    expect(planImage(observed)).toEqual(planImage(observed));
  });
});

describe('summaries: what happens on the nodes, counted and the first few named', () => {
  const fleet = Array.from({ length: 1000 }, (_, i) => `node-${String(i).padStart(4, '0')}`);

  it('a status for a thousand nodes stays small: one name per cached node, groups for the rest', () => {
    const cached = fleet.slice(0, 600);
    const failing = fleet.slice(600, 650).map((node) => pod(node, errImagePull));
    const plan = planImage(
      observe({ targets: fleet, previous: { reference: REF, cachedNodes: cached }, pods: failing }),
    );
    expect(plan.status).toMatchObject({ ready: '600/1000', nodesWaiting: 400, nodesFailed: 50 });
    expect(plan.status.waiting).toEqual([
      expect.objectContaining({
        reason: 'BackOff',
        nodes: 50,
        examples: ['node-0600', 'node-0601', 'node-0602'],
      }),
      expect.objectContaining({
        reason: 'WaitingForSlot',
        nodes: 350,
        examples: ['node-0650', 'node-0651', 'node-0652'],
      }),
    ]);
    expect(plan.status.failures).toEqual([
      {
        reason: 'ErrImagePull',
        message: 'Failed to pull image "x": not found',
        nodes: 50,
        examples: ['node-0600', 'node-0601', 'node-0602'],
      },
    ]);
    expect(plan.status.message).toContain('ErrImagePull on node-0600, node-0601, node-0602 and 47 more');
    expect(JSON.stringify(plan.status).length).toBeLessThan(64 * 1024);
  });

  it('a failure recorded earlier keeps its message while the node still fails', () => {
    const first = planImage(observe({ pods: [pod('a', errImagePull)] })).status;
    const later = planImage(observe({ previous: first, pods: [pod('b', pulled)] })).status;
    expect(later.failures).toEqual([
      { reason: 'ErrImagePull', message: 'Failed to pull image "x": not found', nodes: 1, examples: ['a'] },
    ]);
  });
});

describe('re-pulls (PullPolicy repullInterval)', () => {
  const DAY = 86_400_000;
  const cachedEverywhere = {
    reference: REF,
    cachedNodes: ['a', 'b', 'c'],
    lastPulledAt: '2026-11-24T09:00:00Z',
  };

  it('says when the next cycle is due, and starts nothing before', () => {
    const plan = planImage(observe({ previous: cachedEverywhere, repull: { intervalMs: 2 * DAY } }));
    expect(plan.status).toMatchObject({ phase: 'Ready', nextRepullAt: '2026-11-26T09:00:00.000Z' });
    expect(plan.pendingNodes).toEqual([]);
  });

  it('once due, every cached node pulls again while it stays cached', () => {
    const plan = planImage(observe({ previous: cachedEverywhere, repull: { intervalMs: DAY } }));
    expect(plan.pendingNodes).toEqual(['a', 'b', 'c']);
    expect(plan.status).toMatchObject({
      phase: 'Ready',
      ready: '3/3',
      repullNodes: ['a', 'b', 'c'],
      lastRepullAt: NOW.toISOString(),
    });
    expect(plan.status.waiting).toEqual([expect.objectContaining({ reason: 'Repull', nodes: 3 })]);
    expect(plan.status.nextRepullAt).toBeUndefined();
  });

  it('a node that pulled again leaves the cycle and brings the new digest', () => {
    const cycle = planImage(observe({ previous: cachedEverywhere, repull: { intervalMs: DAY } })).status;
    const newDigest = `sha256:${'b'.repeat(64)}`;
    const plan = planImage(
      observe({
        previous: cycle,
        repull: { intervalMs: DAY },
        pods: [pod('a', pulled, { imageID: `docker.io/library/nginx@${newDigest}` })],
      }),
    );
    expect(plan.status.repullNodes).toEqual(['b', 'c']);
    expect(plan.status.resolvedDigest).toBe(newDigest);
    expect(plan.pendingNodes).toEqual(['b', 'c']);
  });

  it('the cycle ends when every node pulled again, and the next is due an interval after it began', () => {
    const cycle = planImage(observe({ previous: cachedEverywhere, repull: { intervalMs: DAY } })).status;
    const plan = planImage(
      observe({
        previous: cycle,
        repull: { intervalMs: DAY },
        pods: [pod('a', pulled), pod('b', pulled), pod('c', pulled)],
      }),
    );
    expect(plan.status.repullNodes).toBeUndefined();
    expect(plan.status.nextRepullAt).toBe(new Date(NOW.getTime() + DAY).toISOString());
    expect(plan.pendingNodes).toEqual([]);
  });

  it('a failed re-pull keeps the node cached and backs off', () => {
    const cycle = planImage(observe({ previous: cachedEverywhere, repull: { intervalMs: DAY } })).status;
    const plan = planImage(
      observe({ previous: cycle, repull: { intervalMs: DAY }, pods: [pod('a', errImagePull)] }),
    );
    expect(plan.status).toMatchObject({ phase: 'Ready', ready: '3/3' });
    expect(plan.status.failedNodes.map((f) => f.node)).toEqual(['a']);
    expect(plan.status.waiting.find((w) => w.reason === 'BackOff')).toMatchObject({ examples: ['a'] });
  });

  it('never re-pulls a digest or an image pulled IfNotPresent: nothing new could come', () => {
    const spec = { ok: true as const, reference: REF, placement: {}, repullable: false };
    const plan = planImage(observe({ spec, previous: cachedEverywhere, repull: { intervalMs: DAY } }));
    expect(plan.pendingNodes).toEqual([]);
    expect(plan.status.nextRepullAt).toBeUndefined();
  });

  it('keeps what the pacer wrote about the waiting nodes while some wait, and drops it when none do', () => {
    const pacing = {
      at: NOW.toISOString(),
      waiting: [
        { limit: 'maxConcurrentNodes', nodes: 2, examples: ['b', 'c'], message: 'waiting for pacing slot' },
      ],
    };
    const first = { ...planImage(observe()).status, pacing };
    const later = planImage(observe({ previous: first, pods: [pod('a', pulled)] })).status;
    expect(later.pacing).toEqual(pacing);
    const done = planImage(observe({ previous: later, pods: [pod('b', pulled), pod('c', pulled)] })).status;
    expect(done).toMatchObject({ phase: 'Ready' });
    expect(done.pacing).toBeUndefined();
  });

  it('while the registry holds the host, says the nodes wait for the registry, not for a slot', () => {
    const paused = {
      at: NOW.toISOString(),
      waiting: [
        {
          limit: 'registryRateLimited',
          nodes: 3,
          examples: ['a', 'b', 'c'],
          message: 'registry docker.io answered 429: new pulls from it resume at 2026-11-25T10:01:00Z',
        },
      ],
    };
    const status = planImage(
      observe({ previous: { ...planImage(observe()).status, pacing: paused } }),
    ).status;
    expect(statusWord(status)).toBe('RegistryRateLimited');
    expect(status.message).toBe(
      'registry docker.io answered 429: new pulls from it resume at 2026-11-25T10:01:00Z; cached on 0/3 nodes; 3 waiting for the registry',
    );
  });

  it('without reading the policy, keeps the cycle and the next due time as the status has them', () => {
    const cycle = planImage(observe({ previous: cachedEverywhere, repull: { intervalMs: DAY } })).status;
    const { repull: _read, ...unread } = observe({ previous: cycle, pods: [pod('a', pulled)] });
    const plan = planImage(unread);
    expect(plan.status).toMatchObject({ repullNodes: ['b', 'c'], lastRepullAt: cycle.lastRepullAt });
    const due = planImage(observe({ previous: cachedEverywhere, repull: { intervalMs: 2 * DAY } })).status;
    const { repull: _again, ...steady } = observe({ previous: due });
    expect(planImage(steady).status.nextRepullAt).toBe(due.nextRepullAt);
  });
});

describe('skipped nodes and the manifest in the plan', () => {
  it('skipped nodes are counted by reason, named, in the message, and never pending', () => {
    const plan = planImage(
      observe({
        targets: ['a'],
        skipped: [
          { node: 'd', reason: 'DiskPressure' },
          { node: 'e', reason: 'DiskPressure' },
        ],
      }),
    );
    expect(plan.status.skipped).toEqual([
      {
        reason: 'DiskPressure',
        nodes: 2,
        examples: ['d', 'e'],
        message: 'the kubelet reports DiskPressure; Drop pulls there once it clears',
      },
    ]);
    expect(plan.status.ready).toBe('0/1');
    expect(plan.pendingNodes).toEqual(['a']);
    expect(plan.status.message).toMatch(/2 nodes skipped: DiskPressure \(d, e\)/);
  });

  it('every matching node skipped: NoTargetNodes says they are skipped rather than absent', () => {
    const plan = planImage(observe({ targets: [], skipped: [{ node: 'd', reason: 'DiskPressure' }] }));
    expect(statusWord(plan.status)).toBe('NoTargetNodes');
    expect(plan.status.message).toMatch(
      /^every node that matches nodeSelector and tolerations is skipped for now/,
    );
  });

  it('an image refused as too large starts nothing and keeps the registry’s answer', () => {
    const manifest = { reference: REF, digest: DIGEST, size: 5000, checkedAt: NOW.toISOString() };
    const plan = planImage(
      observe({ manifest, policyProblem: { reason: 'ImageTooLarge', message: `${REF} is 4.9 KiB …` } }),
    );
    expect(shown(plan.status)).toEqual({ phase: 'Degraded', word: 'ImageTooLarge' });
    expect(plan.pendingNodes).toEqual([]);
    expect(plan.status.manifest).toEqual(manifest);
    expect(plan.status.message).toMatch(/^docker\.io\/library\/nginx:1\.25-alpine is 4\.9 KiB/);
  });
});

describe('digest drift in the plan', () => {
  const A = `sha256:${'a'.repeat(64)}`;
  const B = `sha256:${'b'.repeat(64)}`;
  const cachedOn = (nodes: string[]): CachedImageStatus => ({
    observedGeneration: 1,
    reference: REF,
    cachedNodes: nodes,
    resolvedDigest: A,
    digests: [{ digest: A, nodes }],
  });

  it('re-pulls exactly the nodes that hold another digest than the registry’s, and counts them', () => {
    const plan = planImage(observe({ previous: cachedOn(['a', 'b', 'c']), drift: { current: B } }));
    expect(plan.status.outdated).toBe('3/3');
    expect(plan.status.repullNodes).toEqual(['a', 'b', 'c']);
    expect(plan.pendingNodes).toEqual(['a', 'b', 'c']);
    expect(statusWord(plan.status)).toBe('Cached');
  });

  it('an unchanged digest re-pulls nothing', () => {
    const plan = planImage(observe({ previous: cachedOn(['a', 'b', 'c']), drift: { current: A } }));
    expect(plan.status.outdated).toBe('0/3');
    expect(plan.pendingNodes).toEqual([]);
    expect(plan.status.repullNodes).toBeUndefined();
  });

  it('a node that pulled the new digest is no longer outdated', () => {
    const pulled = pod(
      'b',
      { terminated: { exitCode: 0, reason: 'Completed' } },
      { imageID: `docker.io/library/nginx@${B}` },
    );
    const plan = planImage(
      observe({
        previous: { ...cachedOn(['a', 'b', 'c']), repullNodes: ['a', 'b', 'c'] },
        pods: [pulled],
        drift: { current: B },
      }),
    );
    expect(plan.status.outdated).toBe('2/3');
    expect(plan.status.digests).toEqual([
      { digest: A, nodes: ['a', 'c'] },
      { digest: B, nodes: ['b'] },
    ]);
    expect(plan.pendingNodes).toEqual(['a', 'c']);
  });
});

describe('garbage-collected images', () => {
  const heartbeat = '2026-11-25T09:59:50Z';
  const lists = (entries: Record<string, string[]>) =>
    new Map(
      Object.entries(entries).map(([node, names]) => [
        node,
        imageReportOf({
          apiVersion: 'v1',
          kind: 'Node',
          metadata: { name: node },
          status: {
            conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: heartbeat }],
            images: [['registry.k8s.io/pause:3.10'], ...(names.length > 0 ? [names] : [])].map((n) => ({
              names: n,
            })),
          },
        }) as NodeImageReport,
      ]),
    );
  const cachedEverywhere: CachedImageStatus = {
    reference: REF,
    cachedNodes: ['a', 'b', 'c'],
    lastPulledAt: '2026-11-25T09:50:00Z',
  };

  it('a cached node whose complete image list no longer names the image is pending again, and the status says why', () => {
    const plan = planImage(
      observe({ previous: cachedEverywhere, nodeImages: lists({ a: [REF], b: [], c: [REF] }) }),
    );
    expect(plan.status.ready).toBe('2/3');
    expect(plan.pendingNodes).toEqual(['b']);
    expect(plan.status.collected).toEqual([{ node: 'b', at: NOW.toISOString(), how: 'NodeStatus' }]);
    expect(plan.status.waiting).toEqual([
      expect.objectContaining({ reason: 'GarbageCollected', nodes: 1, examples: ['b'] }),
    ]);
    expect(plan.events).toContainEqual(
      expect.objectContaining({ type: 'Warning', reason: 'ImageGarbageCollected', count: 1 }),
    );
  });

  it('each node is looked for by the digest it holds: a list naming only the digest of another node proves it gone', () => {
    const A = `sha256:${'a'.repeat(64)}`;
    const B = `sha256:${'b'.repeat(64)}`;
    const image = REF.replace(/:[^/:]*$/, '');
    const previous: CachedImageStatus = {
      ...cachedEverywhere,
      cachedNodes: ['a', 'b', 'c'],
      digests: [
        { digest: A, nodes: ['a', 'c'] },
        { digest: B, nodes: ['b'] },
      ],
    };
    const plan = planImage(
      observe({
        previous,
        nodeImages: lists({ a: [`${image}@${A}`], b: [`${image}@${A}`], c: [`${image}@${A}`] }),
      }),
    );
    expect(plan.status.collected).toEqual([{ node: 'b', at: NOW.toISOString(), how: 'NodeStatus' }]);
    const byB = planImage(
      observe({ previous, nodeImages: lists({ a: [`${image}@${B}`], b: [`${image}@${B}`], c: [REF] }) }),
    );
    expect(byB.status.collected).toEqual([{ node: 'a', at: NOW.toISOString(), how: 'NodeStatus' }]);
  });

  it('the record stays while the node waits, says nothing twice, and goes once the node holds the image again', () => {
    const lost = planImage(observe({ previous: cachedEverywhere, nodeImages: lists({ b: [] }) })).status;
    const waiting = planImage(
      observe({ previous: lost, now: new Date(NOW.getTime() + 1_000), nodeImages: lists({ b: [] }) }),
    );
    expect(waiting.status.collected).toEqual(lost.collected);
    expect(waiting.events.some((e) => e.reason === 'ImageGarbageCollected')).toBe(false);
    const back = planImage(
      observe({
        previous: waiting.status,
        now: new Date(NOW.getTime() + 2_000),
        pods: [pod('b', pulled)],
        nodeImages: lists({ b: [] }),
      }),
    );
    expect(back.status.ready).toBe('3/3');
    expect(back.status.collected).toBeUndefined();
  });

  it('a node whose list names the image by digest, or that lists no images at all, keeps it', () => {
    const plan = planImage(
      observe({
        previous: { ...cachedEverywhere, resolvedDigest: DIGEST },
        nodeImages: lists({ a: [`docker.io/library/nginx@${DIGEST}`] }),
      }),
    );
    expect(plan.status.ready).toBe('3/3');
    expect(plan.status.collected).toBeUndefined();
  });

  it('a node pulling the image again is not judged by its list', () => {
    const plan = planImage(
      observe({ previous: cachedEverywhere, pods: [pod('b')], nodeImages: lists({ b: [] }) }),
    );
    expect(plan.status.collected).toBeUndefined();
  });
});

describe('garbage-collection probes', () => {
  const HOUR = 3_600_000;
  const full = (node: string) =>
    imageReportOf({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: node },
      status: {
        conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: '2026-11-25T09:59:50Z' }],
        images: Array.from({ length: 50 }, (_, i) => ({ names: [`registry.example/big-${i}:1`] })),
      },
    }) as NodeImageReport;
  const cachedAll: CachedImageStatus = {
    reference: REF,
    cachedNodes: ['a', 'b', 'c'],
    lastPulledAt: '2026-11-25T08:00:00Z',
  };
  const probePod = (node: string, state: ContainerState) => {
    const p = pod(node, state);
    return {
      ...p,
      metadata: { ...p.metadata, annotations: { ...p.metadata.annotations, [PROBE_ANNOTATION]: 'true' } },
    };
  };
  const neverPull = {
    waiting: {
      reason: 'ErrImageNeverPull',
      message: `Container image "${REF}" is not present with pull policy of Never`,
    },
  };

  it('probes, once an interval has passed, the cached nodes whose list cannot tell: one at the maximum, one listing nothing', () => {
    const plan = planImage(
      observe({
        previous: { ...cachedAll, lastProbeAt: '2026-11-25T08:30:00Z' },
        nodeImages: new Map([
          ['a', full('a')],
          [
            'c',
            (imageReportOf as (n: unknown) => NodeImageReport)({
              metadata: { name: 'c' },
              status: { images: [{ names: [REF] }] },
            }),
          ],
        ]),
        probe: { intervalMs: HOUR },
      }),
    );
    expect(plan.status.probeNodes).toEqual(['a', 'b']);
    expect(plan.status.lastProbeAt).toBe(NOW.toISOString());
    expect(plan.status.ready).toBe('3/3');
    expect(plan.pendingNodes).toEqual([]);
  });

  it('is not due before the interval, and 0s never probes', () => {
    const early = planImage(
      observe({
        previous: { ...cachedAll, lastProbeAt: '2026-11-25T09:30:00Z' },
        probe: { intervalMs: HOUR },
      }),
    );
    expect(early.status.probeNodes).toBeUndefined();
    expect(early.status.nextProbeAt).toBe('2026-11-25T10:30:00.000Z');
    const off = planImage(observe({ previous: cachedAll, probe: { intervalMs: 0 } }));
    expect(off.status.probeNodes).toBeUndefined();
    expect(off.status.nextProbeAt).toBeUndefined();
  });

  it('a probe that ends ErrImageNeverPull takes the node out of READY and records how; one that runs leaves it cached', () => {
    const plan = planImage(
      observe({
        previous: { ...cachedAll, probeNodes: ['a', 'b'], lastProbeAt: '2026-11-25T09:59:00Z' },
        pods: [probePod('a', neverPull), probePod('b', pulled)],
        probe: { intervalMs: HOUR },
      }),
    );
    expect(plan.status.ready).toBe('2/3');
    expect(plan.status.cachedNodes).toEqual(['b', 'c']);
    expect(plan.pendingNodes).toEqual(['a']);
    expect(plan.status.probeNodes).toBeUndefined();
    expect(plan.status.collected).toEqual([{ node: 'a', at: NOW.toISOString(), how: 'Probe' }]);
    expect(plan.status.failedNodes).toEqual([]);
    expect(plan.recorded).toEqual([]);
    expect(plan.events).toContainEqual(
      expect.objectContaining({
        reason: 'ImageGarbageCollected',
        note: expect.stringMatching(/a probe pod with imagePullPolicy Never found it gone/),
      }),
    );
    expect(plan.deletePods.map((p) => p.node).sort()).toEqual(['a', 'b']);
  });
});

describe('planImage and the startup taint', () => {
  const condition = (plan: ReturnType<typeof planImage>) =>
    plan.status.conditions.find((c) => c.type === 'StartupTaint');

  it('says StartupTaintForbidden, naming the role to install, when Drop may not patch nodes', () => {
    const plan = planImage(observe({ startupTaint: { permitted: false } }));
    expect(condition(plan)).toMatchObject({ status: 'False', reason: 'StartupTaintForbidden' });
    expect(condition(plan)?.message).toContain('drop-startup-taint');
    // The images are still cached: the condition is about the nodes' taint, not the pulls.
    expect(plan.status.conditions.find((c) => c.type === 'Ready')?.reason).not.toBe('StartupTaintForbidden');
  });

  it('says Permitted once the role is there, and nothing once the policy drops startupTaint', () => {
    const forbidden = planImage(observe({ startupTaint: { permitted: false } })).status;
    const permitted = planImage(observe({ previous: forbidden, startupTaint: { permitted: true } }));
    expect(condition(permitted)).toMatchObject({ status: 'True', reason: 'Permitted' });
    expect(condition(planImage(observe({ previous: permitted.status })))).toBeUndefined();
  });
});
