import type { ObjectEvent, Wake, Watch } from '../../lib/controller/index.ts';

/**
 * A DiscoveryPolicy event wakes that policy, whatever the action: the event only says where to
 * look. A delete is reconciled too: the policy then reads as gone, and the kit's finalize removes
 * its Lease and its metrics. An add or update syncs only if due, judged on the policy read from the
 * API, not on the event's object: a delivery retried after our 429 carries the object as it was
 * minutes ago. Our own status write comes back as an update that is not due (plan.ts syncDue), so
 * it costs one GET.
 */
export function policyEvent(event: ObjectEvent): Wake {
  return [event.ref.name];
}

/** The kinds discover watches; any other kind is answered "not handled" by the kit. */
export const watches: Readonly<Record<string, Watch>> = { DiscoveryPolicy: policyEvent };
