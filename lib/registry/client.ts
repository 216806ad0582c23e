// Asks a registry what a reference is now, as a node's container runtime would: HEAD the manifest
// for its digest (Docker Hub does not count a HEAD against the pull rate limit), and GET it by
// digest for its size when asked. Anonymous first; a Bearer challenge gets a token from its realm
// (with the pull secret's username and password, if any), a Basic challenge the credentials.
import { bearerChallenge, issuedToken, tokenUrl } from '../discovery/challenge.ts';
import { basicAuthorization } from '../discovery/credentials.ts';
import { type HttpResponse, retryAfterMs, send } from '../discovery/http.ts';
import type { ImageReference } from '../image-ref.ts';
import { isRateLimit, MANIFEST_MEDIA_TYPES, parseManifest } from './manifest.ts';
import type { BasicCredentials } from './pull-secrets.ts';

export type ManifestCheck =
  | { readonly ok: true; readonly digest: string; readonly size?: number }
  | {
      readonly ok: false;
      readonly reason: 'NotFound' | 'Unauthorized' | 'RateLimited' | 'Unreachable' | 'InvalidResponse';
      readonly message: string;
      /** From Retry-After, when the registry sent one. */
      readonly retryAfterMs?: number;
    };

export interface ManifestRequest {
  readonly ref: Pick<ImageReference, 'registry' | 'repository' | 'tag' | 'digest'>;
  readonly credentials?: BasicCredentials;
  /** Also GET the manifest for its size (an index: the linux/amd64 entry's). */
  readonly size?: boolean;
  readonly now: Date;
  readonly timeoutMs?: number;
}

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const LOOPBACK = /^(localhost|127\.0\.0\.1|\[::1\])(:[0-9]+)?$/;

/** The base URL of a registry host: Docker Hub's API lives at registry-1.docker.io. */
export function registryBase(host: string, scheme: 'https' | 'http' = 'https'): string {
  return `${scheme}://${host === 'docker.io' ? 'registry-1.docker.io' : host}`;
}

export async function checkManifest(request: ManifestRequest): Promise<ManifestCheck> {
  const { ref } = request;
  const reference = ref.digest ?? ref.tag ?? 'latest';
  const session = new Session(request);
  let head = await session.ask('HEAD', reference);
  // A registry on this machine may speak plain HTTP, as containerd allows for localhost.
  if (!head.ok && head.tls && LOOPBACK.test(ref.registry)) {
    session.scheme = 'http';
    head = await session.ask('HEAD', reference);
  }
  if (!head.ok) return head.check;
  const refused = refusal(head.response, session.where(reference), request);
  if (refused) return refused;
  const digest = headerText(head.response.headers['docker-content-digest']) ?? ref.digest;
  if (!digest) {
    return {
      ok: false,
      reason: 'InvalidResponse',
      message: `${session.where(reference)} answered without a Docker-Content-Digest`,
    };
  }
  if (!request.size) return { ok: true, digest };
  let target = digest;
  for (let hops = 0; hops < 2; hops++) {
    const got = await session.ask('GET', target);
    if (!got.ok) return got.check;
    const refusedGet = refusal(got.response, session.where(target), request);
    if (refusedGet) return refusedGet;
    const parsed = parseManifest(got.response.body);
    if (parsed.kind === 'image') return { ok: true, digest, size: parsed.size };
    if (parsed.kind === 'invalid' || !parsed.entry)
      return {
        ok: false,
        reason: 'InvalidResponse',
        message: `${session.where(target)}: ${parsed.kind === 'invalid' ? parsed.message : 'an empty index'}`,
      };
    target = parsed.entry;
  }
  return { ok: false, reason: 'InvalidResponse', message: `${session.where(target)}: an index of indexes` };
}

type Asked =
  | { readonly ok: true; readonly response: HttpResponse }
  | { readonly ok: false; readonly check: ManifestCheck; readonly tls: boolean };

/** One image's conversation with its registry: the scheme that works and the token once issued. */
class Session {
  scheme: 'https' | 'http' = 'https';
  private authorization: string | undefined;

  constructor(private readonly request: ManifestRequest) {}

