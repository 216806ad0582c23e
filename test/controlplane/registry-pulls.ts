// The simulated kubelet's registry client: watches pods on fake nodes whose image lives in a local
// test registry (a loopback host with a port), asks that registry for the manifest as containerd
// would — with the pod's pull secrets —, and writes the answer on the pod for the kwok stages. See
// README.md "Pulls from a real registry".
import http from 'node:http';
import https from 'node:https';
import {
  createKube,
  type Kube,
  KubeError,
  type KubeObject,
  loadKubeConfig,
  type Pod,
  paths,
} from '../../lib/kube/index.ts';
import { runWatch } from '../../lib/kube/watch.ts';
import {
  dockerCredentials,
  manifestSize,
  needsResolving,
  type RegistryAnswer,
  type RegistryImage,
  registryImage,
  resolution,
  serverMessage,
} from './registry-pulls-model.ts';

export interface RegistryPullsOptions {
  readonly kubeconfigPath: string;
  /** Default: a line on stderr. The resolver keeps going (the watch relists). */
  readonly onError?: (context: string, error: unknown) => void;
}

export interface RegistryPulls {
  stop(): Promise<void>;
}

const FIELD_MANAGER = 'drop-registry-pulls';
const TIMEOUT_MS = 10_000;
const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

/** Starts resolving in this process; pods that exist already are resolved too (the watch lists first). */
export function startRegistryPulls(options: RegistryPullsOptions): RegistryPulls {
  const kube = createKube(loadKubeConfig(options.kubeconfigPath), FIELD_MANAGER);
  const onError = options.onError ?? logError;
  const controller = new AbortController();
  const inFlight = new Map<string, Promise<void>>();

  const onPod = (pod: Pod) => {
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    if (!needsResolving(pod) || inFlight.has(key)) return;
    const done = resolvePod(kube, pod)
      .catch((error: unknown) => onError(`resolve ${key}`, error))
      .finally(() => inFlight.delete(key));
    inFlight.set(key, done);
  };

  void runWatch(
    kube,
    kube.transport,
    { apiVersion: 'v1', kind: 'Pod', plural: 'pods', path: '/api/v1/pods' },
    async (action, object) => {
      if (action !== 'delete') onPod(object as Pod);
    },
    controller.signal,
    (error) => onError('watch pods', error),
  );

  return {
    async stop() {
      controller.abort();
      await Promise.allSettled([...inFlight.values()]);
      kube.transport.close();
    },
  };
}

async function resolvePod(kube: Kube, pod: Pod): Promise<void> {
  const image = pod.spec?.containers[0]?.image ?? '';
  const parsed = registryImage(image);
  if (!parsed) return;
  const credentials = await pullCredentials(kube, pod, parsed.host);
  const annotations = resolution(image, await askRegistry(parsed, credentials));
  // Written once, first writer wins: with two resolvers on one cluster, a pod keeps the first answer.
  let current: Pod = pod;
  for (let attempt = 1; attempt <= 5; attempt++) {
    try {
      await kube.mergePatch(paths.pod(pod.metadata.namespace ?? '', pod.metadata.name), {
        metadata: { resourceVersion: current.metadata.resourceVersion, annotations },
      });
      return;
    } catch (error) {
      if (error instanceof KubeError && error.kind === 'not-found') return;
      if (!(error instanceof KubeError && error.kind === 'conflict')) throw error;
      const latest = await kube.get<Pod>(paths.pod(pod.metadata.namespace ?? '', pod.metadata.name));
      if (!latest || !needsResolving(latest)) return;
      current = latest;
    }
  }
}

type Basic = { readonly username: string; readonly password: string };

/**
 * The kubelet's own credentials, as `/var/lib/kubelet/config.json` on every node would hold them: a
 * kubernetes.io/dockerconfigjson Secret of this name in kube-system, used when no pull secret of
 * the pod has the host.
 */
export const KUBELET_CONFIG_SECRET = { namespace: 'kube-system', name: 'drop-test-kubelet-config' } as const;

/** The first of the pod's imagePullSecrets with credentials for the host, else the kubelet's own. */
async function pullCredentials(kube: Kube, pod: Pod, host: string): Promise<Basic | undefined> {
  const secrets = [
    ...((pod.spec?.imagePullSecrets ?? []) as readonly { readonly name: string }[]).map(({ name }) => ({
      namespace: pod.metadata.namespace ?? '',
      name,
    })),
    KUBELET_CONFIG_SECRET,
  ];
  for (const { namespace, name } of secrets) {
    const secret = await kube
      .get<KubeObject & { data?: Record<string, string> }>(paths.secret(namespace, name))
      .catch(() => undefined);
    const encoded = secret?.data?.['.dockerconfigjson'];
    if (!encoded) continue;
    const found = dockerCredentials(Buffer.from(encoded, 'base64').toString('utf8'), host);
    if (found) return found;
  }
  return undefined;
}

/**
 * HEAD the manifest (its digest), then GET it by digest (its size; an index's linux/amd64 entry).
 * HTTPS first, plain HTTP when the host does not speak TLS, as containerd treats a localhost registry.
 */
