// Fault 7: someone else deletes pull pods; a CachedImage, a set or the PullPolicy is deleted or
// changed mid-pull.
import type { Kube } from '../../../lib/kube/index.ts';
import { paths } from '../../../lib/kube/index.ts';
import type { Fault } from '../fault.ts';
import { pulling, seconds, until, untilPulling } from '../fault.ts';
import { APP_IMAGES, appImage, NAMESPACE, POLICIES, STATIC_SET, startWave } from '../workload.ts';

export const pullPodsDeleted: Fault = {
  name: 'pull-pods-deleted',
  title: 'pull pods deleted by someone else',
  shape: 'replicas',
  convergeWithinMs: 180_000,
  async run(env) {
    await startWave(env.kube);
    // Two are enough: on a small pool a wave may never have four in flight at once.
    await untilPulling(env, 2);
    const victims = pulling(env);
    await Promise.all(
      victims.map((p) => env.kube.delete(paths.pod(NAMESPACE, p.name)).catch(() => undefined)),
    );
    const retried = await until(
      () => {
        const again = pulling(env).filter((p) =>
          victims.some((v) => v.image === p.image && v.node === p.node),
        );
        return again.length > 0 ? again.length : undefined;
      },
      120_000,
      'a deleted pull to start again',
    );
    return `${victims.length} pulling pods deleted; pulls started again (${retried} of those at once so far)`;
  },
};

export const imageDeleted: Fault = {
  name: 'image-deleted',
  title: 'CachedImage deleted mid-pull, then created again',
  shape: 'replicas',
  convergeWithinMs: 180_000,
  async run(env) {
    const name = await startWave(env.kube);
    await until(
      () => (pulling(env).some((p) => p.image === name) ? true : undefined),
      120_000,
      `pulls of ${name}`,
    );
    const deleted = Date.now();
    await env.kube.delete(paths.cachedImage(name));
    await until(
      () =>
        env.watcher.pods.list().some((p) => p.metadata.annotations?.['drop.corewire.io/cachedimage'] === name)
          ? undefined
          : true,
      120_000,
      `${name}'s pull pods to go`,
    );
    const gone = Date.now() - deleted;
    const index = APP_IMAGES.indexOf(name as (typeof APP_IMAGES)[number]);
    await env.kube.create(paths.cachedImages(), appImage(name, index, 100 + index) as never);
    return `its pull pods were gone ${seconds(gone)} after the delete; created again, it was pulled again`;
  },
};

export const setDeleted: Fault = {
  name: 'set-deleted',
  title: 'CachedImageSet deleted mid-pull, then created again',
  shape: 'replicas',
  convergeWithinMs: 180_000,
  async run(env) {
    const set = await env.kube.get<
      { metadata: { name: string }; spec: { images: { tag: string }[] } } & never
    >(paths.cachedImageSet(STATIC_SET));
    const spec = (set as unknown as { spec: Record<string, unknown> }).spec;
    // New tags make the set's children pull again.
    const images = (spec.images as { image: string; tag: string }[]).map((i) => ({
      ...i,
      tag: `${i.tag}-${Date.now() % 1000}`,
    }));
    await env.kube.mergePatch(paths.cachedImageSet(STATIC_SET), { spec: { images } });
    await until(
      () => (pulling(env).some((p) => p.image.startsWith(`${STATIC_SET}-`)) ? true : undefined),
      120_000,
      'pulls of the set',
    );
    const deleted = Date.now();
    await env.kube.delete(paths.cachedImageSet(STATIC_SET));
    await until(
      () =>
        env.watcher.images.list().some((i) => i.metadata.name.startsWith(`${STATIC_SET}-`))
          ? undefined
          : true,
      120_000,
      'the set’s CachedImages to go',
    );
    const gone = Date.now() - deleted;
    await until(
      () =>
        env.watcher.pods
          .list()
          .some((p) =>
            (p.metadata.annotations?.['drop.corewire.io/cachedimage'] ?? '').startsWith(`${STATIC_SET}-`),
          )
          ? undefined
          : true,
      120_000,
      'the set’s pull pods to go',
    );
    await env.kube.create(paths.cachedImageSets(), {
      apiVersion: 'drop.corewire.io/v1alpha1',
      kind: 'CachedImageSet',
      metadata: { name: STATIC_SET },
      spec: { ...spec, images },
    } as never);
    return `its CachedImages were gone ${seconds(gone)} after the delete, their pulls stopped; created again, pulled again`;
  },
};

export const policyChanged: Fault = {
  name: 'policy-changed',
  title: 'PullPolicy limits lowered mid-pull, then restored',
  shape: 'replicas',
  convergeWithinMs: 180_000,
  async run(env) {
    await startWave(env.kube);
    await untilPulling(env, 6);
    await env.kube.mergePatch(paths.pullPolicy('chaos-a'), {
      spec: { maxConcurrentNodes: 2, maxConcurrentPulls: 4 },
    });
    await new Promise((r) => setTimeout(r, 15_000));
    const during = pulling(env).filter((p) => p.policy === 'chaos-a').length;
    await env.kube.mergePatch(paths.pullPolicy('chaos-a'), {
      spec: {
        maxConcurrentNodes: POLICIES['chaos-a'].maxConcurrentNodes,
        maxConcurrentPulls: POLICIES['chaos-a'].maxConcurrentPulls,
      },
    });
    return `with maxConcurrentPulls 14 → 4 for 15 s, ${during} of its pulls were in flight at the end; no start over the new limits`;
  },
};

export const policyDeleted: Fault = {
  name: 'policy-deleted',
  title: 'PullPolicy deleted mid-pull, then created again',
  shape: 'replicas',
  convergeWithinMs: 180_000,
  async run(env) {
    const name = await startWave(env.kube);
    await untilPulling(env, 4);
    await env.kube.delete(paths.pullPolicy('chaos-a'));
    const reason = await until(
      () => {
        const image = env.watcher.images.get(name);
        const ready = image?.status?.conditions?.find((c) => c.type === 'Ready');
        return ready?.reason === 'PolicyNotFound' ? ready.reason : undefined;
      },
      120_000,
      `${name} to say PolicyNotFound`,
    );
    await recreatePolicy(env.kube);
    return `its images said ${reason}; created again, they converged`;
  },
};

async function recreatePolicy(kube: Kube): Promise<void> {
  await kube.create(paths.pullPolicies(), {
    apiVersion: 'drop.corewire.io/v1alpha1',
    kind: 'PullPolicy',
    metadata: { name: 'chaos-a' },
    spec: POLICIES['chaos-a'],
  } as never);
}
