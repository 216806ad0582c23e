// The thin shell around invariants.ts: watches pull pods, CachedImages, sets, policies, nodes and
// Events through the real API server (not through any chaos proxy) and feeds every change to the
// pure checks. Checks that read two collections wait SETTLE_MS, so a change the watcher's other
// watch has not delivered yet is not mistaken for a violation.

import { hostOf } from '../../functions/pace/hosts.ts';
import type { CachedImage, PullPolicy } from '../../lib/api/index.ts';
import {
  createKube,
  type Kube,
  type KubeObject,
  loadKubeConfig,
  type Node,
  type Pod,
} from '../../lib/kube/index.ts';
import { type Change, Informer } from '../../lib/kube/informer.ts';
import { CACHED_IMAGE_ANNOTATION, LABEL, pullOutcome, REFERENCE_ANNOTATION } from '../../lib/pull-pod.ts';
import { isTarget } from '../../lib/targets.ts';
import { cachedImages, nodes, pullPods, pullPolicies } from '../../lib/watched.ts';
import {
  checkReady,
  checkStart,
  duplicatePulls,
  type HostLimit,
  leakedSecrets,
  type ObservedLimits,
  type ObservedPull,
  type Violation,
} from './invariants.ts';

/** How long a check that reads two watches waits, and how far around a moment it looks for limits and targets. */
export const SETTLE_MS = 5_000;
const WINDOW_MS = 30_000;
const HOUR_MS = 3_600_000;

export interface TimedViolation extends Violation {
  readonly at: number;
}

interface Version<T> {
  readonly from: number;
  to?: number;
  readonly value: T;
}

/** How much the checks saw: a suite whose checks saw nothing proves nothing. */
export interface Checked {
  starts: number;
  statuses: number;
  logLines: number;
  events: number;
}

export class ChaosWatcher {
  readonly violations: TimedViolation[] = [];
  readonly checked: Checked = { starts: 0, statuses: 0, logLines: 0, events: 0 };
  readonly #kube: Kube;
  readonly pods: Informer<Pod>;
  readonly images: Informer<CachedImage>;
  readonly policies: Informer<PullPolicy>;
  readonly nodes: Informer<Node>;
  readonly sets: Informer<KubeObject>;
  readonly discoveryPolicies: Informer<KubeObject>;
  readonly events: Informer<KubeObject>;
  readonly #policyVersions = new Map<string, Version<PullPolicy>[]>();
  readonly #nodeVersions = new Map<string, Version<Node>[]>();
  /** `${image}\0${reference}` → nodes where a pull of it ended cached (or vanished unseen while blind). */
  readonly #pulledOn = new Map<string, Set<string>>();
  readonly #hostStarts = new Map<string, number[]>();
  readonly #timers = new Set<NodeJS.Timeout>();
  /** Set while a fault may hide pod updates from the watch (the API server down): see blind(). */
  #blindSince: number | undefined;
  #blindUntil = 0;

