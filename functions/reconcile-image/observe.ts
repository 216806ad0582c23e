import { type CachedImage, type PullPolicy, parseSpec } from '../../lib/api/index.ts';
import { parseDuration } from '../../lib/duration.ts';
import { formatReference, parseImageReference } from '../../lib/image-ref.ts';
import { type Kube, paths } from '../../lib/kube/index.ts';
import type { ImageSpecView } from './plan.ts';

/** Images without a policyRef are paced by the PullPolicy named `default` if one exists, else by the defaults. */
export const DEFAULT_POLICY = 'default';
const DEFAULT_BACKOFF = { initialMs: 30_000, maxMs: 300_000 };

/** The spec as the planner needs it, or why it cannot be used. */
export function specView(image: CachedImage): ImageSpecView {
  const parsed = parseSpec('CachedImage', image.spec);
  if (!parsed.ok) return { ok: false, reason: 'InvalidSpec', message: parsed.message };
  const spec = parsed.spec;
  const reference = formatReference({ image: spec.image, tag: spec.tag, digest: spec.digest });
  const checked = parseImageReference(reference);
  if (!checked.ok) return { ok: false, reason: checked.reason, message: checked.message };
  return {
    ok: true,
    reference,
    ...(spec.digest ? { digest: spec.digest } : {}),
    placement: { nodeSelector: spec.nodeSelector, tolerations: spec.tolerations },
  };
}

export interface PolicyLookup {
  readonly name: string;
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
  readonly problem?: { readonly reason: string; readonly message: string };
}

/** The image's PullPolicy: a reference to one that does not exist is a problem, never a silent default. */
export async function lookupPolicy(
  kube: Kube,
  image: CachedImage,
  options: { needed: boolean },
): Promise<PolicyLookup> {
  const ref = image.spec?.policyRef?.name;
  const name = ref || DEFAULT_POLICY;
  if (!options.needed) return { name, backoff: DEFAULT_BACKOFF };
  const policy = await kube.get<PullPolicy>(paths.pullPolicy(name));
  if (!policy) {
    if (!ref) return { name, backoff: DEFAULT_BACKOFF };
    return {
      name,
      backoff: DEFAULT_BACKOFF,
      problem: { reason: 'PolicyNotFound', message: `PullPolicy "${name}" (spec.policyRef) does not exist` },
    };
  }
  const parsed = parseSpec('PullPolicy', policy.spec);
  if (!parsed.ok) {
    return {
      name,
      backoff: DEFAULT_BACKOFF,
      problem: { reason: 'InvalidPolicy', message: `PullPolicy "${name}" is invalid: ${parsed.message}` },
    };
  }
  const backoff = parsed.spec.failureBackoff;
  return {
    name,
    backoff: {
      initialMs: parseDuration(backoff.initial) ?? DEFAULT_BACKOFF.initialMs,
      maxMs: parseDuration(backoff.max) ?? DEFAULT_BACKOFF.maxMs,
    },
  };
}

/** Names in spec.imagePullSecrets that do not exist in the Drop namespace. */
export async function missingSecrets(
  kube: Kube,
  namespace: string,
  image: CachedImage,
  options: { needed: boolean },
): Promise<readonly string[]> {
  const names = (image.spec?.imagePullSecrets ?? []).map((s) => s.name);
  if (!options.needed || names.length === 0) return [];
  const found = await Promise.all(names.map((name) => kube.get(paths.secret(namespace, name))));
  return names.filter((_, i) => !found[i]);
}
