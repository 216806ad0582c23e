// When the workload has converged after a fault: pure, over what the watcher holds. Every
// CachedImage has seen its spec, holds its image on exactly its target nodes (READY n/n, n the
// targets the nodes say now), no pull is in flight, and every set is Ready.
import type { ObservedPull } from './invariants.ts';

export interface ImageState {
  readonly name: string;
  readonly generation: number;
  readonly observedGeneration?: number | undefined;
  readonly phase?: string | undefined;
  readonly nodesReady?: number | undefined;
  readonly nodesTargeted?: number | undefined;
  /** Its target nodes as the nodes are now. */
  readonly targets: number;
}

export interface SetState {
  readonly name: string;
  readonly ready: boolean;
  readonly message?: string | undefined;
}

/** The objects the workload must have (a watch that has not shown a new one yet is not convergence). */
export interface Expected {
  readonly images: readonly string[];
  readonly sets: readonly string[];
}

/** What still keeps the workload from having converged; empty when it has. */
export function notConverged(
  images: readonly ImageState[],
  sets: readonly SetState[],
  pulls: readonly ObservedPull[],
  expected: Expected = { images: [], sets: [] },
): string[] {
  const waiting: string[] = [];
  for (const name of expected.images)
    if (!images.some((i) => i.name === name)) waiting.push(`${name}: not there`);
  for (const name of expected.sets)
    if (!sets.some((s) => s.name === name)) waiting.push(`set ${name}: not there`);
  for (const image of images) {
    if (image.observedGeneration !== image.generation)
      waiting.push(`${image.name}: generation ${image.generation} not observed yet`);
    else if (image.nodesTargeted !== image.targets)
      waiting.push(`${image.name}: targets ${image.nodesTargeted ?? '-'} of ${image.targets} nodes`);
    else if (image.nodesReady !== image.targets || image.phase !== 'Ready')
      waiting.push(
        `${image.name}: READY ${image.nodesReady ?? 0}/${image.targets} (${image.phase ?? 'no phase'})`,
      );
  }
  for (const set of sets) if (!set.ready) waiting.push(`set ${set.name}: ${set.message ?? 'not Ready'}`);
  const pulling = pulls.filter((p) => p.state === 'pulling').length;
  if (pulling > 0) waiting.push(`${pulling} pulls in flight`);
  return waiting;
}
