import type { NodeFailure } from '../policy/backoff.ts';
import type { HostCap, HostRecord } from './hosts.ts';

export type { NodeFailure };

/** Failure records by node name, as a Map or as a plain object (e.g. built from status). */
export type NodeFailures = ReadonlyMap<string, NodeFailure> | Readonly<Record<string, NodeFailure>>;

/** One CachedImage governed by the policy, and the nodes that still need it. */
export interface ImageDemand {
  /** The CachedImage name; unique among the images of one call. */
  readonly name: string;
  /** Higher is served first. */
  readonly priority: number;
  /** Targeted nodes without the image and without a pull in flight; may include nodes in backoff. */
  readonly pendingNodes: readonly string[];
  readonly failures?: NodeFailures | undefined;
  /** When the latest pull of this image started (epoch ms), if the caller knows. */
  readonly lastStartAt?: number | undefined;
  /** The registry host it is pulled from (`docker.io`), for the host limits (lib/pacing/hosts.ts). */
  readonly host?: string | undefined;
}

/** One registry host as every policy shares it: the user's cap, its record and its pulls in flight. */
export interface HostState {
  readonly cap?: HostCap | undefined;
  readonly record: HostRecord;
  /** Drop pulls from the host in flight, every policy and replica. */
  readonly inFlight: number;
}

/** A Drop pull Pod that has not finished yet, of any policy. */
export interface InFlightPull {
  readonly image: string;
  readonly node: string;
  readonly policy: string;
  /** Epoch ms. */
  readonly startedAt: number;
}

/** A pull the caller should start: one pull Pod for this image bound to this node. */
export interface PullStart {
  readonly image: string;
  readonly node: string;
  /**
   * When to start it (epoch ms), when that is later than `now`: a start spread over the call's
   * `horizonMs`, `minDelayBetweenPulls` after the image's one before. Absent: now.
   */
  readonly at?: number;
}

export function failureOn(image: ImageDemand, node: string): NodeFailure | undefined {
  const failures = image.failures;
  if (failures === undefined) return undefined;
  if (isFailureMap(failures)) return failures.get(node);
  // Own properties only, so a node can never resolve to something inherited from Object.prototype.
  return Object.hasOwn(failures, node) ? failures[node] : undefined;
}

function isFailureMap(failures: NodeFailures): failures is ReadonlyMap<string, NodeFailure> {
  return failures instanceof Map;
}
