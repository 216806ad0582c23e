// The chaos suite's invariants, as pure checks over what the watcher observed (plain data, no
// clock, no client): every pacing limit holds at each pull's start, one pull per (image, node) at
// a time, READY counts only nodes that hold the image and are its targets, and no Secret value
// shows anywhere. The watcher (watcher.ts) feeds them; invariants.test.ts tests them.

/** A pull pod as the watcher saw it. */
export interface ObservedPull {
  readonly name: string;
  /** The CachedImage it pulls for. */
  readonly image: string;
  readonly node: string;
  /** The PullPolicy that started it (its label). */
  readonly policy: string;
  readonly reference: string;
  /** The registry host of the reference. */
  readonly host: string;
  readonly state: 'pulling' | 'cached' | 'failed';
  /** Its deletionTimestamp is set: it is going. */
  readonly deleting: boolean;
}

/** A policy's limits, as the checker applies them (the loosest of the versions that were in force). */
export interface ObservedLimits {
  /** maxConcurrentNodes: pulls of one image at once. */
  readonly perImage: number;
  /** maxConcurrentPulls: pulls of this policy at once (undefined: no cap). */
  readonly perPolicy?: number | undefined;
  /** maxConcurrentPullsPerNode. */
  readonly perNode: number;
}

export interface HostLimit {
  readonly maxConcurrentPulls?: number | undefined;
  readonly maxPullsPerHour?: number | undefined;
}

/** What held when a pull started: every pod then, the limits in force, the host's starts of the last hour. */
export interface StartContext {
  readonly pull: ObservedPull;
  /** Every pull pod that existed when `pull` appeared, `pull` included. */
  readonly pods: readonly ObservedPull[];
  readonly limits: Readonly<Record<string, ObservedLimits>>;
  readonly hosts: Readonly<Record<string, HostLimit>>;
  /** Pulls from `pull.host` first seen in the hour before `pull`, `pull` included. */
  readonly hostStartsLastHour: number;
}

export interface Violation {
  readonly invariant: 'limit' | 'duplicate' | 'ready' | 'secret' | 'converge';
  readonly message: string;
}

/**
 * The limits a new pull may not break (lib/pacing's rules: a start is allowed only while its slot
 * is free, so counting it, the pulls in flight stay within each limit). Pulls over a limit that was
 * lowered while they ran are not starts and are not counted against it here.
 */
export function checkStart(context: StartContext): Violation[] {
  const { pull, pods, limits, hosts } = context;
  if (pull.state !== 'pulling') return [];
  const pulling = pods.filter((p) => p.state === 'pulling');
  const violations: Violation[] = [];
  const over = (what: string, count: number, limit: number | undefined) => {
    if (limit !== undefined && count > limit)
      violations.push({
        invariant: 'limit',
        message: `${pull.name} (${pull.image} on ${pull.node}) started with ${count} pulls ${what} (limit ${limit})`,
      });
  };
  const policy = limits[pull.policy];
  if (policy) {
    over(`of image ${pull.image}`, pulling.filter((p) => p.image === pull.image).length, policy.perImage);
    over(
      `of policy ${pull.policy}`,
      pulling.filter((p) => p.policy === pull.policy).length,
      policy.perPolicy,
    );
  }
  // Every policy counts all of Drop's pulls on a node; the loosest policy's cap bounds them all.
  const perNode = Math.max(0, ...Object.values(limits).map((l) => l.perNode));
  if (perNode > 0) over(`on node ${pull.node}`, pulling.filter((p) => p.node === pull.node).length, perNode);
  const host = hosts[pull.host];
  if (host) {
    over(`from ${pull.host}`, pulling.filter((p) => p.host === pull.host).length, host.maxConcurrentPulls);
    over(`from ${pull.host} in an hour`, context.hostStartsLastHour, host.maxPullsPerHour);
  }
  return violations;
}

/** Two pulls of one image on one node at once (pulling, neither being deleted). */
export function duplicatePulls(pods: readonly ObservedPull[]): Violation[] {
  const seen = new Map<string, string>();
  const violations: Violation[] = [];
  for (const pod of pods) {
    if (pod.state !== 'pulling' || pod.deleting) continue;
    const key = `${pod.image}\u0000${pod.node}`;
    const other = seen.get(key);
    if (other)
      violations.push({
        invariant: 'duplicate',
        message: `two pulls of ${pod.image} on ${pod.node} at once: ${other} and ${pod.name}`,
      });
    else seen.set(key, pod.name);
  }
  return violations;
}

/** A CachedImage's status as READY is computed from it, and what the watcher knows of its nodes. */
export interface ReadyContext {
  readonly image: string;
  readonly nodesReady: number;
  readonly nodesTargeted: number;
  readonly cachedNodes: readonly string[];
  /** Nodes where a pull of the image's current reference was seen to succeed (or may have, unseen). */
  readonly pulledOn: ReadonlySet<string>;
  /** Nodes that were targets of the image at some moment near the status write. */
  readonly targeted: ReadonlySet<string>;
}

/** READY (nodesReady) never counts more nodes than hold the image and are its targets. */
export function checkReady(context: ReadyContext): Violation[] {
  const { image, nodesReady, nodesTargeted, cachedNodes, pulledOn, targeted } = context;
  const violations: Violation[] = [];
  if (nodesReady > nodesTargeted)
    violations.push({
      invariant: 'ready',
      message: `${image}: READY ${nodesReady}/${nodesTargeted} counts more nodes than it targets`,
    });
  const held = cachedNodes.filter((n) => pulledOn.has(n) && targeted.has(n));
  if (nodesReady > held.length) {
    const extra = cachedNodes.filter((n) => !pulledOn.has(n) || !targeted.has(n));
    violations.push({
      invariant: 'ready',
      message: `${image}: READY counts ${nodesReady} nodes but only ${held.length} hold it and are targets (${extra
        .slice(0, 3)
        .map((n) => `${n}: ${pulledOn.has(n) ? 'not a target' : 'never pulled'}`)
        .join(', ')})`,
    });
  }
  return violations;
}

/** Which of the planted Secret values `text` contains (where says what the text is). */
export function leakedSecrets(where: string, text: string, sentinels: readonly string[]): Violation[] {
  return sentinels
    .filter((s) => text.includes(s))
    .map((s) => ({ invariant: 'secret' as const, message: `${where} contains the Secret value ${mask(s)}` }));
}

// The report names which sentinel leaked without printing it whole.
function mask(sentinel: string): string {
  return `${sentinel.slice(0, 6)}…`;
}