  constructor(
    kubeconfigPath: string,
    namespace: string,
    private readonly sentinels: readonly string[],
  ) {
    this.#kube = createKube(loadKubeConfig(kubeconfigPath), 'drop-chaos-watcher');
    this.pods = new Informer(this.#kube, pullPods(namespace));
    this.images = new Informer(this.#kube, cachedImages);
    this.policies = new Informer(this.#kube, pullPolicies);
    this.nodes = new Informer(this.#kube, nodes);
    this.sets = new Informer(this.#kube, dropCollection('CachedImageSet', 'cachedimagesets'));
    this.discoveryPolicies = new Informer(this.#kube, dropCollection('DiscoveryPolicy', 'discoverypolicies'));
    this.events = new Informer(this.#kube, {
      apiVersion: 'v1',
      kind: 'Event',
      plural: 'events',
      path: '/api/v1/events',
    });
    this.pods.subscribe((c) => this.#onPod(c));
    this.images.subscribe((c) => this.#onImage(c));
    this.policies.subscribe((c) => this.#version(this.#policyVersions, c));
    this.nodes.subscribe((c) => this.#version(this.#nodeVersions, c));
    for (const informer of [this.sets, this.discoveryPolicies, this.policies])
      informer.subscribe((c) => this.#scan(`${c.object.kind} ${c.object.metadata.name} status`, c.object));
    this.events.subscribe((c) => this.#scanEvent(c.object));
  }

  async synced(): Promise<void> {
    const all = [this.pods, this.images, this.policies, this.nodes, this.sets, this.discoveryPolicies];
    await Promise.all([...all, this.events].map((i) => i.synced()));
  }

  /** A line Drop logged: checked for Secret values. */
  logLine(process: string, line: string): void {
    this.checked.logLines += 1;
    this.#record(leakedSecrets(`a log line of ${process}`, line, this.sentinels));
  }

  /**
   * While the API server is down or frozen, a pull may end and its pod be deleted without the
   * watch seeing the end: a pulling pod that vanishes then may have cached its image.
   */
  blind(on: boolean): void {
    if (on) this.#blindSince ??= Date.now();
    else if (this.#blindSince !== undefined) {
      this.#blindSince = undefined;
      // The relist after the gap arrives a little later.
      this.#blindUntil = Date.now() + WINDOW_MS;
    }
  }

  /** Violations recorded since `from` (epoch ms). */
  since(from: number): TimedViolation[] {
    return this.violations.filter((v) => v.at >= from);
  }

  /** Waits until the deferred checks queued so far have run. */
  async drain(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS + 500));
  }

  close(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    for (const informer of [
      this.pods,
      this.images,
      this.policies,
      this.nodes,
      this.sets,
      this.discoveryPolicies,
      this.events,
    ])
      informer.close();
  }

  #record(violations: readonly Violation[]): void {
    const at = Date.now();
    for (const v of violations) this.violations.push({ ...v, at });
  }

  #later(check: () => Violation[]): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#record(check());
    }, SETTLE_MS);
    this.#timers.add(timer);
  }

  #onPod({ type, object, before }: Change<Pod>): void {
    const pull = observedPull(object);
    const key = `${pull.image}\u0000${pull.reference}`;
    if (pull.state === 'cached')
      this.#pulledOn.set(key, (this.#pulledOn.get(key) ?? new Set()).add(pull.node));
    const wasPulling = before !== undefined && pullOutcome(before).kind === 'pulling';
    if (type === 'delete' && wasPulling && this.#isBlind())
      this.#pulledOn.set(key, (this.#pulledOn.get(key) ?? new Set()).add(pull.node));
    if (type === 'delete') return;
    this.#record(duplicatePulls(this.pods.list().map(observedPull)));
    if (type !== 'add' || pull.state !== 'pulling') return;
    const at = Date.now();
    const starts = (this.#hostStarts.get(pull.host) ?? []).filter((t) => at - t < HOUR_MS);
    starts.push(at);
    this.#hostStarts.set(pull.host, starts);
    const pods = this.pods.list().map(observedPull);
    const hostStartsLastHour = starts.length;
    this.#later(() => {
      this.checked.starts += 1;
      const policies = this.#policiesAround(at);
      return checkStart({
        pull,
        pods,
        limits: Object.fromEntries(policies.map((p) => [p.name, p.limits])),
        hosts: hostLimits(policies),
        hostStartsLastHour,
      });
    });
  }

  #isBlind(): boolean {
    return this.#blindSince !== undefined || Date.now() < this.#blindUntil;
  }

  #onImage({ type, object }: Change<CachedImage>): void {
    this.#scan(`CachedImage ${object.metadata.name} status`, object);
    const status = object.status;
    if (type === 'delete' || !status?.reference) return;
    const at = Date.now();
    this.checked.statuses += 1;
    this.#later(() =>
      checkReady({
        image: object.metadata.name,
        nodesReady: status.nodesReady ?? 0,
        nodesTargeted: status.nodesTargeted ?? 0,
        cachedNodes: status.cachedNodes ?? [],
        pulledOn: this.#pulledOn.get(`${object.metadata.name}\u0000${status.reference}`) ?? new Set(),
        targeted: this.#targetedAround(object, at),
      }),
    );
  }

  #scan(where: string, object: KubeObject): void {
    const status = (object as { status?: unknown }).status;
    if (status !== undefined) this.#record(leakedSecrets(where, JSON.stringify(status), this.sentinels));
  }

