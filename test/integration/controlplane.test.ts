// The local control plane behaves like a real cluster where Drop depends on it: nodes, RBAC,
// Pod Security admission, and kwok driving pull pods through the outcome their stage selects.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodes, DROP_NAMESPACE, deleteNodes, NODE_SET_LABEL } from '../controlplane/index.ts';
import { kubeconfigPath, kubectl, kubectlJson, kubectlResult, uniqueName, waitFor } from './harness.ts';
import { pullPodLike } from './objects.ts';

interface ContainerState {
  waiting?: { reason?: string; message?: string };
  terminated?: { exitCode: number; reason?: string; message?: string };
}
interface Pod {
  metadata: { name: string };
  status?: {
    phase?: string;
    containerStatuses?: { imageID?: string; state?: ContainerState }[];
  };
}
interface Node {
  metadata: { name: string; labels?: Record<string, string> };
  spec?: { unschedulable?: boolean; taints?: { key: string; effect: string }[] };
  status?: { conditions?: { type: string; status: string }[] };
}

const isReady = (node: Node) =>
  node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

describe('fake nodes', () => {
  it('cluster:up creates Ready nodes: a build node, a tainted build node and a cordoned node', async () => {
    const nodes = await kubectlJson<{ items: Node[] }>(['get', 'nodes', '-l', `${NODE_SET_LABEL}=kwok-node`]);
    const byName = new Map(nodes.items.map((n) => [n.metadata.name, n]));
    expect([...byName.keys()].sort()).toEqual(
      expect.arrayContaining(['kwok-node-1', 'kwok-node-2', 'kwok-node-3']),
    );
    expect(nodes.items.every(isReady)).toBe(true);
    expect(byName.get('kwok-node-1')?.metadata.labels?.['node-role.kubernetes.io/build']).toBe('true');
    expect(byName.get('kwok-node-1')?.spec?.taints ?? []).toEqual([]);
    expect(byName.get('kwok-node-2')?.spec?.taints).toEqual([
      { key: 'node-role.kubernetes.io/build', value: 'true', effect: 'NoSchedule' },
    ]);
    expect(byName.get('kwok-node-3')?.spec?.unschedulable).toBe(true);
  });

  it('createNodes adds nodes that kwok keeps Ready, and `kubectl get nodes` shows them', async () => {
    const prefix = uniqueName('extra');
    const names = await createNodes(2, { kubeconfigPath: kubeconfigPath(), prefix });
    try {
      const table = await kubectl(['get', 'nodes', '-l', `${NODE_SET_LABEL}=${prefix}`, '--no-headers']);
      expect(
        table
          .trim()
          .split('\n')
          .map((line) => line.split(/\s+/).slice(0, 2)),
      ).toEqual(names.map((name) => [name, 'Ready']));
    } finally {
      await deleteNodes(kubeconfigPath(), names);
    }
  });
});

describe('RBAC', () => {
  it('a service account token can list pods only once a RoleBinding allows it', async () => {
    const account = uniqueName('reader');
    await kubectl(['create', 'serviceaccount', account, '-n', 'default']);
    const token = (await kubectl(['create', 'token', account, '-n', 'default'])).trim();
    const canList = async () =>
      (
        await kubectlResult(['--token', token, 'auth', 'can-i', 'list', 'pods', '-n', 'default'])
      ).stdout.trim();
    try {
      expect(await canList()).toBe('no');
      await kubectl(['create', 'role', account, '--verb=list', '--resource=pods', '-n', 'default']);
      await kubectl([
        'create',
        'rolebinding',
        account,
        `--role=${account}`,
        `--serviceaccount=default:${account}`,
        '-n',
        'default',
      ]);
      expect(
        await waitFor(async () => (await canList()) === 'yes', { message: 'can-i list pods = yes' }),
      ).toBe(true);
      expect(
        (
          await kubectlResult(['--token', token, 'auth', 'can-i', 'delete', 'pods', '-n', 'default'])
        ).stdout.trim(),
      ).toBe('no');
    } finally {
      await kubectl([
        'delete',
        'rolebinding,role,serviceaccount',
        account,
        '-n',
        'default',
        '--ignore-not-found',
      ]);
    }
  });
});

describe('Pod Security admission', () => {
  it(`rejects a privileged pod in ${DROP_NAMESPACE}`, async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: uniqueName('privileged'), namespace: DROP_NAMESPACE },
      spec: {
        nodeName: 'kwok-node-1',
        containers: [{ name: 'c', image: 'registry.example/app:1', securityContext: { privileged: true } }],
      },
    };
    const result = await kubectlResult(['create', '-f', '-'], { input: JSON.stringify(pod) });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('violates PodSecurity "restricted:latest"');
    expect(result.stderr).toContain('privileged');
  });
});

