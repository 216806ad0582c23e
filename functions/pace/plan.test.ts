import { describe, expect, it } from 'vitest';
import type { CachedImage } from '../../lib/api/index.ts';
import { DEFAULT_PACING_LIMITS, type PacingLimits } from '../../lib/policy/index.ts';
import { CACHED_IMAGE_ANNOTATION, LABEL, PROBE_ANNOTATION } from '../../lib/pull-pod.ts';
import { pullPodIn } from '../../test/fixtures/pull-pods.ts';
import {
  EMPTY_MEMORY,
  ENDED_POD_RECHECK_MS,
  ENDED_POD_WAIT_MS,
  type PaceInput,
  paceRound,
  startedEvents,
  waitingEvents,
} from './plan.ts';

const NOW = Date.parse('2026-11-26T10:00:00Z');
const LIMITS: PacingLimits = { ...DEFAULT_PACING_LIMITS, maxConcurrentNodes: 2, minDelayBetweenPullsMs: 0 };

const waitingByImage = new Map<string, readonly string[]>();
const waitingOf = (img: CachedImage) =>
  waitingByImage.get(`${img.metadata.name}@${img.status?.reference}`) ?? [];

function image(
  name: string,
  waiting: readonly string[],
  extra: Partial<CachedImage['status']> = {},
  policy?: string,
): CachedImage {
  waitingByImage.set(`${name}@registry.example/${name}:v1`, waiting);
  return {
    apiVersion: 'drop.corewire.io/v1alpha1',
    kind: 'CachedImage',
    metadata: { name, generation: 1 },
    spec: {
      image: `registry.example/${name}`,
      tag: 'v1',
      imagePullPolicy: 'Always',
      priority: 0,
      ...(policy ? { policyRef: { name: policy } } : {}),
    },
    status: {
      observedGeneration: 1,
      reference: `registry.example/${name}:v1`,
      nodesWaiting: waiting.length,
      cachedNodes: [],
      // Not Ready since the image started needing pulls: the slot wait counts from here.
      conditions: [
        {
          type: 'Ready',
          status: 'False',
          reason: 'Pending',
          message: '',
          lastTransitionTime: '2026-11-26T09:59:30Z',
        },
      ],
      ...extra,
    },
  } as CachedImage;
}

/** Each image's target nodes are the ones it waits on (none hold it yet). */
function round(overrides: Partial<PaceInput>) {
  return paceRound({
    targetsOf: (img) => (img.status?.conditions ? waitingOf(img) : []),
    policy: 'default',
    limits: LIMITS,
    images: [],
    pods: [],
    memory: EMPTY_MEMORY,
    namespace: 'drop-system',
    now: NOW,
    ...overrides,
  });
}

const started = (r: ReturnType<typeof paceRound>) =>
  r.create.map((p) => `${p.metadata.annotations?.[CACHED_IMAGE_ANNOTATION]}@${p.spec?.nodeName}`);

