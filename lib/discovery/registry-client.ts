import { z } from 'zod';
import { bearerChallenge, issuedToken, tokenUrl } from './challenge.ts';
import { authorizationOf, basicAuthorization, type Credentials } from './credentials.ts';
import { type HttpResponse, retryAfterMs, send } from './http.ts';
import type { QueryIo } from './io.ts';
import { nextLink } from './link.ts';
import { displayUrl, failure, type SourceFailure } from './reasons.ts';

export type RegistryIo = QueryIo;

/** Tags asked for per page; registries that paginate answer with a Link to the next page. */
export const PAGE_SIZE = 1000;
const MAX_PAGES = 1000;
// A 429 is waited out inside the sync only when the registry asks for a short pause.
const MAX_RATE_LIMIT_WAITS = 2;
const MAX_RATE_LIMIT_WAIT_MS = 10_000;

const tagsSchema = z.object({ name: z.string().optional(), tags: z.array(z.string()).nullable().optional() });
const catalogSchema = z.object({ repositories: z.array(z.string()) });
const errorsSchema = z.object({
  errors: z.array(z.object({ code: z.string().optional(), message: z.string().optional() })),
});

export type Listed =
  | { readonly ok: true; readonly items: readonly string[]; readonly capped?: boolean }
  | { readonly ok: false; readonly failure: SourceFailure };

/** Where a listing starts and how much of it to take. */
export interface ListBounds {
  /** Only items after this one, lexically (the `last` parameter of the distribution API). */
  readonly after?: string;
  /** Stop once this many items are read. */
  readonly max?: number;
}

type Fetched =
  | { readonly ok: true; readonly response: HttpResponse }
  | { readonly ok: false; readonly failure: SourceFailure };

/**
 * One sync's conversation with a registry: the first request carries the static credentials
 * (token as Bearer, or Basic); a 401 with a Bearer challenge gets a token from the realm
 * (distribution's token auth, as Docker Hub, GHCR and GitLab use it), sending username/password
 * there as Basic, or nothing for anonymous pulls. Tokens are kept per scope for the sync.
 */
export class RegistryClient {
  private readonly base: string;
  private readonly tokens = new Map<string, string>();
  /** The token service, once a challenge named it: later scopes get their token before asking. */
  private tokenService?: { readonly realm: string; readonly service?: string };

  constructor(
    url: string,
    private readonly credentials: Credentials,
    private readonly io: RegistryIo,
    private readonly pageSize = PAGE_SIZE,
  ) {
    this.base = url.endsWith('/') ? url : `${url}/`;
  }

  /** The repository's tags (after `bounds.after`, at most `bounds.max`), following Link pagination, in the registry's order. */
  tags(repository: string, bounds: ListBounds = {}): Promise<Listed> {
    const what = `repository ${repository}`;
    const read = (body: string) => {
      const parsed = parseJson(body, tagsSchema);
      // A repository without tags lists null (distribution 2.x) or nothing.
      return parsed ? (parsed.tags ?? []) : undefined;
    };
    return this.paged(`v2/${repository}/tags/list`, `repository:${repository}:pull`, what, read, bounds);
  }

  /** Every repository (/v2/_catalog), following Link pagination. */
  repositories(): Promise<Listed> {
    return this.paged('v2/_catalog', 'registry:catalog:*', 'the catalog', (body) => {
      return parseJson(body, catalogSchema)?.repositories;
    });
  }

  private async paged(
    path: string,
    scope: string,
    what: string,
    read: (body: string) => readonly string[] | undefined,
    bounds: ListBounds = {},
  ): Promise<Listed> {
    const items: string[] = [];
    const seen = new Set<string>();
    const pageSize = Math.min(this.pageSize, bounds.max ?? this.pageSize);
    let url: URL | undefined = new URL(`${path}?n=${pageSize}`, this.base);
    if (bounds.after !== undefined) url.searchParams.set('last', bounds.after);
    while (url) {
      if (seen.has(url.href) || seen.size >= MAX_PAGES)
        return {
          ok: false,
          failure: failure('InvalidResponse', `${displayUrl(url)}: pagination does not end`),
        };
      seen.add(url.href);
      const fetched = await this.get(url, scope);
      if (!fetched.ok) return fetched;
      const { status, body, headers } = fetched.response;
      if (status !== 200)
        return { ok: false, failure: statusFailure(status, body, what, url, this.hasCredentials()) };
      const page = read(body);
      if (!page)
        return { ok: false, failure: failure('InvalidResponse', `${displayUrl(url)} did not answer a list`) };
      // Registries that ignore `last` or `n` (distribution 2.8 does, for tags) are held to them here.
      const { after, max } = bounds;
      items.push(...(after === undefined ? page : page.filter((item) => item > after)));
      if (max !== undefined && items.length >= max)
        return {
          ok: true,
          items: items.slice(0, max),
          capped: items.length > max || nextLink(headerText(headers.link), url.href) !== undefined,
        };
      const next = nextLink(headerText(headers.link), url.href);
      // Credentials go only where the registry is: a Link to another origin is not followed.
      if (next && next.origin !== url.origin)
        return {
          ok: false,
          failure: failure('InvalidResponse', `${displayUrl(url)} paginates to another host (${next.host})`),
        };
      url = next;
    }
    return { ok: true, items };
  }

