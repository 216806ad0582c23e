import { type PullPolicy, parseSpec } from '../../lib/api/index.ts';
import { parseDuration } from '../../lib/duration.ts';
import { DEFAULT_PACING_LIMITS, type PacingLimits } from '../../lib/pacing/index.ts';

export type PolicyLimits =
  | { readonly ok: true; readonly limits: PacingLimits }
  | { readonly ok: false; readonly reason: string; readonly message: string };

/** A PullPolicy's spec as pacing limits; an absent policy is the implicit default one. */
export function limitsOf(policy: PullPolicy | undefined): PolicyLimits {
  if (!policy) return { ok: true, limits: DEFAULT_PACING_LIMITS };
  const parsed = parseSpec('PullPolicy', policy.spec);
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
    },
  };
}
