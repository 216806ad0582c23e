// The optional bandwidth model: a sized pull takes size ÷ the node's bandwidth, shared equally by
// the sized pulls on that node; every other pod keeps the pull time the stages give it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Node, Pod } from '../../lib/kube/index.ts';
import {
  advance,
  emptyLink,
  imageSize,
  join,
  leave,
  nextFinish,
  nodeBandwidth,
  parseQuantity,
  podChange,
  projectedFinishes,
  takeFinished,
} from '../controlplane/bandwidth-model.ts';
import {
  BANDWIDTH_ANNOTATION,
  type BandwidthModel,
  createNodes,
  DROP_NAMESPACE,
  deleteNodes,
  IMAGE_SIZE_ANNOTATION,
  MODELLED_PULL_TIME_ANNOTATION,
  PULL_DELAY_ANNOTATION,
  PULL_DONE_AT_ANNOTATION,
  startBandwidthModel,
} from '../controlplane/index.ts';
import { kubeconfigPath, kubectl, kubectlJson, uniqueName, waitFor } from './harness.ts';
import { pullPodLike } from './objects.ts';

const Mi = 2 ** 20;

describe('the bandwidth model, as plain data', () => {
  const pullPod = (image: string, annotations: Record<string, string> = {}, managedBy = 'drop'): Pod => ({
    metadata: { name: 'p', labels: { 'app.kubernetes.io/managed-by': managedBy }, annotations },
    spec: { nodeName: 'n', containers: [{ name: 'pull', image }] },
  });

  it('reads the size from drop.test/image-size, else a size-<N>(Ki|Mi|Gi) marker, on Drop pull pods only', () => {
    expect(imageSize(pullPod('registry.example/big-size-20mi:1'))).toEqual({ kind: 'sized', bytes: 20 * Mi });
    expect(imageSize(pullPod('registry.example/app:size-2Gi'))).toEqual({
      kind: 'sized',
      bytes: 2 * 1024 * Mi,
    });
    expect(imageSize(pullPod('registry.example/app:1', { [IMAGE_SIZE_ANNOTATION]: '1.5G' }))).toEqual({
      kind: 'sized',
      bytes: 1.5e9,
    });
    expect(
      imageSize(pullPod('registry.example/app-size-1mi:1', { [IMAGE_SIZE_ANNOTATION]: '512Ki' })),
    ).toEqual({
      kind: 'sized',
      bytes: 512 * 1024,
    });
    expect(imageSize(pullPod('registry.example/app:1')).kind).toBe('unsized');
    expect(imageSize(pullPod('registry.example/big-size-20mi:1', {}, 'drop-test')).kind).toBe('unsized');
    expect(imageSize(pullPod('registry.example/app:1', { [IMAGE_SIZE_ANNOTATION]: 'big' })).kind).toBe(
      'invalid',
    );
  });

  it('a pull starts when its pod is bound and stops when the pod shows anything but pulling', () => {
    const sized = 'registry.example/big-size-20mi:1';
    const waiting = (reason: string): Pod['status'] => ({
      phase: 'Pending',
      containerStatuses: [{ name: 'pull', image: sized, state: { waiting: { reason } } }],
    });
    const pulling = { ...pullPod(sized), status: waiting('ContainerCreating') };
    // Bound and pulling, whether or not kwok shows it yet (the model writes only once it does).
    expect(podChange(pullPod(sized), false)).toEqual({ kind: 'join', bytes: 20 * Mi, shown: false });
    expect(podChange(pulling, false)).toEqual({ kind: 'join', bytes: 20 * Mi, shown: true });
    expect(podChange({ ...pulling, spec: { containers: pulling.spec!.containers } }, false)).toEqual({
      kind: 'ignore',
    });
    expect(podChange({ ...pullPod(sized), status: waiting('ErrImagePull') }, false)).toEqual({
      kind: 'leave',
    });
    expect(podChange({ ...pulling, status: { ...pulling.status, phase: 'Succeeded' } }, false)).toEqual({
      kind: 'leave',
    });
    expect(podChange(pulling, true)).toEqual({ kind: 'leave' });
    expect(
      podChange({ ...pulling, metadata: { ...pulling.metadata, deletionTimestamp: 'x' } }, false),
    ).toEqual({
      kind: 'leave',
    });
    // Its creator set its pull time: not the model's to time.
    const timed = pullPod(sized, { [PULL_DELAY_ANNOTATION]: '2s' });
    expect(podChange({ ...timed, status: waiting('ContainerCreating') }, false)).toEqual({ kind: 'leave' });
    expect(
      podChange({ ...pullPod('registry.example/app:1'), status: waiting('ContainerCreating') }, false),
    ).toEqual({ kind: 'ignore' });
  });

  it('a node without a readable drop.test/bandwidth has 100Mi', () => {
    const node = (bandwidth?: string): Node => ({
      metadata: { name: 'n', annotations: bandwidth ? { [BANDWIDTH_ANNOTATION]: bandwidth } : {} },
    });
    expect(nodeBandwidth(node('10Mi'))).toBe(10 * Mi);
    expect(nodeBandwidth(node())).toBe(100 * Mi);
    expect(nodeBandwidth(node('fast'))).toBe(100 * Mi);
    expect(nodeBandwidth(node('0'))).toBe(100 * Mi);
    expect(nodeBandwidth(undefined)).toBe(100 * Mi);
    expect(parseQuantity('1e3')).toBe(1_000);
    expect(parseQuantity('1.5Gi')).toBe(1.5 * 1024 * Mi);
    expect(parseQuantity('-1Mi')).toBeUndefined();
    expect(nodeBandwidth(node('-10Mi'))).toBe(100 * Mi);
  });

  it('one pull alone takes size ÷ bandwidth', () => {
    const link = join(emptyLink(10 * Mi, 0), 'a', 20 * Mi, 10 * Mi, 0);
    expect(nextFinish(link)).toBe(2_000);
  });

  it('two pulls that start together share the node and both take twice as long', () => {
    let link = join(emptyLink(10 * Mi, 0), 'a', 20 * Mi, 10 * Mi, 0);
    link = join(link, 'b', 20 * Mi, 10 * Mi, 0);
    const { finished } = takeFinished(link, 4_000);
    expect(finished.map(([key, pull]) => [key, pull.finishedAt, pull.maxSharing])).toEqual([
      ['a', 4_000, 2],
      ['b', 4_000, 2],
    ]);
    expect(takeFinished(link, 3_999).finished).toEqual([]);
  });

  it('a pull that joins later slows the first only from then on, and gets its share back when the first ends', () => {
    let link = join(emptyLink(10 * Mi, 0), 'a', 30 * Mi, 10 * Mi, 0);
    link = join(link, 'b', 30 * Mi, 10 * Mi, 1_500);
    // a: 15Mi alone, then 15Mi at 5Mi/s → 4.5 s. b: 15Mi at 5Mi/s, then 15Mi alone → 6 s.
    expect(nextFinish(link)).toBe(4_500);
    // Looked at late, the model still ends a at 4.5 s and gives b the whole link from then on.
    const late = takeFinished(link, 5_000);
    expect(late.finished.map(([key, pull]) => [key, pull.finishedAt])).toEqual([['a', 4_500]]);
    expect(nextFinish(late.link)).toBeCloseTo(6_000, 6);
  });

  it('says when each pull will end if nothing joins or leaves, the smallest first', () => {
    let link = join(emptyLink(10 * Mi, 0), 'big', 30 * Mi, 10 * Mi, 0);
    link = join(link, 'small', 20 * Mi, 10 * Mi, 0);
    // Both at 5Mi/s: small has its 20Mi at 4 s; big has 10Mi left then, alone at 10Mi/s → 5 s.
    expect(projectedFinishes(link)).toEqual(
      new Map([
        ['small', 4_000],
        ['big', 5_000],
      ]),
    );
    // What the link itself does agrees: each ends when it was said to.
    expect(advance(link, 4_000).pulls.get('small')?.finishedAt).toBe(4_000);
    expect(advance(link, 5_000).pulls.get('big')?.finishedAt).toBe(5_000);
    // Looked at later, from the rest of the bytes: big alone after small's end.
    const { link: rest } = takeFinished(link, 4_500);
    expect(projectedFinishes(rest)).toEqual(new Map([['big', 5_000]]));
    expect(projectedFinishes(emptyLink(10 * Mi, 0))).toEqual(new Map());
  });

  it('a pull that goes away gives its share back', () => {
    let link = join(emptyLink(10 * Mi, 0), 'a', 20 * Mi, 10 * Mi, 0);
    link = join(link, 'b', 20 * Mi, 10 * Mi, 0);
    link = leave(link, 'b', 1_000);
    // a: 5Mi in the first second, 15Mi alone after → 2.5 s.
    expect(nextFinish(link)).toBe(2_500);
    expect(advance(link, 2_500).pulls.get('a')?.finishedAt).toBe(2_500);
  });
});