describe('paceRound', () => {
  it('starts the waiting nodes of the images its policy governs, up to the limits', () => {
    const r = round({ images: [image('a', ['n1', 'n2', 'n3']), image('other', ['n1'], {}, 'fast')] });
    expect(started(r)).toEqual(['a@n1', 'a@n2']);
    expect(r.create[0]?.metadata.labels?.[LABEL.policy]).toBe('default');
    expect(r.inFlight).toBe(2);
    expect(r.waitedSeconds).toEqual([30, 30]);
    expect(r.memory.lastStart).toEqual({ a: NOW });
  });

  it('reads an image status and a target list anew when either is a new one, whatever it read before', () => {
    const targets = ['n1', 'n2', 'n3'];
    const first = image('a', targets);
    expect(started(round({ images: [first], targetsOf: () => targets }))).toEqual(['a@n1', 'a@n2']);
    // A status written since (a new object from the watch) records n1 cached.
    const written = { ...first, status: { ...first.status!, cachedNodes: ['n1'] } } as CachedImage;
    expect(started(round({ images: [written], targetsOf: () => targets }))).toEqual(['a@n2', 'a@n3']);
    // The nodes changed (a new target list): n2 is no longer a target.
    expect(started(round({ images: [written], targetsOf: () => ['n1', 'n3', 'n4'] }))).toEqual([
      'a@n3',
      'a@n4',
    ]);
  });

  it('a node whose pull ended unrecorded waits, and the round wakes when that hold ends', () => {
    const ends = NOW + 20_000;
    const r = round({
      images: [image('a', ['n1'])],
      unrecorded: () => new Set(['n1']),
      unrecordedEnds: ends,
    });
    expect(started(r)).toEqual([]);
    // Nothing else may come to say the node is free: without the wake it waited for the next ping.
    expect(r.nextWakeAt).toBe(ends);
    const after = round({ images: [image('a', ['n1'])], now: ends, unrecorded: () => new Set() });
    expect(started(after)).toEqual(['a@n1']);
  });

  it('a node a finished pod still holds waits for its delete, and the round wakes to look again', () => {
    // The probe found the image gone (the status needs n1 again) before the probe pod was deleted.
    const r = round({ images: [image('a', ['n1'])], pods: [pullPodIn('a', 'n1', 'done')] });
    expect(started(r)).toEqual([]);
    // Nothing may come to say the pod went: without the wake the holder stopped serving.
    expect(r.nextWakeAt).toBe(NOW + ENDED_POD_RECHECK_MS);
    // A pull in flight holds its node too, but its outcome wakes the holder: no wake for it.
    expect(
      round({ images: [image('a', ['n1'])], pods: [pullPodIn('a', 'n1', 'pulling')] }).nextWakeAt,
    ).toBeUndefined();
    expect(started(round({ images: [image('a', ['n1'])], pods: [] }))).toEqual(['a@n1']);
    // One that finished long ago is a pod nobody can delete: no round every second for ever.
    const stuck = round({
      images: [image('a', ['n1'])],
      pods: [pullPodIn('a', 'n1', 'done')],
      endedAt: () => NOW - ENDED_POD_WAIT_MS,
    });
    expect(stuck.nextWakeAt).toBeUndefined();
  });

  it("the pull pods of a policy with a startupTaint tolerate that taint as well as the image's own", () => {
    const own = { ...image('a', ['n1']) };
    own.spec = { ...own.spec!, tolerations: [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }] };
    const r = round({
      images: [own],
      startupTaint: { key: 'drop.corewire.io/warming', effect: 'NoSchedule' },
    });
    expect(r.create[0]?.spec?.tolerations).toEqual([
      { key: 'gpu', operator: 'Exists', effect: 'NoSchedule' },
      { key: 'drop.corewire.io/warming', operator: 'Exists', effect: 'NoSchedule' },
    ]);
    expect(round({ images: [image('b', ['n1'])] }).create[0]?.spec?.tolerations ?? []).toEqual([]);
  });

  it('leaves an image alone until reconcile-image has written status for its current spec', () => {
    const stale = { ...image('a', ['n1']), metadata: { name: 'a', generation: 2 } };
    expect(round({ images: [stale] }).create).toEqual([]);
  });

  it('a pod that shows its outcome frees its node but keeps its own (image, node) busy', () => {
    const r = round({
      images: [image('a', ['n1']), image('b', ['n1'])],
      pods: [pullPodIn('a', 'n1', 'done')],
      limits: { ...LIMITS, maxConcurrentPullsPerNode: 1 },
    });
    expect(started(r)).toEqual(['b@n1']);
  });

  it('a pod still pulling holds the node, whatever policy started it', () => {
    const r = round({
      images: [image('b', ['n1', 'n2'])],
      pods: [pullPodIn('x', 'n1', 'pulling', 'fast')],
      limits: { ...LIMITS, maxConcurrentPullsPerNode: 1 },
    });
    expect(started(r)).toEqual(['b@n2']);
    expect(r.inFlight).toBe(1);
  });

  it('waits out the failure backoff from the failure reconcile-image recorded, and says when to wake', () => {
    const failed = image('a', ['n1'], {
      failedNodes: [
        {
          node: 'n1',
          reason: 'ErrImagePull',
          message: 'm',
          failures: 1,
          retryAt: '2026-11-26T10:00:20Z',
          lastFailedAt: '2026-11-26T09:59:50Z',
        },
      ],
    });
    const r = round({ images: [failed] });
    expect(r.create).toEqual([]);
    expect(r.nextWakeAt).toBe(Date.parse('2026-11-26T10:00:20Z'));
    expect(round({ images: [failed], now: Date.parse('2026-11-26T10:00:20Z') }).create).toHaveLength(1);
  });

  it('keeps minDelayBetweenPulls from the last start it remembers in the Lease', () => {
    const limits = { ...LIMITS, minDelayBetweenPullsMs: 10_000 };
    const memory = { cursor: {}, lastStart: { a: NOW - 4_000 } };
    const r = round({ images: [image('a', ['n1'])], limits, memory });
    expect(r.create).toEqual([]);
    expect(r.nextWakeAt).toBe(NOW + 6_000);
  });
});

