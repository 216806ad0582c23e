/** One challenge of a WWW-Authenticate header (RFC 7235): a scheme and its parameters. */
export interface Challenge {
  /** Lowercase: `bearer`, `basic`. */
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;

/**
 * Parses `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="…"` and
 * friends. Several challenges may share one header (`Basic realm="x", Bearer realm="y"`); a token
 * not followed by `=` starts the next one. Parameter names are lowercased, values unquoted.
 */
export function parseChallenges(header: string | undefined): readonly Challenge[] {
  if (!header) return [];
  const challenges: { scheme: string; params: Record<string, string> }[] = [];
  let rest = header.trim();
  while (rest.length > 0) {
    rest = rest.replace(/^[\s,]+/, '');
    const token = TOKEN.exec(rest)?.[0];
    if (!token) break;
    const after = rest.slice(token.length);
    const param = /^\s*=\s*/.exec(after);
    const current = challenges.at(-1);
    if (!param || !current) {
      challenges.push({ scheme: token.toLowerCase(), params: {} });
      // token68 credentials (`Negotiate abc==`) are not used by registries; skip them.
      rest = after.replace(/^\s*[A-Za-z0-9._~+/-]+=*\s*(?=,|$)/, '');
      continue;
    }
    const { value, remaining } = readValue(after.slice(param[0].length));
    current.params[token.toLowerCase()] = value;
    rest = remaining;
  }
  return challenges;
}

function readValue(text: string): { value: string; remaining: string } {
  if (!text.startsWith('"')) {
    const token = TOKEN.exec(text)?.[0] ?? '';
    return { value: token, remaining: text.slice(token.length) };
  }
  let value = '';
  for (let i = 1; i < text.length; i++) {
    const char = text[i];
    if (char === '\\' && i + 1 < text.length) {
      value += text[++i];
      continue;
    }
    if (char === '"') return { value, remaining: text.slice(i + 1) };
    value += char;
  }
  return { value, remaining: '' };
}

/** The Bearer challenge's token request, if the header has one with a realm. */
export function bearerChallenge(
  header: string | undefined,
): { readonly realm: string; readonly service?: string; readonly scope?: string } | undefined {
  const bearer = parseChallenges(header).find((c) => c.scheme === 'bearer' && c.params.realm);
  if (!bearer?.params.realm) return undefined;
  const { realm, service, scope } = bearer.params;
  return { realm, ...(service ? { service } : {}), ...(scope ? { scope } : {}) };
}

/**
 * Where to ask for the token a Bearer challenge wants (distribution's token auth): its realm with
 * `service` and `scope` added — the challenge's own scope if it named one, else `scope`. Undefined
 * when the realm is not a URL.
 */
export function tokenUrl(
  challenge: { readonly realm: string; readonly service?: string; readonly scope?: string },
  scope: string,
): URL | undefined {
  let url: URL;
  try {
    url = new URL(challenge.realm);
  } catch {
    return undefined;
  }
  if (challenge.service) url.searchParams.set('service', challenge.service);
  url.searchParams.set('scope', challenge.scope ?? scope);
  return url;
}

/** The token in a token service's JSON answer: `token`, or OAuth2's `access_token` (GHCR, ECR…). */
export function issuedToken(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { token?: unknown; access_token?: unknown } | null;
    for (const token of [parsed?.token, parsed?.access_token])
      if (typeof token === 'string' && token.length > 0) return token;
  } catch {}
  return undefined;
}