describe('pull pods on fake nodes reach the outcome their stage selects', () => {
  const run = uniqueName('outcome');
  let node = '';

  beforeAll(async () => {
    [node = ''] = await createNodes(1, { kubeconfigPath: kubeconfigPath(), prefix: run });
  });
  afterAll(async () => {
    await kubectl(['delete', 'pods', '-n', DROP_NAMESPACE, '-l', `drop.test/run=${run}`, '--wait=false']);
    await deleteNodes(kubeconfigPath(), [node]);
  });

  // Drop's own pull pod shape, so it also proves Drop's pods pass `restricted` Pod Security.
  async function pullPod(
    image: string,
    extra: { labels?: Record<string, string>; annotations?: Record<string, string> } = {},
  ) {
    const name = uniqueName('pull');
    const pod = pullPodLike(name, node, image, {
      labels: { 'app.kubernetes.io/managed-by': 'drop-test', 'drop.test/run': run, ...extra.labels },
      ...(extra.annotations ? { annotations: extra.annotations } : {}),
    });
    await kubectl(['create', '-f', '-'], { input: JSON.stringify(pod) });
    return name;
  }

  async function podWhen(name: string, done: (pod: Pod) => boolean, timeoutMs = 60_000): Promise<Pod> {
    return waitFor(
      async () => {
        const pod = await kubectlJson<Pod>(['get', 'pod', name, '-n', DROP_NAMESPACE]);
        return done(pod) ? pod : undefined;
      },
      { timeoutMs, message: `pod ${name}` },
    );
  }
  const container = (pod: Pod) => pod.status?.containerStatuses?.[0];
  const waitingReason = (reason: string) => (pod: Pod) => container(pod)?.state?.waiting?.reason === reason;

  it('by default the image is pulled (imageID set) and the container completes', async () => {
    const pod = await podWhen(
      await pullPod('registry.example/team/app:1.0'),
      (p) => p.status?.phase === 'Succeeded',
    );
    expect(container(pod)?.imageID).toMatch(/^registry\.example\/team\/app@sha256:[a-f0-9]{64}$/);
    expect(container(pod)?.state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
  });

  it('an image given by digest reports that digest, and short names are normalised like containerd does', async () => {
    const digest = `sha256:${'ab'.repeat(32)}`;
    const byDigest = await podWhen(
      await pullPod(`registry.example/app@${digest}`),
      (p) => p.status?.phase === 'Succeeded',
    );
    expect(container(byDigest)?.imageID).toBe(`registry.example/app@${digest}`);
    const short = await podWhen(await pullPod('nginx:1.27'), (p) => p.status?.phase === 'Succeeded');
    expect(container(short)?.imageID).toMatch(/^docker\.io\/library\/nginx@sha256:[a-f0-9]{64}$/);
  });

  it('an image marked errimagepull fails with ErrImagePull, then ImagePullBackOff', async () => {
    const image = 'registry.example/errimagepull/app:1';
    const name = await pullPod(image);
    const failed = await podWhen(
      name,
      (p) => !!container(p)?.state?.waiting?.reason?.match(/ErrImagePull|ImagePullBackOff/),
    );
    expect(failed.status?.phase).toBe('Pending');
    const backOff = await podWhen(name, waitingReason('ImagePullBackOff'));
    expect(container(backOff)?.state?.waiting?.message).toBe(
      `Back-off pulling image "${image}": ErrImagePull: rpc error: code = NotFound desc = failed to pull and unpack image "${image}": failed to resolve reference "${image}": not found`,
    );
  });

  it('the drop.test/outcome label selects the outcome per pod, whatever the image', async () => {
    const name = await pullPod('registry.example/app:2', { labels: { 'drop.test/outcome': 'unauthorized' } });
    const pod = await podWhen(name, waitingReason('ImagePullBackOff'));
    expect(container(pod)?.state?.waiting?.message).toContain('401 Unauthorized');
  });

  it('an image marked invalidimagename fails with InvalidImageName', async () => {
    const image = 'registry.example/invalidimagename';
    const pod = await podWhen(await pullPod(image), waitingReason('InvalidImageName'));
    expect(container(pod)?.state?.waiting?.message).toBe(
      `Failed to apply default image tag "${image}": couldn't parse image name "${image}": invalid reference format`,
    );
  });

  it('starterror: the image is pulled but the command does not exist, as a real kubelet reports it', async () => {
    const pod = await podWhen(
      await pullPod('registry.example/starterror:1'),
      (p) => p.status?.phase === 'Failed',
    );
    expect(container(pod)?.imageID).toMatch(/@sha256:[a-f0-9]{64}$/);
    expect(container(pod)?.state?.terminated).toMatchObject({ exitCode: 128, reason: 'StartError' });
  });

  it('a slow-<N>s image, or the drop.test/pull-delay annotation, takes that long to pull', async () => {
    // Lower bounds only, each from just before its pod was created: on a busy machine kwok may take
    // longer than asked, never shorter, and the two pods may finish in either order.
    const done = (p: Pod) => p.status?.phase === 'Succeeded';
    const slowCreated = Date.now();
    const slow = await pullPod('registry.example/big-slow-3s:1');
    const delayedCreated = Date.now();
    const delayed = await pullPod('registry.example/app:3', {
      annotations: { 'drop.test/pull-delay': '2s' },
    });
    const finished = await Promise.all(
      [
        { name: delayed, created: delayedCreated },
        { name: slow, created: slowCreated },
      ].map(async ({ name, created }) => {
        await podWhen(name, done);
        return { ms: Date.now() - created };
      }),
    );
    expect(finished[0]!.ms).toBeGreaterThanOrEqual(2_000);
    expect(finished[1]!.ms).toBeGreaterThanOrEqual(3_000);
  });

  it('a deleted pod that is still pulling goes away (kwok confirms the delete like a kubelet)', async () => {
    const name = await pullPod('registry.example/errimagepull/gone:1');
    await podWhen(name, waitingReason('ImagePullBackOff'));
    await kubectl(['delete', 'pod', name, '-n', DROP_NAMESPACE, '--wait=true', '--timeout=20s']);
    const left = await kubectlResult(['get', 'pod', name, '-n', DROP_NAMESPACE]);
    expect(left.stderr).toContain('NotFound');
  });
});
