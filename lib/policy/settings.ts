import { type CachedImage, type PullPolicy, parseSpec, pullPolicySpecSchema } from '../api/index.ts';
import { parseDuration } from '../duration.ts';
import { DEFAULT_PACING_LIMITS, type PacingLimits } from './limits.ts';

/** Images without a policyRef are paced by the PullPolicy named `default` if one exists, else by the defaults. */
export const DEFAULT_POLICY = 'default';

/** The name of the PullPolicy that paces this image. */
export function policyOf(image: Pick<CachedImage, 'spec'>): string {
  return image.spec?.policyRef?.name || DEFAULT_POLICY;
}

export type PolicySettings =
  | {
      readonly ok: true;
      readonly limits: PacingLimits;
      /** repullInterval in ms; undefined: never. */
      readonly repullIntervalMs?: number;
      /** imageProbeInterval in ms (0: never); undefined: unset, the default applies. */
      readonly probeIntervalMs?: number;
      /** startupTaint: the taint its images' nodes join with, and when Drop removes it anyway. */
      readonly startupTaint?: StartupTaintSetting;
    }
  | { readonly ok: false; readonly reason: string; readonly message: string };

export interface StartupTaintSetting {
  readonly key: string;
  readonly effect: 'NoSchedule' | 'NoExecute';
  /** From the node's creationTimestamp to the removal whatever is cached. */
  readonly timeoutMs: number;
}

// Every pace round and image reconcile asks; the same policy object (a watch cache's) is read once.
const known = new WeakMap<object, PolicySettings>();

/** A PullPolicy's spec as pacing limits and re-pull schedule; an absent policy is the implicit default one. */
export function settingsOf(policy: PullPolicy | undefined): PolicySettings {
  if (!policy) return { ok: true, limits: DEFAULT_PACING_LIMITS };
  const cached = known.get(policy);
  if (cached) return cached;
  const settings = readSettings(policy);
  known.set(policy, settings);
  return settings;
}

function readSettings(policy: PullPolicy): PolicySettings {
  const parsed = parseSpec(pullPolicySpecSchema, policy.spec);
  if (!parsed.ok) return { ok: false, reason: 'InvalidSpec', message: parsed.message };
  const spec = parsed.spec;
  const ms = (value: string | undefined, fallback: number) =>
    value ? (parseDuration(value) ?? fallback) : fallback;
  return {
    ok: true,
    limits: {
      maxConcurrentNodes: spec.maxConcurrentNodes,
      minDelayBetweenPullsMs: ms(spec.minDelayBetweenPulls, DEFAULT_PACING_LIMITS.minDelayBetweenPullsMs),
      maxConcurrentPulls: spec.maxConcurrentPulls,
      maxConcurrentPullsPerNode: spec.maxConcurrentPullsPerNode,
      failureBackoff: {
        initialMs: ms(spec.failureBackoff?.initial, DEFAULT_PACING_LIMITS.failureBackoff.initialMs),
        maxMs: ms(spec.failureBackoff?.max, DEFAULT_PACING_LIMITS.failureBackoff.maxMs),
      },
      ...(spec.newNodeWindow !== undefined
        ? { newNodeWindowMs: parseDuration(spec.newNodeWindow) ?? 0 }
        : {}),
    },
    ...(spec.repullInterval ? { repullIntervalMs: parseDuration(spec.repullInterval) ?? 0 } : {}),
    ...(spec.imageProbeInterval !== undefined
      ? { probeIntervalMs: parseDuration(spec.imageProbeInterval) ?? 0 }
      : {}),
    ...(spec.startupTaint
      ? {
          startupTaint: {
            key: spec.startupTaint.key,
            effect: spec.startupTaint.effect,
            timeoutMs: parseDuration(spec.startupTaint.timeout) ?? 0,
          },
        }
      : {}),
  };
}

/** The startup taint of the policy, when it sets one and is valid. */
export function startupTaintOf(policy: PullPolicy | undefined): StartupTaintSetting | undefined {
  const settings = settingsOf(policy);
  return settings.ok ? settings.startupTaint : undefined;
}
