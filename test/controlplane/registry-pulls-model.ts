// The registry side of a simulated pull, as plain data: which pods ask a real registry, what a
// registry's answer means to the kubelet, and the annotations that tell the kwok stages. No client,
// no clock. See README.md "Pulls from a real registry".
import type { Pod } from '../../lib/kube/index.ts';

/** Pod annotation: set once the registry answered; the stages hold a registry pull until it is. */
export const REGISTRY_RESOLVED_ANNOTATION = 'drop.test/registry-resolved';
/** Pod annotation: the manifest digest the registry gave for the reference; becomes the imageID. */
export const IMAGE_DIGEST_ANNOTATION = 'drop.test/image-digest';
/** Pod annotation: the bytes the manifest lists (config and layers), the Pulled Event's size. */
export const MANIFEST_SIZE_ANNOTATION = 'drop.test/manifest-size';
/** Pod annotation: `errimagepull` when the registry refused, the outcome the stages then show. */
export const REGISTRY_OUTCOME_ANNOTATION = 'drop.test/registry-outcome';
/** Pod annotation: the kubelet's ErrImagePull message for that refusal. */
export const REGISTRY_MESSAGE_ANNOTATION = 'drop.test/registry-message';

// The stages' jq test (stages/pod-pull-*.yaml) says the same: a loopback host with a port is where
// the tests run registries, and no other image reference names one.
const REGISTRY_IMAGE = /^(127\.0\.0\.1|localhost|\[::1\]):([0-9]+)\/(.+)$/;

export interface RegistryImage {
  /** `127.0.0.1:5000`, as in the reference. */
  readonly host: string;
  readonly repository: string;
  /** The tag or `sha256:…` digest the manifest is asked by. */
  readonly reference: string;
}

/** Where a pull pod's image lives when it lives in a local test registry; undefined otherwise. */
export function registryImage(image: string): RegistryImage | undefined {
  const match = REGISTRY_IMAGE.exec(image);
  if (!match) return undefined;
  const host = `${match[1]}:${match[2]}`;
  const rest = match[3]!;
  const at = rest.indexOf('@');
  if (at >= 0) return { host, repository: rest.slice(0, at), reference: rest.slice(at + 1) };
  const colon = rest.lastIndexOf(':');
  return colon > rest.lastIndexOf('/')
    ? { host, repository: rest.slice(0, colon), reference: rest.slice(colon + 1) }
    : { host, repository: rest, reference: 'latest' };
}

/** Whether the resolver still has to ask the registry for this pod (it is not deleted or past pulling). */
export function needsResolving(pod: Pod): boolean {
  if (pod.metadata.deletionTimestamp || !pod.spec?.nodeName) return false;
  if (pod.metadata.annotations?.[REGISTRY_RESOLVED_ANNOTATION] !== undefined) return false;
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return false;
  return registryImage(pod.spec.containers[0]?.image ?? '') !== undefined;
}

/** What the registry said about one manifest request, reduced to what a kubelet acts on. */
export type RegistryAnswer =
  | { readonly kind: 'found'; readonly digest: string; readonly size: number }
  | { readonly kind: 'not-found' }
  /** Any other status: 401, 429, 5xx. `serverMessage` is the registry's error text, if it sent one. */
  | {
      readonly kind: 'status';
      readonly method: 'HEAD' | 'GET';
      readonly url: string;
      readonly status: number;
      readonly statusText: string;
      readonly serverMessage?: string;
      /** No credentials were sent and the registry asked for some. */
      readonly anonymous: boolean;
    }
  /** No HTTP answer at all, e.g. `dial tcp 127.0.0.1:1: connect: connection refused`. */
  | {
      readonly kind: 'unreachable';
      readonly method: 'HEAD' | 'GET';
      readonly url: string;
      readonly error: string;
    };

/**
 * The pod annotations for an answer. Failure messages are worded as kubelet 1.35 with containerd 2
 * reports them in the container's ErrImagePull (the CRI error, then containerd's resolver error:
 * core/remotes/docker/resolver.go and errors.go).
 */
export function resolution(image: string, answer: RegistryAnswer): Record<string, string> {
  const resolved = { [REGISTRY_RESOLVED_ANNOTATION]: 'true' };
  if (answer.kind === 'found')
    return {
      ...resolved,
      [IMAGE_DIGEST_ANNOTATION]: answer.digest,
      [MANIFEST_SIZE_ANNOTATION]: String(answer.size),
    };
  const failed = (code: string, cause: string) => ({
    ...resolved,
    [REGISTRY_OUTCOME_ANNOTATION]: 'errimagepull',
    [REGISTRY_MESSAGE_ANNOTATION]: `rpc error: code = ${code} desc = failed to pull and unpack image ${JSON.stringify(
      fullReference(image),
    )}: failed to resolve reference ${JSON.stringify(fullReference(image))}: ${cause}`,
  });
  switch (answer.kind) {
    case 'not-found':
      return failed('NotFound', `${fullReference(image)}: not found`);
    case 'unreachable':
      return failed(
        'Unknown',
        `failed to do request: ${titleCase(answer.method)} ${JSON.stringify(answer.url)}: ${answer.error}`,
      );
    case 'status': {
      if (answer.status === 401 && answer.anonymous)
        return failed(
          'Unknown',
          'pull access denied, repository does not exist or may require authorization: authorization failed: no basic auth credentials',
        );
      const server = answer.serverMessage ? ` - Server message: ${answer.serverMessage}` : '';
      return failed(
        'Unknown',
        `unexpected status from ${answer.method} request to ${answer.url}: ${answer.status} ${answer.statusText}${server}`,
      );
    }
  }
}

// The kubelet names the image as the user wrote it; containerd's resolver adds the default tag.
function fullReference(image: string): string {
  const parsed = registryImage(image);
  if (!parsed) return image;
  const separator = parsed.reference.startsWith('sha256:') ? '@' : ':';
  return `${parsed.host}/${parsed.repository}${separator}${parsed.reference}`;
}

function titleCase(method: string): string {
  return method[0] + method.slice(1).toLowerCase();
}

/** `errors: [{code: TOOMANYREQUESTS, message: …}]` as containerd prints it: `toomanyrequests: …`. */
export function serverMessage(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { errors?: { code?: string; message?: string }[] };
    const first = parsed.errors?.[0];
    if (!first?.code) return undefined;
    return `${first.code.toLowerCase()}: ${first.message ?? ''}`.trim();
  } catch {
    return undefined;
  }
}

/** The bytes a manifest pulls: its config and every layer, as containerd sums an image's size. */
export function manifestSize(manifest: {
  readonly config?: { readonly size?: number };
  readonly layers?: readonly { readonly size?: number }[];
}): number {
  return (manifest.config?.size ?? 0) + (manifest.layers ?? []).reduce((sum, l) => sum + (l.size ?? 0), 0);
}

/** The `username:password` for `host` in a kubernetes.io/dockerconfigjson Secret's data, if any. */
export function dockerCredentials(
  dockerConfigJson: string,
  host: string,
): { readonly username: string; readonly password: string } | undefined {
  try {
    const config = JSON.parse(dockerConfigJson) as {
      auths?: Record<string, { username?: string; password?: string; auth?: string }>;
    };
    for (const [key, entry] of Object.entries(config.auths ?? {})) {
      if (key.replace(/^https?:\/\//, '').replace(/\/.*$/, '') !== host) continue;
      if (entry.username !== undefined && entry.password !== undefined)
        return { username: entry.username, password: entry.password };
      if (entry.auth) {
        const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
      }
    }
  } catch {
    return undefined;
  }
  return undefined;
}
