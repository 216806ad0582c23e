import { createHash } from 'node:crypto';
import type { ContainerStatus, Pod, Toleration } from './kube/core.ts';
import { labelValue } from './kube/labels.ts';

/** Labels every pull pod carries; `managed-by` keeps the ApiServerSource watch on pods small. */
export const LABEL = {
  managedBy: 'app.kubernetes.io/managed-by',
  cachedImage: 'drop.corewire.io/cachedimage',
  node: 'drop.corewire.io/node',
  policy: 'drop.corewire.io/policy',
  /** A hash of the reference pulled: recorded pulls of one reference are deleted with one request. */
  reference: 'drop.corewire.io/reference-hash',
} as const;
export const MANAGED_BY = 'drop';
export const REFERENCE_ANNOTATION = 'drop.corewire.io/reference';
/** The full CachedImage name: the label holds a shortened form when the name exceeds 63 characters. */
export const CACHED_IMAGE_ANNOTATION = 'drop.corewire.io/cachedimage';
/**
 * On a probe (docs/design.md §Garbage collection): a pull pod with imagePullPolicy Never, which asks
 * the kubelet whether the image is still on the node without pulling it.
 */
export const PROBE_ANNOTATION = 'drop.corewire.io/probe';
export const PULL_POD_SELECTOR = `${LABEL.managedBy}=${MANAGED_BY}`;
const CONTAINER = 'pull';
// The container is never meant to run: the kubelet pulls the image, then fails to start a binary
// that no image has. Nothing from the image executes and no binary is required in it.
const NO_SUCH_COMMAND = '/.drop-prepull/no-such-command';

export interface PullRequest {
  readonly cachedImage: string;
  readonly reference: string;
  readonly node: string;
  readonly namespace: string;
  readonly policy: string;
  readonly imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  readonly imagePullSecrets: readonly string[];
  readonly tolerations: readonly Toleration[];
  /** A garbage-collection probe: imagePullPolicy Never, marked with PROBE_ANNOTATION. */
  readonly probe?: boolean;
}

/**
 * The pod name is a function of (image, reference, node): a second create for the same pull fails
 * with AlreadyExists, so racing replicas can never start two pulls of one image on one node.
 */
export function pullPodName(cachedImage: string, reference: string, node: string): string {
  const hash = createHash('sha256')
    .update(`${cachedImage}\0${reference}\0${node}`)
    .digest('hex')
    .slice(0, 10);
  const stem = cachedImage
    .slice(0, 40)
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+$/, '');
  return `pull-${stem}-${hash}`;
}

/** The pull pod for one image on one node, admissible under Pod Security `restricted`. */
export function pullPodFor(request: PullRequest): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: pullPodName(request.cachedImage, request.reference, request.node),
      namespace: request.namespace,
      labels: {
        [LABEL.managedBy]: MANAGED_BY,
        [LABEL.cachedImage]: labelValue(request.cachedImage),
        [LABEL.node]: labelValue(request.node),
        [LABEL.policy]: labelValue(request.policy),
        [LABEL.reference]: referenceHash(request.reference),
      },
      annotations: {
        [REFERENCE_ANNOTATION]: request.reference,
        [CACHED_IMAGE_ANNOTATION]: request.cachedImage,
        ...(request.probe ? { [PROBE_ANNOTATION]: 'true' } : {}),
      },
    },
    spec: {
      nodeName: request.node,
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 0,
      imagePullSecrets: request.imagePullSecrets.map((name) => ({ name })),
      tolerations: request.tolerations,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 65534,
        runAsGroup: 65534,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [
        {
          name: CONTAINER,
          image: request.reference,
          imagePullPolicy: request.probe ? 'Never' : request.imagePullPolicy,
          command: [NO_SUCH_COMMAND],
          resources: { requests: { cpu: '1m', memory: '8Mi' }, limits: { cpu: '10m', memory: '16Mi' } },
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          },
        },
      ],
    },
  };
}

/** The reference-hash label value of a reference. */
export function referenceHash(reference: string): string {
  return createHash('sha256').update(reference).digest('hex').slice(0, 16);
}

/**
 * The label selector of the pull pods of one CachedImage for one reference on some nodes: with
 * pod names a function of (image, reference, node), exactly those nodes' pulls of that reference.
 */
export function recordedPullsSelector(
  cachedImage: string,
  reference: string,
  nodes: readonly string[],
): string {
  const values = nodes.map(labelValue).join(',');
  return `${pullPodSelectorFor(cachedImage)},${LABEL.reference}=${referenceHash(reference)},${LABEL.node} in (${values})`;
}

/** The label selector for the pull pods of one CachedImage (check the annotation for the exact name). */
export function pullPodSelectorFor(cachedImage: string): string {
  return `${PULL_POD_SELECTOR},${LABEL.cachedImage}=${labelValue(cachedImage)}`;
}

export type PullOutcome =
  | { readonly kind: 'pulling' }
  | { readonly kind: 'cached'; readonly digest?: string; readonly at?: string }
  | { readonly kind: 'failed'; readonly reason: string; readonly message: string };

// Waiting reasons the kubelet reports when it could not get the image (pkg/kubelet/images/types.go).
const PULL_FAILURES = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'RegistryUnavailable',
  'SignatureValidationFailed',
  'ErrImageInspect',
]);

// Reasons that only occur once the image is on the node: creating or starting the container failed.
const AFTER_PULL = new Set([
  'CreateContainerError',
  'CreateContainerConfigError',
  'RunContainerError',
  'StartError',
  'ContainerCannotRun',
  'CrashLoopBackOff',
]);

// Kept per pod object (a watch cache's, replaced when the pod changes, never changed in place): at a
// thousand nodes the pacer asks it of every pull pod several times a round.
const outcomes = new WeakMap<Pod, PullOutcome>();

/** What a pull pod says about its image: still pulling, cached on its node, or failed with the kubelet's reason. */
export function pullOutcome(pod: Pod): PullOutcome {
  let outcome = outcomes.get(pod);
  if (outcome === undefined) {
    outcome = outcomeOf(pod);
    outcomes.set(pod, outcome);
  }
  return outcome;
}

function outcomeOf(pod: Pod): PullOutcome {
  const container = pod.status?.containerStatuses?.find((c) => c.name === CONTAINER);
  if (container) {
    const outcome = containerOutcome(container);
    if (outcome) return outcome;
  }
  if (pod.status?.phase === 'Succeeded') return { kind: 'cached' };
  if (pod.status?.phase === 'Failed') {
    return {
      kind: 'failed',
      reason: pod.status.reason || 'PodFailed',
      message: pod.status.message || 'the pull pod failed before the image was pulled',
    };
  }
  return { kind: 'pulling' };
}

function containerOutcome(container: ContainerStatus): PullOutcome | undefined {
  const digest = digestOf(container.imageID);
  const state = container.state ?? {};
  const waitingReason = state.waiting?.reason ?? '';
  if (PULL_FAILURES.has(waitingReason)) {
    return { kind: 'failed', reason: waitingReason, message: state.waiting?.message ?? waitingReason };
  }
  if (digest || state.running || state.terminated || AFTER_PULL.has(waitingReason)) {
    return {
      kind: 'cached',
      ...(digest ? { digest } : {}),
      ...(state.terminated?.finishedAt ? { at: state.terminated.finishedAt } : {}),
    };
  }
  return undefined;
}

// imageID is `repo@sha256:…` (containerd) or `docker-pullable://repo@sha256:…` (dockershim era).
function digestOf(imageID: string | undefined): string | undefined {
  const match = imageID?.match(/@(sha256:[a-f0-9]{64})$/);
  return match?.[1];
}
