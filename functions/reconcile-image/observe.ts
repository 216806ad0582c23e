import { type CachedImage, type PullPolicy, parseSpec } from '../../lib/api/index.ts';
import { formatReference, parseImageReference } from '../../lib/image-ref.ts';
import { type Kube, paths } from '../../lib/kube/index.ts';
import { DEFAULT_PACING_LIMITS } from '../../lib/pacing/index.ts';
import { policyOf, settingsOf } from '../../lib/policy-settings.ts';
import type { ImageSpecView } from './plan.ts';

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
    // With IfNotPresent or Never the kubelet keeps what it has, and a digest never moves.
    repullable: spec.imagePullPolicy === 'Always' && !spec.digest,
  };
}

export interface PolicyLookup {
  readonly name: string;
  /** False when the policy was not needed and not read: its settings here are the defaults. */
  readonly read: boolean;
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
  readonly repullIntervalMs?: number;
  readonly problem?: { readonly reason: string; readonly message: string };
}

/**
 * The image's PullPolicy: a reference to one that does not exist is a problem, never a silent
 * default. `listed` (a resync's one list of every policy) saves the read.
 */
export async function lookupPolicy(
  kube: Kube,
  image: CachedImage,
  options: { readonly needed: boolean; readonly listed?: readonly PullPolicy[] | undefined },
): Promise<PolicyLookup> {
  const ref = image.spec?.policyRef?.name;
  const name = policyOf(image);
  const defaults = { name, read: true, backoff: DEFAULT_PACING_LIMITS.failureBackoff };
  if (!options.needed && !options.listed) return { ...defaults, read: false };
  const policy = options.listed
    ? options.listed.find((p) => p.metadata.name === name)
    : await kube.get<PullPolicy>(paths.pullPolicy(name));
  if (!policy && ref) {
    const message = `PullPolicy "${name}" (spec.policyRef) does not exist`;
    return { ...defaults, problem: { reason: 'PolicyNotFound', message } };
  }
  const settings = settingsOf(policy);
  if (!settings.ok) {
    const message = `PullPolicy "${name}" is invalid: ${settings.message}`;
    return { ...defaults, problem: { reason: 'InvalidPolicy', message } };
  }
  return {
    name,
    read: true,
    backoff: settings.limits.failureBackoff,
    ...(settings.repullIntervalMs ? { repullIntervalMs: settings.repullIntervalMs } : {}),
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
