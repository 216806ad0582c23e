// An independent reading of docs/design.md §Pacing for tests: plain loops over the input, sharing no
// code with the scheduler, so a bug there is not mirrored here.

import type { FailureBackoff } from '../../policy/backoff.ts';
import type { ImageDemand, NodeFailure } from '../demand.ts';
import type { NextPullsInput } from '../next-pulls.ts';

export interface Pair {
  readonly image: string;
  readonly node: string;
}

export function backoffOf(failures: number, backoff: FailureBackoff): number {
  let delay = 0;
  for (let n = 1; n <= failures; n++)
    delay = n === 1 ? backoff.initialMs : Math.min(backoff.maxMs, delay * 2);
  return Math.min(delay, backoff.maxMs);
}

export function failureRecord(image: ImageDemand, node: string): NodeFailure | undefined {
  const failures = image.failures;
  if (failures === undefined) return undefined;
  if (failures instanceof Map) return failures.get(node);
  return Object.entries(failures).find(([name]) => name === node)?.[1];
}

/** When the backoff of (image, node) ends, or undefined if it has no failures. */
export function backoffEnd(input: NextPullsInput, image: ImageDemand, node: string): number | undefined {
  const record = failureRecord(image, node);
  if (record === undefined || record.failures <= 0) return undefined;
  return record.lastFailedAt + backoffOf(record.failures, input.limits.failureBackoff);
}

/** The world after `starts`: they are pulls of the policy in flight since `now`. */
export function withStarts(input: NextPullsInput, starts: readonly Pair[]): NextPullsInput {
  const started = starts.map((s) => ({ ...s, policy: input.policy, startedAt: input.now }));
  return { ...input, inFlight: [...input.inFlight, ...started] };
}

export function at(input: NextPullsInput, now: number): NextPullsInput {
  return { ...input, now };
}

/** The first docs/design.md §Pacing rule that forbids starting this pull in this world, or undefined if none does. */
export function ruleAgainst(world: NextPullsInput, image: ImageDemand, node: string): string | undefined {
  const { limits, now, inFlight } = world;
  if (!image.pendingNodes.includes(node)) return 'not pending';
  if (inFlight.some((p) => p.image === image.name && p.node === node)) return 'already in flight';
  const end = backoffEnd(world, image, node);
  if (end !== undefined && now < end) return 'failure backoff';
  if (inFlight.filter((p) => p.node === node).length >= limits.maxConcurrentPullsPerNode) return 'per node';
  const ofImage = inFlight.filter((p) => p.image === image.name);
  if (ofImage.length >= limits.maxConcurrentNodes) return 'per image concurrency';
  const startTimes = ofImage.map((p) => p.startedAt);
  if (image.lastStartAt !== undefined) startTimes.push(image.lastStartAt);
  if (startTimes.length > 0 && now < Math.max(...startTimes) + limits.minDelayBetweenPullsMs)
    return 'min delay';
  const cap = limits.maxConcurrentPulls;
  if (cap !== undefined && inFlight.filter((p) => p.policy === world.policy).length >= cap)
    return 'per policy';
  return undefined;
}

/** Every pending pair that may start in this world, of the images `which` selects. */
export function eligiblePairs(
  world: NextPullsInput,
  which: (image: ImageDemand) => boolean = () => true,
): Pair[] {
  const pairs: Pair[] = [];
  for (const image of world.images.filter(which)) {
    for (const node of new Set(image.pendingNodes)) {
      if (ruleAgainst(world, image, node) === undefined) pairs.push({ image: image.name, node });
    }
  }
  return pairs;
}

/** Replays the starts in order; each must be allowed by inFlight plus the starts before it. */
export function limitViolations(input: NextPullsInput, starts: readonly Pair[]): string[] {
  const violations: string[] = [];
  starts.forEach((start, index) => {
    const image = input.images.find((i) => i.name === start.image);
    const rule = image
      ? ruleAgainst(withStarts(input, starts.slice(0, index)), image, start.node)
      : 'unknown image';
    if (rule !== undefined) violations.push(`start #${index} ${start.image} on ${start.node}: ${rule}`);
  });
  return violations;
}

/** Names sorted, rotated to begin after `last`: the documented order in which a priority takes turns. */
export function rotation(names: readonly string[], last: string | undefined): string[] {
  const sorted = [...names].sort();
  if (last === undefined) return sorted;
  return [...sorted.filter((n) => n > last), ...sorted.filter((n) => n <= last)];
}
