import { parseDuration } from '../duration.ts';
import type { PullEventKind } from './observations.ts';

// The kubelet's image events (pkg/kubelet/images/image_manager.go, Kubernetes 1.35):
//   Pulling  Pulling image "X"
//   Pulled   Successfully pulled image "X" in 12.3s (12.5s including waiting). Image size: 1234 bytes.
//   Pulled   Container image "X" already present on machine[ and can be accessed by the pod]
//   Failed   Failed to pull image "X": …        BackOff  Back-off pulling image "X"
// Older kubelets leave out the waiting time and the size; the pull time is a Go duration (1m2.5s).

export interface PullMessage {
  readonly kind: PullEventKind;
  /** The image as the pod spec wrote it, e.g. nginx:1.25. */
  readonly image: string;
  readonly seconds?: number;
  readonly bytes?: number;
}

const IMAGE_RE = /\bimage\s+"([^"]+)"/i;
// µ as an escape, as in lib/duration.ts.
const PULL_TIME_RE = /\bin\s+((?:\d+(?:\.\d+)?(?:ns|us|\u00b5s|ms|s|m|h))+)/;
const SIZE_RE = /\bimage\s+size:\s*(\d+)\s+bytes\b/i;

/** What a message says, by its reason, or undefined when it is not an image event. `image`: read elsewhere. */
export function readPullMessage(
  reason: string | undefined,
  message: string,
  image = IMAGE_RE.exec(message)?.[1],
): PullMessage | undefined {
  if (!image) return undefined;
  const kind = kindOf(reason ?? reasonFromMessage(message), message);
  if (!kind) return undefined;
  if (kind !== 'pulled') return { kind, image };
  const duration = PULL_TIME_RE.exec(message)?.[1];
  const ms = duration === undefined ? undefined : parseDuration(duration);
  const bytes = Number(SIZE_RE.exec(message)?.[1] ?? Number.NaN);
  return {
    kind,
    image,
    ...(ms !== undefined ? { seconds: ms / 1000 } : {}),
    ...(Number.isSafeInteger(bytes) && bytes > 0 ? { bytes } : {}),
  };
}

function kindOf(reason: string, message: string): PullEventKind | undefined {
  switch (reason.toLowerCase()) {
    case 'pulling':
      return 'pulling';
    case 'pulled':
      return /already present on machine/i.test(message) ? 'cacheHit' : 'pulled';
    case 'failed':
    case 'backoff':
    case 'errimagepull':
      return 'failed';
    case 'alreadypresent':
      return 'cacheHit';
    default:
      return undefined;
  }
}

// For log lines that carry only the message (Go Drop's lokiInferReasonFromMessage).
function reasonFromMessage(message: string): string {
  const lower = message.toLowerCase();
  if (lower.includes('successfully pulled') || lower.includes('already present')) return 'Pulled';
  if (lower.includes('back-off')) return 'BackOff';
  if (lower.includes('failed to pull')) return 'Failed';
  if (lower.includes('pulling image')) return 'Pulling';
  return '';
}

/** One event as it comes from a log line or the Events API. */
export interface RawPullEvent {
  readonly at: number;
  readonly pod?: string;
  readonly message: PullMessage;
}

/**
 * Adds each Pulled event's time since the same pod's Pulling event for the same image (the
 * eventPair duration), in time order.
 */
export function withPairDurations(
  events: readonly RawPullEvent[],
): (RawPullEvent & { pairSeconds?: number })[] {
  const pulling = new Map<string, number>();
  return [...events]
    .sort((a, b) => a.at - b.at)
    .map((event) => {
      const key = `${event.pod ?? ''}\u0000${event.message.image}`;
      if (event.message.kind === 'pulling') pulling.set(key, event.at);
      if (event.message.kind !== 'pulled') return event;
      const started = pulling.get(key);
      pulling.delete(key);
      return started !== undefined && event.at > started
        ? { ...event, pairSeconds: event.at - started }
        : event;
    });
}
