// Fault 6: nodes joining in bursts, deleted mid-pull, cordoned mid-pull, and a node whose
// heartbeat stops (kube-controller-manager marks it NotReady and taints it unreachable).
import { paths } from '../../../lib/kube/index.ts';
import { createNodes, deleteNodes, resumeHeartbeat, stopHeartbeat } from '../../controlplane/index.ts';
import type { ChaosEnv } from '../env.ts';
import type { Fault } from '../fault.ts';
import { pulling, seconds, until, untilPulling } from '../fault.ts';
import { POOL_LABEL, ROLE_LABEL, startWave } from '../workload.ts';

let bursts = 0;

export const nodesJoin: Fault = {
  name: 'nodes-join',
  title: 'nodes joining in bursts (2 × 10)',
  shape: 'replicas',
  convergeWithinMs: 240_000,
  async run(env) {
    const added: string[] = [];
    for (let i = 0; i < 2; i++) {
      bursts += 1;
      const names = await createNodes(10, {
        kubeconfigPath: env.plane.kubeconfigPath,
        prefix: `chaos-burst${bursts}`,
        labels: { [POOL_LABEL]: 'chaos', [ROLE_LABEL]: 'build' },
        timeoutMs: 120_000,
      });
      added.push(...names);
      await untilPulling(env, 1);
    }
    env.nodes.push(...added);
    return `${added.length} nodes joined while pulls ran; each got the pool's images`;
  },
};

/** Nodes with a pull in flight now, up to `count`. */
function pullingNodes(env: ChaosEnv, count: number): string[] {
  return [...new Set(pulling(env).map((p) => p.node))].slice(0, count);
}

export const nodesDeleted: Fault = {
  name: 'nodes-deleted',
  title: 'nodes deleted mid-pull',
  shape: 'replicas',
  convergeWithinMs: 180_000,
  async run(env) {
    await startWave(env.kube);
    await untilPulling(env, 4);
    const victims = pullingNodes(env, 3);
    await deleteNodes(env.plane.kubeconfigPath, victims);
    for (const v of victims) env.nodes.splice(env.nodes.indexOf(v), 1);
    const from = Date.now();
    await until(
      () =>
        env.watcher.pods.list().some((p) => victims.includes(p.spec?.nodeName ?? '')) ? undefined : true,
      120_000,
      'the deleted nodes’ pull pods to go',
    );
    return `${victims.length} nodes with pulls in flight deleted; their pods gone ${seconds(Date.now() - from)} later, READY dropped them`;
  },
};

export const nodesCordoned: Fault = {
  name: 'nodes-cordoned',
  title: 'nodes cordoned mid-pull, uncordoned later',
  shape: 'replicas',
  convergeWithinMs: 180_000,
  async run(env) {
    await startWave(env.kube);
    await untilPulling(env, 4);
    const victims = pullingNodes(env, 3);
    for (const node of victims)
      await env.kube.mergePatch(paths.node(node), { spec: { unschedulable: true } });
    // Long enough for their pulls to end and for READY to have been written without them.
    await new Promise((r) => setTimeout(r, 15_000));
    for (const node of victims)
      await env.kube.mergePatch(paths.node(node), { spec: { unschedulable: null } });
    return `${victims.length} nodes cordoned with pulls in flight for 15 s; READY left them out, then counted them again`;
  },
};

export const nodeNotReady: Fault = {
  name: 'node-not-ready',
  title: 'a node’s heartbeat stops mid-pull (NotReady), then resumes',
  shape: 'replicas',
  convergeWithinMs: 240_000,
  async run(env) {
    await startWave(env.kube);
    await untilPulling(env, 4);
    const [node] = pullingNodes(env, 1);
    if (!node) throw new Error('no node with a pull in flight');
    await stopHeartbeat(env.plane.kubeconfigPath, node);
    const from = Date.now();
    await until(
      () => {
        const ready = env.watcher.nodes.get(node)?.status?.conditions?.find((c) => c.type === 'Ready');
        return ready && ready.status !== 'True' ? true : undefined;
      },
      180_000,
      `${node} to turn NotReady`,
    );
    const notReady = Date.now() - from;
    // Drop stops counting it: its images' targets leave it out.
    await until(
      () =>
        env.watcher.images
          .list()
          .filter((i) => i.metadata.name.startsWith('chaos-app'))
          .every(
            (i) =>
              !(i.status?.cachedNodes ?? []).includes(node) ||
              (i.status?.nodesTargeted ?? 0) < env.nodes.length,
          )
          ? true
          : undefined,
      120_000,
      `the images to stop targeting ${node}`,
    );
    await resumeHeartbeat(env.plane.kubeconfigPath, node);
    // Lifted once the node is Ready again: converging before that would not include it.
    await until(
      () =>
        env.watcher.nodes.get(node)?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True'
          ? true
          : undefined,
      120_000,
      `${node} to be Ready again`,
    );
    return `${node} NotReady ${seconds(notReady)} after its heartbeat stopped; left out of the targets; back after it resumed`;
  },
};