interface Observed {
  metadata: { name: string; creationTimestamp: string; annotations?: Record<string, string> };
  status?: {
    phase?: string;
    containerStatuses?: {
      state?: { waiting?: { reason?: string }; terminated?: { finishedAt?: string } };
    }[];
  };
}

describe('pull pods on nodes with a bandwidth, the bandwidth model running', () => {
  const run = uniqueName('bandwidth');
  let model: BandwidthModel | undefined;
  const nodes: Record<'slow' | 'pair' | 'fast' | 'plain' | 'failing' | 'joined', string> = {
    slow: '',
    joined: '',
    pair: '',
    fast: '',
    plain: '',
    failing: '',
  };

  beforeAll(async () => {
    const config = kubeconfigPath();
    model = startBandwidthModel({ kubeconfigPath: config, namespace: DROP_NAMESPACE });
    const [[slow = '', pair = '', failing = '', joined = ''], [fast = ''], [plain = '']] = await Promise.all([
      createNodes(4, { kubeconfigPath: config, prefix: `${run}-10mi`, bandwidth: '10Mi' }),
      createNodes(1, { kubeconfigPath: config, prefix: `${run}-20mi`, bandwidth: '20Mi' }),
      createNodes(1, { kubeconfigPath: config, prefix: `${run}-default` }),
    ]);
    Object.assign(nodes, { slow, pair, failing, joined, fast, plain });
  });
  afterAll(async () => {
    await kubectl(['delete', 'pods', '-n', DROP_NAMESPACE, '-l', `drop.test/run=${run}`, '--wait=false']);
    await model?.stop();
    await deleteNodes(kubeconfigPath(), Object.values(nodes).filter(Boolean));
  });

  // Drop's own pull pod (label app.kubernetes.io/managed-by=drop, `restricted`-admissible).
  const pullPod = (key: string, node: string, image: string, annotations: Record<string, string> = {}) =>
    pullPodLike(`${run}-${key}`, node, image, {
      labels: { 'app.kubernetes.io/managed-by': 'drop', 'drop.test/run': run },
      annotations,
    });

  const listPods = async () => {
    const list = await kubectlJson<{ items: Observed[] }>([
      'get',
      'pods',
      '-n',
      DROP_NAMESPACE,
      '-l',
      `drop.test/run=${run}`,
    ]);
    return new Map(list.items.map((pod) => [pod.metadata.name.slice(run.length + 1), pod]));
  };
  const waiting = (pod: Observed | undefined) => pod?.status?.containerStatuses?.[0]?.state?.waiting?.reason;
  // Pull time from the pod's own timestamps. The API server keeps whole seconds, so a value is the
  // real time ±1 s: the expectations below are wide by that much and the pulls a few seconds long.
  const pullSeconds = (pod: Observed) =>
    (Date.parse(pod.status?.containerStatuses?.[0]?.state?.terminated?.finishedAt ?? '') -
      Date.parse(pod.metadata.creationTimestamp)) /
    1000;
  const modelledSeconds = (pod: Observed | undefined) => {
    const value = pod?.metadata.annotations?.[MODELLED_PULL_TIME_ANNOTATION];
    expect(value, 'no modelled pull time: does this cluster’s kwok run the current stages/?').toMatch(/s$/);
    return Number.parseFloat(value ?? '');
  };

  it('a sized pull takes size ÷ bandwidth, shared equally on its node; an unsized pull is not modelled', async () => {
    const pods = [
      pullPod('single', nodes.slow, 'registry.example/bw/app-size-30mi:1'),
      pullPod('unsized', nodes.slow, 'registry.example/bw/app:1'),
      pullPod('pair-1', nodes.pair, 'registry.example/bw/one-size-30mi:1'),
      pullPod('pair-2', nodes.pair, 'registry.example/bw/two:size-30Mi'),
      pullPod('fast', nodes.fast, 'registry.example/bw/app-size-30mi:1'),
      pullPod('default', nodes.plain, 'registry.example/bw/app:2', { [IMAGE_SIZE_ANNOTATION]: '300Mi' }),
      pullPod('failing', nodes.failing, 'registry.example/errimagepull/bw-size-20mi:1'),
      // Its last byte arrives before kwok shows it pulling: its end is written once kwok does.
      pullPod('tiny', nodes.plain, 'registry.example/bw/tiny-size-1ki:1'),
    ];
    // One request per pod from one kubectl: the pair starts within milliseconds.
    await kubectl(['create', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: pods }),
    });

    const early = await waitFor(
      async () => {
        const seen = await listPods();
        return seen.get('unsized')?.status?.phase === 'Succeeded' ? seen : undefined;
      },
      { timeoutMs: 90_000, message: 'the unsized pod succeeds' },
    );
    expect(early.get('unsized')?.metadata.annotations?.[PULL_DONE_AT_ANNOTATION]).toBeUndefined();

    const done = await waitFor(
      async () => {
        const seen = await listPods();
        const finished = ['single', 'pair-1', 'pair-2', 'fast', 'default', 'tiny'].every(
          (key) => seen.get(key)?.status?.phase === 'Succeeded',
        );
        return finished && waiting(seen.get('failing')) === 'ImagePullBackOff' ? seen : undefined;
      },
      { timeoutMs: 120_000, message: 'every sized pull ends' },
    );
    const observed = (key: string) => ({
      key,
      modelled: modelledSeconds(done.get(key)),
      pod: key === 'failing' ? undefined : pullSeconds(done.get(key)!),
    });
    const single = observed('single');
    const pair = [observed('pair-1'), observed('pair-2')];
    const fast = observed('fast');
    const plain = observed('default');
    const failing = observed('failing');
    const tiny = observed('tiny');
    const report = [single, ...pair, fast, plain, failing, tiny].map(
      (o) => `${o.key} ${o.modelled} / ${o.pod ?? '-'}`,
    );
    report.push(`unsized - / ${pullSeconds(early.get('unsized')!)}`);
    console.error(`drop: bandwidth model, seconds (modelled / from pod timestamps): ${report.join(', ')}`);

    // The model's own arithmetic, to the millisecond: 30Mi at 10Mi/s, at 20Mi/s, 300Mi at 100Mi/s.
    expect(single.modelled).toBeCloseTo(3, 2);
    expect(fast.modelled).toBeCloseTo(1.5, 2);
    expect(plain.modelled).toBeCloseTo(3, 2);
    expect(failing.modelled).toBeCloseTo(2, 2);
    expect(tiny.modelled).toBeCloseTo(0, 2);
    // Two pulls started by kwok a moment apart (g): each takes 6 s minus g, where alone each would
    // take 3 s — the first's end was said at 3 s and moved when the second started.
    const [first, second] = pair as [(typeof pair)[0], (typeof pair)[0]];
    expect(first.modelled).toBeCloseTo(second.modelled, 2);
    expect(first.modelled).toBeGreaterThan(4);
    expect(first.modelled).toBeLessThanOrEqual(6);

    // What kwok showed, from creation to the container's finishedAt (whole seconds, ±1): never
    // sooner than the model says. (Not an upper bound: on a busy machine kwok applies a stage late.)
    for (const p of [single, ...pair, fast, plain]) expect(p.pod).toBeGreaterThanOrEqual(p.modelled - 1);
  });

  it('a pull that joins later moves the end already written for the first, and kwok keeps to it', async () => {
    const doneAt = (pod: Observed | undefined) => pod?.metadata.annotations?.[PULL_DONE_AT_ANNOTATION];
    // 200Mi alone on 10Mi: 20 s, time enough to start the second while the first runs.
    await kubectl(['create', '-f', '-'], {
      input: JSON.stringify(pullPod('first', nodes.joined, 'registry.example/bw/first-size-200mi:1')),
    });
    const said = await waitFor(async () => doneAt((await listPods()).get('first')), {
      timeoutMs: 60_000,
      message: 'the end of the first pull is written',
    });
    await kubectl(['create', '-f', '-'], {
      input: JSON.stringify(pullPod('second', nodes.joined, 'registry.example/bw/second-size-60mi:1')),
    });
    const done = await waitFor(
      async () => {
        const seen = await listPods();
        return seen.get('first')?.status?.phase === 'Succeeded' &&
          seen.get('second')?.status?.phase === 'Succeeded'
          ? seen
          : undefined;
      },
      { timeoutMs: 120_000, message: 'both pulls end' },
    );
    const first = done.get('first')!;
    // The second took half the node while it ran: the first's end moved later (6 s when the second
    // starts within 14 s of the first; less the later it starts).
    const moved = Date.parse(doneAt(first) ?? '') - Date.parse(said ?? '');
    expect(moved).toBeGreaterThan(1_000);
    expect(modelledSeconds(first)).toBeGreaterThan(21);
    // kwok ended it at the moved end, not at the first one (whole seconds, ±1).
    expect(pullSeconds(first)).toBeGreaterThanOrEqual(modelledSeconds(first) - 1);
  });
});
