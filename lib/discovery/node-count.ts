import type { NodeSelector } from '../api/index.ts';
import type { Kube, Node } from '../kube/index.ts';
import { paths } from '../kube/index.ts';

type Requirement = NonNullable<NodeSelector['nodeSelectorTerms'][number]['matchExpressions']>[number];

/** Whether a node matches a core/v1 NodeSelector: any term, every requirement of it (node affinity's rules). */
export function matchesNodeSelector(node: Node, selector: NodeSelector | undefined): boolean {
  if (!selector) return true;
  const labels = node.metadata.labels ?? {};
  const fields: Readonly<Record<string, string>> = { 'metadata.name': node.metadata.name };
  return selector.nodeSelectorTerms.some(
    (term) =>
      (term.matchExpressions?.length || term.matchFields?.length) &&
      (term.matchExpressions ?? []).every((r) => holds(r, labels)) &&
      (term.matchFields ?? []).every((r) => holds(r, fields)),
  );
}

function holds(requirement: Requirement, values: Readonly<Record<string, string>>): boolean {
  const value = values[requirement.key];
  const wanted = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
      return value !== undefined && wanted.includes(value);
    case 'NotIn':
      return value === undefined || !wanted.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      const [bound] = wanted.map(Number);
      const actual = Number(value);
      if (value === undefined || bound === undefined || !Number.isInteger(actual) || !Number.isInteger(bound))
        return false;
      return requirement.operator === 'Gt' ? actual > bound : actual < bound;
    }
  }
}

function isReady(node: Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** N for modelExposure: the Ready nodes matching the selector (no selector: every Ready node). */
export function readyNodesMatching(nodes: readonly Node[], selector: NodeSelector | undefined): number {
  return nodes.filter((n) => isReady(n) && matchesNodeSelector(n, selector)).length;
}

/** Lists the nodes and counts; throws what the API answered. */
export async function countReadyNodes(kube: Kube, selector: NodeSelector | undefined): Promise<number> {
  const nodes = await kube.list<Node>(paths.nodes());
  return readyNodesMatching(nodes.items, selector);
}
