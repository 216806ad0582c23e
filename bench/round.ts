// What one pace round costs the pacer's CPU at fleet scale: functions/pace's paceRound (demand,
// lib/pacing's nextPulls, the pods to create) over 1,000 nodes x 20 images in the middle of a
// rollout: about half the pairs still pending, 19 pulls in flight per image and one slot free (a
// round follows an outcome), 12 ended pods per image not recorded yet. In the scale bench a holder
// runs a few rounds a second, each waiting on the pod creates it sends, and deciding was a fifth
// of pace's CPU in a perf profile (bench/README.md §Scale, 2026-12-07). Measured as
// CPU ms per round (process.cpuUsage) after a warm-up, so a busy machine changes it little; the
// state is the same every round. No target: a figure to compare before and after a change.

import { EMPTY_MEMORY, type PaceInput, paceRound } from '../functions/pace/plan.ts';
import type { CachedImage } from '../lib/api/index.ts';
import type { Pod } from '../lib/kube/index.ts';
import { DEFAULT_PACING_LIMITS } from '../lib/policy/index.ts';
import { pullPodIn } from '../test/fixtures/pull-pods.ts';

const NODES = 1_000;
const IMAGES = 20;
const IN_FLIGHT_PER_IMAGE = 19;
const ENDED_PER_IMAGE = 12;
const ROUNDS = 300;
const WARM_UP = 50;

export interface RoundResult {
  readonly cpuMsPerRound: number;
  readonly startsPerRound: number;
  readonly pendingPairs: number;
  readonly pods: number;
}

export function benchRound(): RoundResult {
  const input = midRollout();
  let starts = 0;
  for (let i = 0; i < WARM_UP; i++) paceRound(input);
  const before = process.cpuUsage();
  for (let i = 0; i < ROUNDS; i++) starts += paceRound(input).create.length;
  const used = process.cpuUsage(before);
  const pendingPairs = input.images.reduce((sum, image) => sum + (image.status?.nodesWaiting ?? 0), 0);
  return {
    cpuMsPerRound: (used.user + used.system) / 1000 / ROUNDS,
    startsPerRound: starts / ROUNDS,
    pendingPairs,
    pods: input.pods.length,
  };
}

/** Each image cached on about half the nodes, 19 of its pending nodes pulling (one slot free); the same every run. */
function midRollout(): PaceInput {
  const now = Date.parse('2026-11-26T10:00:00Z');
  const nodes = Array.from({ length: NODES }, (_, i) => `node-${String(i).padStart(4, '0')}`);
  const joined = now - 60_000;
  const images: CachedImage[] = [];
  const pods: Pod[] = [];
  for (let i = 0; i < IMAGES; i++) {
    const name = `image-${String(i).padStart(2, '0')}`;
    // Node j holds image i when (i + j) mod 2 is 0, with every seventh one missing it too.
    const cached = nodes.filter((_, j) => (i + j) % 2 === 0 && j % 7 !== 0);
    const holds = new Set(cached);
    const pending = nodes.filter((node) => !holds.has(node));
    for (const node of pending.slice(i, i + IN_FLIGHT_PER_IMAGE)) pods.push(pullPodIn(name, node, 'pulling'));
    // Pulls that ended since the status was last written: their pods wait for it to record them.
    for (const node of pending.slice(i + IN_FLIGHT_PER_IMAGE, i + IN_FLIGHT_PER_IMAGE + ENDED_PER_IMAGE))
      pods.push(pullPodIn(name, node, 'done'));
    images.push({
      apiVersion: 'drop.corewire.io/v1alpha1',
      kind: 'CachedImage',
      metadata: { name, generation: 1 },
      spec: { image: `registry.example/${name}`, tag: 'v1', imagePullPolicy: 'Always', priority: 0 },
      status: {
        observedGeneration: 1,
        reference: `registry.example/${name}:v1`,
        nodesWaiting: pending.length,
        cachedNodes: cached,
        conditions: [
          {
            type: 'Ready',
            status: 'False',
            reason: 'Pending',
            message: '',
            lastTransitionTime: '2026-11-26T09:55:00Z',
          },
        ],
      },
    } as CachedImage);
  }
  return {
    policy: 'default',
    limits: {
      ...DEFAULT_PACING_LIMITS,
      maxConcurrentNodes: 20,
      minDelayBetweenPullsMs: 100,
      maxConcurrentPullsPerNode: 3,
    },
    images,
    pods,
    targetsOf: () => nodes,
    joinedAt: () => joined,
    memory: EMPTY_MEMORY,
    namespace: 'drop-system',
    now,
    horizonMs: 250,
  };
}
