import type { Pod } from '../../lib/kube/index.ts';
import { paths } from '../../lib/kube/index.ts';
import { pullsWithdrawnTotal } from '../../lib/metrics.ts';
import { LABEL, labelValue, PULL_POD_SELECTOR } from '../../lib/pull-pod.ts';
import type { PaceDeps } from './apply.ts';
import { collisions, contested } from './collisions.ts';
import type { PacingView } from './view.ts';

/** After a collision, a holder leaves the node to the others for this long per policy before it. */
const HOLD_OFF_MS = 250;

/**
 * Deletes this round's pulls that another policy's holder put on the same node at the same moment,
 * and notes in `holdOff` when to offer each such node again.
 */
export async function withdrawCollisions(
  deps: PaceDeps,
  policy: string,
  created: readonly (Pod | undefined)[],
  view: PacingView,
  perNode: number,
  holdOff: Map<string, number>,
): Promise<number> {
  const started = created.filter((pod): pod is Pod => pod !== undefined);
  const nodes = new Set(started.map((pod) => pod.spec?.nodeName ?? ''));
  if (started.length === 0 || !contested(policy, nodes, view.images(), view.pods())) return 0;
  const selector = `${PULL_POD_SELECTOR},${LABEL.node} in (${[...nodes].map(labelValue).join(',')})`;
  const onNodes = await deps.kube.list<Pod>(paths.pods(deps.namespace), { labelSelector: selector });
  const withdraw = collisions(policy, started, onNodes.items, perNode);
  const now = deps.now().getTime();
  for (const { pod, rank } of withdraw) holdOff.set(pod.spec?.nodeName ?? '', now + rank * HOLD_OFF_MS);
  pullsWithdrawnTotal.inc({ policy }, withdraw.length);
  await Promise.all(
    withdraw.map(({ pod }) =>
      deps.kube.delete(paths.pod(deps.namespace, pod.metadata.name), {
        uid: pod.metadata.uid,
        gracePeriodSeconds: 0,
      }),
    ),
  );
  return withdraw.length;
}
