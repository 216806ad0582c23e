import type { Condition } from './core.ts';

/**
 * The one word a person acts on (the STATUS column): the Ready condition's reason, as Go Drop's
 * printer columns read it. `status.phase` is the coarser state tools read (Argo CD); a status
 * written before the Ready condition existed falls back to it.
 */
export function statusWord(
  status: { readonly phase?: string; readonly conditions?: readonly Condition[] } | undefined,
): string {
  return status?.conditions?.find((c) => c.type === 'Ready')?.reason ?? status?.phase ?? '';
}
