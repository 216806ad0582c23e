import type { Condition } from '../api/index.ts';
import { compareText } from '../order.ts';

export type { Condition };

export type ConditionUpdate = Pick<Condition, 'type' | 'status' | 'reason' | 'message'>;

/** When a status is written, for lastTransitionTime and observedGeneration. */
export interface ConditionTime {
  readonly now: Date;
  readonly observedGeneration?: number;
}

/**
 * The conditions with `update` applied. lastTransitionTime only moves when the status flips, as
 * Kubernetes API conventions require, so rewriting the same status is a no-op for watchers.
 */
export function setCondition(
  conditions: readonly Condition[],
  update: ConditionUpdate,
  when: ConditionTime,
): Condition[] {
  const previous = conditions.find((c) => c.type === update.type);
  const next: Condition = {
    ...update,
    lastTransitionTime:
      previous && previous.status === update.status ? previous.lastTransitionTime : when.now.toISOString(),
    ...(when.observedGeneration !== undefined ? { observedGeneration: when.observedGeneration } : {}),
  };
  const others = conditions.filter((c) => c.type !== update.type);
  return [...others, next].sort((a, b) => compareText(a.type, b.type));
}

/**
 * The conditions one kind writes, as Knative's ConditionSet has them: a happy condition (`Ready`,
 * whose reason is the STATUS word) and the dependents that say what else was checked. Each mark is
 * one line, and marking a type the set does not declare is a bug caught at once.
 */
export class ConditionSet {
  readonly types: readonly string[];

  constructor(
    readonly happy: string,
    ...dependents: string[]
  ) {
    this.types = [happy, ...dependents];
  }

  /** Starts from the conditions a status had; marks apply on top of them. */
  manage(previous: readonly Condition[] | undefined, when: ConditionTime): ConditionMarks {
    return new ConditionMarks(this, previous ?? [], when);
  }
}

export class ConditionMarks {
  #conditions: Condition[];

  constructor(
    private readonly set: ConditionSet,
    previous: readonly Condition[],
    private readonly when: ConditionTime,
  ) {
    this.#conditions = [...previous];
  }

  markTrue(type: string, reason: string, message: string): this {
    return this.#mark({ type, status: 'True', reason, message });
  }

  markFalse(type: string, reason: string, message: string): this {
    return this.#mark({ type, status: 'False', reason, message });
  }

  markUnknown(type: string, reason: string, message: string): this {
    return this.#mark({ type, status: 'Unknown', reason, message });
  }

  /** The happy condition True or False by a test, with the STATUS word as reason. */
  markHappy(ok: boolean, reason: string, message: string): this {
    return ok
      ? this.markTrue(this.set.happy, reason, message)
      : this.markFalse(this.set.happy, reason, message);
  }

  /** The conditions to write, sorted by type: the previous ones with the marks applied. */
  get conditions(): Condition[] {
    return this.#conditions;
  }

  #mark(update: ConditionUpdate): this {
    if (!this.set.types.includes(update.type))
      throw new Error(`condition ${update.type} is not one of ${this.set.types.join(', ')}`);
    this.#conditions = setCondition(this.#conditions, update, this.when);
    return this;
  }
}