describe('the Events a pace round records', () => {
  it('one PullStarted per image, counting the nodes its pulls started on', () => {
    const a = image('a', ['n1', 'n2']);
    const b = image('b', ['n1']);
    const r = round({ images: [a, b], limits: { ...LIMITS, maxConcurrentPullsPerNode: 2 } });
    expect(startedEvents(r.create, [a, b])).toEqual([
      {
        image: a,
        occurrence: {
          type: 'Normal',
          reason: 'PullStarted',
          action: 'Pull',
          note: 'Started pulling registry.example/a:v1 on a node',
          count: 2,
        },
      },
      {
        image: b,
        occurrence: {
          type: 'Normal',
          reason: 'PullStarted',
          action: 'Pull',
          note: 'Started pulling registry.example/b:v1 on a node',
          count: 1,
        },
      },
    ]);
  });

  it('WaitingForSlot for each pacing limit that begins holding nodes, counting them', () => {
    const group = (limit: string, nodes: number) => ({ limit, nodes, examples: ['n1'], message: 'm' });
    const before = [group('maxConcurrentNodes', 1)];
    const after = [group('maxConcurrentNodes', 4), group('minDelayBetweenPulls', 2)];
    expect(waitingEvents('slow', before, after)).toEqual([
      {
        type: 'Normal',
        reason: 'WaitingForSlot',
        action: 'Pace',
        note: 'Nodes wait for a pacing slot: minDelayBetweenPulls of PullPolicy slow holds them',
        count: 2,
      },
    ]);
    expect(waitingEvents('slow', [], before)).toHaveLength(1);
    expect(waitingEvents('slow', after, after)).toEqual([]);
  });
});

describe('new nodes first', () => {
  const joined = new Map([
    ['old-a', NOW - 3_600_000],
    ['old-b', NOW - 3_600_000],
    ['z-fresh', NOW - 60_000],
  ]);
  const oneAtATime = { ...LIMITS, maxConcurrentNodes: 1 };

  it('a node that joined within the window gets the pull before the older nodes, and the Event says so', () => {
    const r = round({
      limits: oneAtATime,
      images: [image('app', ['old-a', 'old-b', 'z-fresh'])],
      joinedAt: (n) => joined.get(n),
    });
    expect(r.create.map((p) => p.spec?.nodeName)).toEqual(['z-fresh']);
    expect([...r.newNodes]).toEqual(['z-fresh']);
    const [started] = startedEvents(r.create, [image('app', [])], r.newNodes);
    expect(started?.occurrence.note).toMatch(/on a node that just joined \(warmed first\)/);
  });

  it('newNodeWindow 0s serves no node first', () => {
    const r = round({
      limits: { ...oneAtATime, newNodeWindowMs: 0 },
      images: [image('app', ['old-a', 'old-b', 'z-fresh'])],
      joinedAt: (n) => joined.get(n),
    });
    expect(r.newNodes.size).toBe(0);
    expect(r.create.map((p) => p.spec?.nodeName)).toEqual(['old-a']);
  });
});

describe('garbage-collection probes', () => {
  it('a cached node due for a probe gets a pod with imagePullPolicy Never, marked as a probe, under the same limits', () => {
    const img = image('app', ['n1', 'n2', 'n3'], { cachedNodes: ['n1', 'n2'], probeNodes: ['n1', 'n2'] });
    const r = round({ limits: { ...LIMITS, maxConcurrentNodes: 2 }, images: [img] });
    expect(r.create).toHaveLength(2);
    const byNode = new Map(r.create.map((p) => [p.spec?.nodeName, p]));
    const probes = [...byNode.values()].filter((p) => p.metadata.annotations?.[PROBE_ANNOTATION] === 'true');
    for (const p of probes) expect(p.spec?.containers[0]?.imagePullPolicy).toBe('Never');
    // n3 holds nothing: a pull, never a probe.
    const n3 = byNode.get('n3');
    if (n3) expect(n3.spec?.containers[0]?.imagePullPolicy).toBe('Always');
    expect(probes.length + (n3 ? 1 : 0)).toBe(2);
  });
});
