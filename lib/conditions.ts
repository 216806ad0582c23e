/** A metav1.Condition as Drop writes it. */
export interface Condition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly lastTransitionTime: string;
  readonly observedGeneration?: number;
}

export type ConditionUpdate = Pick<Condition, 'type' | 'status' | 'reason' | 'message'>;

/**
 * The conditions with `update` applied. lastTransitionTime only moves when the status flips, as
 * Kubernetes API conventions require, so rewriting the same status is a no-op for watchers.
 */
export function setCondition(
  conditions: readonly Condition[],
  update: ConditionUpdate,
  when: { readonly now: Date; readonly observedGeneration?: number },
): readonly Condition[] {
  const previous = conditions.find((c) => c.type === update.type);
  const next: Condition = {
    ...update,
    lastTransitionTime:
      previous && previous.status === update.status ? previous.lastTransitionTime : when.now.toISOString(),
    ...(when.observedGeneration !== undefined ? { observedGeneration: when.observedGeneration } : {}),
  };
  const others = conditions.filter((c) => c.type !== update.type);
  return [...others, next].sort((a, b) => a.type.localeCompare(b.type));
}

export function getCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
