import type { CachedImage } from '../../lib/api/index.ts';
import type { HandlerContext } from '../../lib/controller/index.ts';
import { KubeError, type Node, paths } from '../../lib/kube/index.ts';
import { startupTaintsRemovedTotal } from '../../lib/metrics.ts';
import { policyOf, type StartupTaintSetting, startupTaintOf } from '../../lib/policy/index.ts';
import { placementOf, targetsIn } from '../../lib/targets.ts';
import { canPatchNodes, forgetNodePermission } from './node-permission.ts';
import type { ImageScope, ImageView } from './reconcile.ts';
import { type MarkedImage, type NodeSeen, removalEvent, startupTaintPlan } from './startup-taint.ts';

// The shell of the startup taint (startup-taint.ts decides): read the nodes and images from the
// caches, patch each node the plan names, record the Event on it. docs/design.md §Startup taint.

/** The startup taint of an image's policy, if it sets one. */
export function startupTaintFor(image: CachedImage, view: ImageView): StartupTaintSetting | undefined {
  return startupTaintOf(view.policies.get(policyOf(image)));
}

/**
 * Removes the startup taints that are due (startupTaintPlan), after `image` was reconciled or at
 * the ping (`image` undefined: every marked image). Looks again at the next deadline. Returns what
 * it did, for the log line.
 */
export async function untaintNodes(
  ctx: HandlerContext,
  scope: ImageScope,
  view: ImageView,
  image?: string,
): Promise<string> {
  if (image) {
    const reconciled = view.images.get(image);
    if (!reconciled || !startupTaintFor(reconciled, view)) return '';
  }
  // Nodes carrying a startup taint are few and brief: find them before computing any targets.
  const keys = new Set(
    view.policies.list().flatMap((policy) => {
      const taint = startupTaintOf(policy);
      return taint ? [`${taint.effect}\u0000${taint.key}`] : [];
    }),
  );
  if (keys.size === 0) return '';
  const tainted = view.nodes
    .list()
    .filter((node) => (node.spec?.taints ?? []).some((t) => keys.has(`${t.effect}\u0000${t.key}`)));
  if (tainted.length === 0) return '';
  const marked = markedImages(view);
  if (marked.length === 0) return '';
  const now = ctx.now();
  const plan = startupTaintPlan(tainted.map(nodeSeen), marked, now.getTime());
  const wake = marked[0]!.name;
  if (plan.nextDeadlineAt !== undefined) ctx.later(wake, plan.nextDeadlineAt - now.getTime() + 1_000);
  if (plan.remove.length === 0) return '';
  if (!(await canPatchNodes(ctx.kube, now)))
    return `startup taints due on ${plan.remove.length} nodes: forbidden`;
  let removed = 0;
  for (const removal of plan.remove) {
    const node = view.nodes.get(removal.node);
    if (!node) continue;
    try {
      const patched = await ctx.kube.jsonPatch<Node>(paths.node(removal.node), [
        // The taints as read: one added or changed meanwhile makes the patch fail (422), never lost.
        { op: 'test', path: '/spec/taints', value: removal.before },
        { op: 'replace', path: '/spec/taints', value: removal.after },
      ]);
      view.nodes.observe(patched);
      removed++;
      startupTaintsRemovedTotal.inc({ reason: removal.why });
      await scope.events.record(
        ctx.kube,
        { apiVersion: 'v1', kind: 'Node', name: node.metadata.name, uid: node.metadata.uid ?? '' },
        [removalEvent(removal)],
        now,
      );
    } catch (error) {
      if (!(error instanceof KubeError)) throw error;
      if (error.kind === 'not-found') continue;
      // The node changed since the cache read it: look again once the watch has the new version.
      if (error.kind === 'invalid' || error.kind === 'conflict') ctx.later(wake, 1_000);
      else if (error.kind === 'forbidden') {
        // The role was removed since the last review: the images' status says so at their next write.
        forgetNodePermission(ctx.kube, now);
        for (const m of marked) ctx.later(m.name, 0);
        return `startup taints: forbidden (${error.message})`;
      } else throw error;
    }
  }
  return `removed ${removed}/${plan.remove.length} startup taints`;
}

/** Ready reasons that stop every pull of an image until its spec or policy changes. */
const REFUSALS = new Set(['ImageTooLarge', 'InvalidSpec', 'InvalidPolicy']);

function markedImages(view: ImageView): MarkedImage[] {
  return view.images.list().flatMap((image) => {
    const taint = startupTaintFor(image, view);
    if (!taint) return [];
    const status = image.status;
    const current = status?.observedGeneration === image.metadata.generation;
    const ready = current ? status?.conditions?.find((c) => c.type === 'Ready') : undefined;
    const refused = ready?.status === 'False' && REFUSALS.has(ready.reason ?? '') ? ready.reason : undefined;
    return [
      {
        name: image.metadata.name,
        taint,
        targets: targetsIn(view.nodes, placementOf(image.spec, taint)),
        cachedNodes: current ? (status?.cachedNodes ?? []) : [],
        ...(refused ? { refused } : {}),
      },
    ];
  });
}

function nodeSeen(node: Node): NodeSeen {
  const ready = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  return {
    name: node.metadata.name,
    createdAt: Date.parse(node.metadata.creationTimestamp ?? '') || 0,
    ready: ready && !node.spec?.unschedulable,
    taints: node.spec?.taints ?? [],
  };
}