  where(reference: string): string {
    const { ref } = this.request;
    return `${registryBase(ref.registry, this.scheme)}/v2/${ref.repository}/manifests/${reference}`;
  }

  async ask(method: 'HEAD' | 'GET', reference: string): Promise<Asked> {
    const url = new URL(this.where(reference));
    const first = await this.send(method, url, this.authorization);
    if (!first.ok || first.response.status !== 401 || this.authorization) return first;
    const header = headerText(first.response.headers['www-authenticate']);
    const credentials = this.request.credentials;
    const bearer = bearerChallenge(header);
    if (bearer) {
      const token = await this.token(bearer);
      if (!token.ok) return token;
      this.authorization = `Bearer ${token.token}`;
    } else if (credentials && /^\s*basic/i.test(header ?? '')) {
      this.authorization = basicAuthorization(credentials);
    } else return first;
    return this.send(method, url, this.authorization);
  }

  private async token(challenge: {
    readonly realm: string;
    readonly service?: string;
  }): Promise<{ ok: true; token: string } | { ok: false; check: ManifestCheck; tls: boolean }> {
    // Always the repository's pull scope (whatever the challenge named): what a node's runtime asks for.
    const { realm: at, service } = challenge;
    const realm = tokenUrl(
      { realm: at, ...(service ? { service } : {}) },
      `repository:${this.request.ref.repository}:pull`,
    );
    if (!realm)
      return {
        ok: false,
        tls: false,
        check: { ok: false, reason: 'InvalidResponse', message: `the token realm ${at} is not a URL` },
      };
    const credentials = this.request.credentials;
    const got = await this.send('GET', realm, credentials ? basicAuthorization(credentials) : undefined);
    if (!got.ok) return got;
    const { status, body } = got.response;
    if (status !== 200)
      return {
        ok: false,
        tls: false,
        check: {
          ok: false,
          reason: status === 401 || status === 403 ? 'Unauthorized' : 'InvalidResponse',
          message: `the token service ${realm.origin}${realm.pathname} answered ${status}${credentials ? '' : ' (no pull secret for this registry)'}`,
        },
      };
    const token = issuedToken(body);
    if (token) return { ok: true, token };
    return {
      ok: false,
      tls: false,
      check: {
        ok: false,
        reason: 'InvalidResponse',
        message: `the token service ${realm.origin} answered no token`,
      },
    };
  }

  private async send(method: 'HEAD' | 'GET', url: URL, authorization: string | undefined): Promise<Asked> {
    const sent = await send({
      url,
      method,
      headers: {
        accept: MANIFEST_MEDIA_TYPES.join(', '),
        ...(authorization ? { authorization } : {}),
      },
      timeoutMs: this.request.timeoutMs ?? 10_000,
      maxBytes: MAX_MANIFEST_BYTES,
    });
    if (sent.ok) return sent;
    return {
      ok: false,
      tls: sent.failure.reason === 'TLSError',
      check: { ok: false, reason: 'Unreachable', message: sent.failure.message },
    };
  }
}

/** What a status other than 200 means for the image; undefined for a 200. */
function refusal(response: HttpResponse, where: string, request: ManifestRequest): ManifestCheck | undefined {
  const { status, body, headers } = response;
  if (status === 200) return undefined;
  if (isRateLimit(status, body)) {
    const wait = retryAfterMs(headers['retry-after'], request.now);
    return {
      ok: false,
      reason: 'RateLimited',
      message: `${where} answered ${status}: the registry limits pulls${wait !== undefined ? `, retry after ${Math.ceil(wait / 1000)} s` : ''}`,
      ...(wait !== undefined ? { retryAfterMs: wait } : {}),
    };
  }
  if (status === 404)
    return { ok: false, reason: 'NotFound', message: `${where} answered 404: no such manifest` };
  if (status === 401 || status === 403)
    return {
      ok: false,
      reason: 'Unauthorized',
      message: `${where} answered ${status}${request.credentials ? ': the pull secret was refused' : ': the registry wants credentials (imagePullSecrets)'}`,
    };
  return { ok: false, reason: 'InvalidResponse', message: `${where} answered HTTP ${status}` };
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