  #scanEvent(event: KubeObject): void {
    this.checked.events += 1;
    const { metadata: _metadata, ...rest } = event as KubeObject & Record<string, unknown>;
    this.#record(leakedSecrets(`Event ${event.metadata.name}`, JSON.stringify(rest), this.sentinels));
  }

  #version<T extends KubeObject>(versions: Map<string, Version<T>[]>, { type, object }: Change<T>): void {
    const now = Date.now();
    const list = versions.get(object.metadata.name) ?? [];
    const last = list.at(-1);
    if (last && last.to === undefined) last.to = now;
    if (type !== 'delete') list.push({ from: now, value: object });
    // Versions that ended long ago no longer matter to any check.
    versions.set(
      object.metadata.name,
      list.filter((v) => v.to === undefined || now - v.to < 2 * WINDOW_MS),
    );
  }

  #inWindow<T>(versions: readonly Version<T>[], at: number): T[] {
    return versions
      .filter((v) => v.from <= at + SETTLE_MS && (v.to === undefined || v.to >= at - WINDOW_MS))
      .map((v) => v.value);
  }

  // The loosest of each policy's versions in force around `at`: a replica may act on any of them.
  #policiesAround(at: number): { name: string; limits: ObservedLimits; registries: RegistryCap[] }[] {
    return [...this.#policyVersions].flatMap(([name, versions]) => {
      const inForce = this.#inWindow(versions, at);
      if (inForce.length === 0) return [];
      const limits = inForce.map(limitsOf);
      return [
        {
          name,
          limits: {
            perImage: Math.max(...limits.map((l) => l.perImage)),
            perPolicy: limits.some((l) => l.perPolicy === undefined)
              ? undefined
              : Math.max(...limits.map((l) => l.perPolicy ?? 0)),
            perNode: Math.max(...limits.map((l) => l.perNode)),
          },
          registries: inForce.flatMap((p) => p.spec?.registries ?? []),
        },
      ];
    });
  }

  #targetedAround(image: CachedImage, at: number): Set<string> {
    const placement = { nodeSelector: image.spec?.nodeSelector, tolerations: image.spec?.tolerations };
    const targeted = new Set<string>();
    for (const [name, versions] of this.#nodeVersions)
      if (this.#inWindow(versions, at).some((node) => isTarget(node, placement))) targeted.add(name);
    return targeted;
  }
}

interface RegistryCap {
  readonly host: string;
  readonly maxConcurrentPulls?: number | undefined;
  readonly maxPullsPerHour?: number | undefined;
}

function limitsOf(policy: PullPolicy): ObservedLimits {
  const spec = policy.spec;
  return {
    perImage: spec?.maxConcurrentNodes ?? 1,
    perPolicy: spec?.maxConcurrentPulls,
    perNode: spec?.maxConcurrentPullsPerNode ?? 1,
  };
}

// A host cap is the strictest any policy sets (lib/pacing/hosts.ts hostCaps); around a change, the
// loosest of the versions of one policy.
function hostLimits(policies: readonly { registries: readonly RegistryCap[] }[]): Record<string, HostLimit> {
  const caps: Record<string, { maxConcurrentPulls?: number; maxPullsPerHour?: number }> = {};
  for (const { registries } of policies) {
    const loosest = new Map<string, RegistryCap>();
    for (const cap of registries) {
      const held = loosest.get(cap.host);
      loosest.set(cap.host, {
        host: cap.host,
        maxConcurrentPulls: maxOf(held?.maxConcurrentPulls, cap.maxConcurrentPulls, held !== undefined),
        maxPullsPerHour: maxOf(held?.maxPullsPerHour, cap.maxPullsPerHour, held !== undefined),
      });
    }
    for (const cap of loosest.values()) {
      const before = caps[cap.host] ?? {};
      caps[cap.host] = {
        ...minOf('maxConcurrentPulls', before.maxConcurrentPulls, cap.maxConcurrentPulls),
        ...minOf('maxPullsPerHour', before.maxPullsPerHour, cap.maxPullsPerHour),
      };
    }
  }
  return caps;
}

// Undefined is no cap, the loosest of all.
function maxOf(a: number | undefined, b: number | undefined, both: boolean): number | undefined {
  if (!both) return b;
  if (a === undefined || b === undefined) return undefined;
  return Math.max(a, b);
}

function minOf(key: string, a: number | undefined, b: number | undefined): Record<string, number> {
  if (a === undefined && b === undefined) return {};
  return { [key]: Math.min(a ?? Number.POSITIVE_INFINITY, b ?? Number.POSITIVE_INFINITY) };
}

/** A pull pod as the checks see it. */
export function observedPull(pod: Pod): ObservedPull {
  const reference = pod.metadata.annotations?.[REFERENCE_ANNOTATION] ?? '';
  const outcome = pullOutcome(pod).kind;
  return {
    name: pod.metadata.name,
    image: pod.metadata.annotations?.[CACHED_IMAGE_ANNOTATION] ?? '',
    node: pod.spec?.nodeName ?? '',
    policy: pod.metadata.labels?.[LABEL.policy] ?? '',
    reference,
    host: hostOf(reference) ?? '',
    state: outcome,
    deleting: pod.metadata.deletionTimestamp !== undefined,
  };
}

function dropCollection(kind: string, plural: string) {
  return {
    apiVersion: 'drop.corewire.io/v1alpha1',
    kind,
    plural,
    path: `/apis/drop.corewire.io/v1alpha1/${plural}`,
  };
}