  private hasCredentials(): boolean {
    return this.credentials.token !== undefined || this.credentials.basic !== undefined;
  }

  private async get(url: URL, scope: string): Promise<Fetched> {
    const first = await this.authorizationFor(scope);
    if (!first.ok) return first;
    let authorization = first.authorization;
    let challenged = false;
    for (let waits = 0; ; ) {
      const fetched = await this.send(url, authorization);
      if (!fetched.ok) return fetched;
      const { status, headers } = fetched.response;
      if (status === 401 && !challenged && this.credentials.token === undefined) {
        const challenge = bearerChallenge(headerText(headers['www-authenticate']));
        if (!challenge) return fetched;
        challenged = true;
        this.tokenService = {
          realm: challenge.realm,
          ...(challenge.service ? { service: challenge.service } : {}),
        };
        const issued = await this.fetchToken(challenge, scope);
        if (!issued.ok) return issued;
        this.tokens.set(scope, issued.token);
        authorization = `Bearer ${issued.token}`;
        continue;
      }
      if (status !== 429) return fetched;
      const wait = retryAfterMs(headers['retry-after'], this.io.now) ?? 1000;
      if (waits >= MAX_RATE_LIMIT_WAITS || wait > MAX_RATE_LIMIT_WAIT_MS) {
        return {
          ok: false,
          failure: failure(
            'RateLimited',
            `${displayUrl(url)} answered 429 Too Many Requests; it asks to wait ${Math.ceil(wait / 1000)} s`,
            wait,
          ),
        };
      }
      waits++;
      await this.io.sleep(wait);
    }
  }

  // Saves the challenged round trip for every repository after the first.
  private async authorizationFor(
    scope: string,
  ): Promise<
    | { readonly ok: true; readonly authorization?: string }
    | { readonly ok: false; readonly failure: SourceFailure }
  > {
    const known = this.tokens.get(scope);
    if (known) return { ok: true, authorization: `Bearer ${known}` };
    if (!this.tokenService || this.credentials.token !== undefined) {
      const authorization = authorizationOf(this.credentials);
      return authorization ? { ok: true, authorization } : { ok: true };
    }
    const issued = await this.fetchToken(this.tokenService, scope);
    if (!issued.ok) return issued;
    this.tokens.set(scope, issued.token);
    return { ok: true, authorization: `Bearer ${issued.token}` };
  }

  private async fetchToken(
    challenge: { readonly realm: string; readonly service?: string; readonly scope?: string },
    scope: string,
  ): Promise<
    { readonly ok: true; readonly token: string } | { readonly ok: false; readonly failure: SourceFailure }
  > {
    const realm = tokenUrl(challenge, scope);
    if (!realm)
      return {
        ok: false,
        failure: failure(
          'InvalidResponse',
          `the registry's token realm ${JSON.stringify(challenge.realm)} is not a URL`,
        ),
      };
    const basic = this.credentials.basic;
    const fetched = await this.send(realm, basic ? basicAuthorization(basic) : undefined);
    if (!fetched.ok) return fetched;
    const { status, body } = fetched.response;
    const where = displayUrl(realm);
    if (status === 401)
      return {
        ok: false,
        failure: failure(
          'Unauthorized',
          basic
            ? `the token service ${where} rejected the username/password from the Secret`
            : `the token service ${where} requires credentials: set username and password in the secretRef Secret`,
        ),
      };
    if (status === 403)
      return { ok: false, failure: failure('Forbidden', `the token service ${where} denied ${scope}`) };
    if (status !== 200)
      return {
        ok: false,
        failure: failure('InvalidResponse', `the token service ${where} answered HTTP ${status}`),
      };
    const token = issuedToken(body);
    if (!token)
      return {
        ok: false,
        failure: failure('InvalidResponse', `the token service ${where} answered no token`),
      };
    return { ok: true, token };
  }

  private send(url: URL, authorization: string | undefined): Promise<Fetched> {
    this.io.countRequest?.();
    return send({
      url,
      headers: { ...this.credentials.headers, ...(authorization ? { authorization } : {}) },
      tls: this.credentials.tls,
      timeoutMs: this.io.timeoutMs,
      maxBytes: this.io.maxBytes,
      ...(this.io.signal ? { signal: this.io.signal } : {}),
    });
  }
}

function statusFailure(
  status: number,
  body: string,
  what: string,
  url: URL,
  credentials: boolean,
): SourceFailure {
  const where = displayUrl(url);
  const detail = parseJson(body, errorsSchema)
    ?.errors.map((e) => [e.code, e.message].filter(Boolean).join(': '))
    .join('; ');
  const suffix = detail ? ` (${detail.slice(0, 200)})` : '';
  switch (status) {
    case 401:
      return failure(
        'Unauthorized',
        credentials
          ? `${where} answered 401: check token or username/password in the Secret${suffix}`
          : `${where} answered 401: the registry requires credentials, set secretRef${suffix}`,
      );
    case 403:
      return failure('Forbidden', `${where} answered 403: the credentials may not read ${what}${suffix}`);
    case 404:
      return failure('NotFound', `${what} was not found at ${where}${suffix}`);
    case 408:
    case 504:
      return failure('Timeout', `${where} answered ${status}${suffix}`);
    default:
      return failure('InvalidResponse', `${where} answered HTTP ${status}${suffix}`);
  }
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

function parseJson<T>(body: string, schema: z.ZodType<T>): T | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