export async function askRegistry(image: RegistryImage, credentials?: Basic): Promise<RegistryAnswer> {
  let scheme: 'https' | 'http' = 'https';
  const path = (reference: string) => `/v2/${image.repository}/manifests/${reference}`;
  let head = await exchange(scheme, image, 'HEAD', path(image.reference), credentials);
  if (head.kind === 'error' && head.notTls) {
    scheme = 'http';
    head = await exchange(scheme, image, 'HEAD', path(image.reference), credentials);
  }
  if (head.kind === 'error') return { kind: 'unreachable', method: 'HEAD', url: head.url, error: head.error };
  if (head.status === 404) return { kind: 'not-found' };
  if (head.status !== 200) return statusAnswer('HEAD', head);
  const digest = String(head.headers['docker-content-digest'] ?? '');
  let get = await exchange(scheme, image, 'GET', path(digest), credentials);
  for (let hops = 0; get.kind === 'answer' && get.status === 200 && hops < 2; hops++) {
    const manifest = JSON.parse(get.body) as {
      manifests?: { digest: string; platform?: { os?: string; architecture?: string } }[];
      config?: { size?: number };
      layers?: { size?: number }[];
    };
    if (!manifest.manifests) return { kind: 'found', digest, size: manifestSize(manifest) };
    const entry =
      manifest.manifests.find((m) => m.platform?.os === 'linux' && m.platform.architecture === 'amd64') ??
      manifest.manifests[0];
    if (!entry) return { kind: 'not-found' };
    get = await exchange(scheme, image, 'GET', path(entry.digest), credentials);
  }
  if (get.kind === 'error') return { kind: 'unreachable', method: 'GET', url: get.url, error: get.error };
  if (get.status === 404) return { kind: 'not-found' };
  return statusAnswer('GET', get);
}

type Exchange = Raw & { readonly anonymous: boolean };

function statusAnswer(
  method: 'HEAD' | 'GET',
  answer: Extract<Raw, { kind: 'answer' }> & { anonymous: boolean },
): RegistryAnswer {
  const message = serverMessage(answer.body);
  return {
    kind: 'status',
    method,
    url: answer.url,
    status: answer.status,
    statusText: http.STATUS_CODES[answer.status] ?? '',
    anonymous: answer.anonymous,
    ...(message ? { serverMessage: message } : {}),
  };
}

/** One request; on a Basic or Bearer challenge it answers with the credentials, as containerd does. */
async function exchange(
  scheme: 'https' | 'http',
  image: RegistryImage,
  method: 'HEAD' | 'GET',
  path: string,
  credentials: Basic | undefined,
): Promise<Exchange> {
  const url = `${scheme}://${image.host}${path}`;
  const first = await request(method, url, { accept: MANIFEST_TYPES });
  if (first.kind === 'error' || first.status !== 401) return { ...first, anonymous: true };
  const challenge = String(first.headers['www-authenticate'] ?? '');
  if (!credentials) return { ...first, anonymous: true };
  const basic = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
  if (/^basic/i.test(challenge))
    return {
      ...(await request(method, url, { accept: MANIFEST_TYPES, authorization: basic })),
      anonymous: false,
    };
  const realm = /realm="([^"]+)"/.exec(challenge)?.[1];
  if (!realm) return { ...first, anonymous: false };
  const tokenUrl = new URL(realm);
  const service = /service="([^"]+)"/.exec(challenge)?.[1];
  if (service) tokenUrl.searchParams.set('service', service);
  tokenUrl.searchParams.set('scope', `repository:${image.repository}:pull`);
  const token = await request('GET', tokenUrl.toString(), { authorization: basic });
  if (token.kind === 'error' || token.status !== 200) return { ...first, anonymous: false };
  const { token: bearer, access_token } = JSON.parse(token.body) as { token?: string; access_token?: string };
  return {
    ...(await request(method, url, {
      accept: MANIFEST_TYPES,
      authorization: `Bearer ${bearer ?? access_token}`,
    })),
    anonymous: false,
  };
}

type Raw =
  | { kind: 'answer'; url: string; status: number; headers: http.IncomingHttpHeaders; body: string }
  | { kind: 'error'; url: string; error: string; notTls: boolean };

function request(method: string, url: string, headers: Record<string, string>): Promise<Raw> {
  return new Promise((resolve) => {
    const transport = url.startsWith('https:') ? https : http;
    // A node trusts the test registries' CA as containerd's hosts.toml would; verifying it is not
    // what these pulls test.
    const req = transport.request(
      url,
      { method, headers, timeout: TIMEOUT_MS, rejectUnauthorized: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            kind: 'answer',
            url,
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', (error) => resolve({ kind: 'error', url, error: error.message, notTls: false }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('i/o timeout')));
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({
        kind: 'error',
        url,
        error: goDialError(error, url),
        notTls: error.code === 'EPROTO' || /wrong version number|ssl/i.test(error.message),
      }),
    );
    req.end();
  });
}

// Go's words for a refused or unreachable dial, which is what the kubelet's message carries.
function goDialError(error: NodeJS.ErrnoException, url: string): string {
  const host = new URL(url).host;
  if (error.code === 'ECONNREFUSED') return `dial tcp ${host}: connect: connection refused`;
  if (error.code === 'ECONNRESET') return `read tcp ${host}: read: connection reset by peer`;
  return `dial tcp ${host}: ${error.message}`;
}

function logError(context: string, error: unknown): void {
  console.error(
    `drop: registry pulls: ${context}: ${error instanceof Error ? error.message : String(error)}`,
  );
}
