import type { Node, Taint, Toleration } from './kube/core.ts';
import type { Informer } from './kube/informer.ts';
import { compareText } from './order.ts';

export interface Placement {
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly tolerations?: readonly Toleration[];
}

/** A PullPolicy's startupTaint as placement needs it (lib/policy StartupTaintSetting). */
export interface StartupTaint {
  readonly key: string;
  readonly effect: 'NoSchedule' | 'NoExecute';
}

/**
 * Where an image goes: its spec's nodeSelector and tolerations, plus — when its PullPolicy sets a
 * startupTaint — a toleration of that taint, so a node still warming up is a target for the images
 * it waits for, and only for them. Its pull pods carry the same tolerations.
 */
export function placementOf(
  spec:
    | {
        readonly nodeSelector?: Readonly<Record<string, string>>;
        readonly tolerations?: readonly Toleration[];
      }
    | undefined,
  startupTaint?: StartupTaint,
): Placement {
  const tolerations = [
    ...(spec?.tolerations ?? []),
    ...(startupTaint ? [startupToleration(startupTaint)] : []),
  ];
  return {
    ...(spec?.nodeSelector ? { nodeSelector: spec.nodeSelector } : {}),
    ...(tolerations.length > 0 ? { tolerations } : {}),
  };
}

/** The toleration of a startup taint: its key with any value, its effect. */
export function startupToleration(taint: StartupTaint): Toleration {
  return { key: taint.key, operator: 'Exists', effect: taint.effect };
}

/**
 * The nodes an image should be cached on: the selector matches, the node is Ready and not
 * cordoned or being deleted, and every NoSchedule/NoExecute taint is tolerated — the same nodes
 * the scheduler would run a workload with this selector and these tolerations on.
 */
export function targetNodes(nodes: readonly Node[], placement: Placement): readonly string[] {
  return nodes
    .filter((node) => isTarget(node, placement))
    .map((node) => node.metadata.name)
    .sort();
}

export function isTarget(node: Node, placement: Placement): boolean {
  return placed(node, placement) && skipReason(node) === undefined;
}

/** A node the placement selects, whatever its disk: what a workload could be scheduled on. */
export function placed(node: Node, placement: Placement): boolean {
  if (node.metadata.deletionTimestamp) return false;
  if (node.spec?.unschedulable) return false;
  if (!isReady(node)) return false;
  if (!matchesSelector(node.metadata.labels ?? {}, placement.nodeSelector ?? {})) return false;
  return (node.spec?.taints ?? []).every(
    (taint) =>
      !repels(taint) ||
      (taint.key === DISK_PRESSURE_TAINT && skipReason(node) !== undefined) ||
      tolerated(taint, placement.tolerations ?? []),
  );
}

/** Whether the node's labels match the nodeSelector, whatever its readiness, cordon and taints. */
export function isSelected(node: Node, placement: Placement): boolean {
  return matchesSelector(node.metadata.labels ?? {}, placement.nodeSelector ?? {});
}

/**
 * The taint the node lifecycle controller puts on a node with DiskPressure (TaintNodesByCondition):
 * a node with it is skipped for the condition, not left out as untolerated, so the status says why.
 */
export const DISK_PRESSURE_TAINT = 'node.kubernetes.io/disk-pressure';

/**
 * Why a node that would be a target is skipped for now: `DiskPressure` while the kubelet reports
 * it (pulling onto a full disk makes the kubelet evict pods and delete images). Undefined: pull.
 */
export function skipReason(node: Node): 'DiskPressure' | undefined {
  const pressure = node.status?.conditions?.some((c) => c.type === 'DiskPressure' && c.status === 'True');
  return pressure ? 'DiskPressure' : undefined;
}

/** The nodes the placement selects that are skipped for now, by name, with the reason. */
export function skippedNodes(
  nodes: readonly Node[],
  placement: Placement,
): readonly { readonly node: string; readonly reason: string }[] {
  return nodes
    .filter((node) => placed(node, placement))
    .flatMap((node) => {
      const reason = skipReason(node);
      return reason ? [{ node: node.metadata.name, reason }] : [];
    })
    .sort((a, b) => compareText(a.node, b.node));
}

function isReady(node: Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function matchesSelector(
  labels: Readonly<Record<string, string>>,
  selector: Readonly<Record<string, string>>,
) {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

// PreferNoSchedule is only a preference for the scheduler; it does not keep a bound pod off a node.
function repels(taint: Taint): boolean {
  return taint.effect === 'NoSchedule' || taint.effect === 'NoExecute';
}

/** Toleration matching as in k8s.io/api core/v1 Toleration.ToleratesTaint. */
export function tolerated(taint: Taint, tolerations: readonly Toleration[]): boolean {
  return tolerations.some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.operator === 'Exists') return !t.key || t.key === taint.key;
    return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
  });
}

type Skipped = readonly { readonly node: string; readonly reason: string }[];

const computed = new WeakMap<
  object,
  Map<string, { readonly revision: number; readonly targets: readonly string[]; readonly skipped: Skipped }>
>();

/**
 * targetNodes over a watch cache of the nodes, computed once per placement while the nodes stay as
 * they are (a node's heartbeat goes to its Lease, so they rarely change): at a thousand nodes,
 * checking each was most of a reconcile.
 */
export function targetsIn(nodes: Informer<Node>, placement: Placement): readonly string[] {
  return placementIn(nodes, placement).targets;
}

/** skippedNodes over a watch cache of the nodes, computed with the targets. */
export function skippedIn(nodes: Informer<Node>, placement: Placement): Skipped {
  return placementIn(nodes, placement).skipped;
}

function placementIn(nodes: Informer<Node>, placement: Placement) {
  let byPlacement = computed.get(nodes);
  if (!byPlacement) {
    byPlacement = new Map();
    computed.set(nodes, byPlacement);
  }
  const key = JSON.stringify([placement.nodeSelector ?? {}, placement.tolerations ?? []]);
  const known = byPlacement.get(key);
  if (known?.revision === nodes.revision) return known;
  const listed = nodes.list();
  const entry = {
    revision: nodes.revision,
    targets: targetNodes(listed, placement),
    skipped: skippedNodes(listed, placement),
  };
  byPlacement.set(key, entry);
  return entry;
}
