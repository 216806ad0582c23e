/**
 * What a source's `secretRef` Secret holds: `token` (Bearer), `username`/`password` (Basic),
 * `ca.crt` (trust this CA), `tls.crt`/`tls.key` (client certificate), `headers.<name>` (extra
 * request headers). Values never leave this module except as request headers and TLS options.
 */
export interface Credentials {
  readonly token?: string;
  readonly basic?: { readonly username: string; readonly password: string };
  readonly headers: Readonly<Record<string, string>>;
  readonly tls: TlsMaterial;
}

export interface TlsMaterial {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

export const ANONYMOUS: Credentials = { headers: {}, tls: {} };

export type ReadCredentials =
  | { readonly ok: true; readonly credentials: Credentials }
  | { readonly ok: false; readonly problem: string };

const HEADER_PREFIX = 'headers.';
// RFC 9110 field-name: a token.
const HEADER_NAME_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
]);

// `kubectl create secret --from-file` keeps the file's final newline; no credential ends in one.
function value(data: Readonly<Record<string, string>>, key: string): string | undefined {
  const encoded = data[key];
  if (encoded === undefined) return undefined;
  return Buffer.from(encoded, 'base64')
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

const KNOWN_KEYS = new Set(['token', 'username', 'password', 'ca.crt', 'tls.crt', 'tls.key']);
const KNOWN_KEYS_TEXT = 'token, username and password, ca.crt, tls.crt and tls.key, and headers.<Name>';

/** Reads a Secret's `data` (base64 values, as the API returns them). Problems name keys, never values. */
export function credentialsFrom(secretName: string, data: Readonly<Record<string, string>>): ReadCredentials {
  const problem = (what: string): ReadCredentials => ({
    ok: false,
    problem: `Secret ${secretName}: ${what}`,
  });
  // A Secret that holds none of the keys Drop reads is a mistake (a typo, the wrong Secret), not a
  // request to go anonymous: say which keys it has and which are read.
  const keys = Object.keys(data);
  if (!keys.some((k) => KNOWN_KEYS.has(k) || k.startsWith(HEADER_PREFIX)))
    return problem(
      keys.length === 0
        ? `has no data; Drop reads ${KNOWN_KEYS_TEXT}`
        : `has none of the keys Drop reads (it has ${keys.sort().join(', ')}); Drop reads ${KNOWN_KEYS_TEXT}`,
    );
  const username = value(data, 'username');
  const password = value(data, 'password');
  if ((username === undefined) !== (password === undefined))
    return problem('username and password go together: set both or neither');
  const cert = value(data, 'tls.crt');
  const key = value(data, 'tls.key');
  if ((cert === undefined) !== (key === undefined))
    return problem('tls.crt and tls.key go together: set both or neither');
  const ca = value(data, 'ca.crt');
  for (const [name, pem] of [
    ['ca.crt', ca],
    ['tls.crt', cert],
  ] as const) {
    if (pem !== undefined && !pem.includes('-----BEGIN CERTIFICATE-----'))
      return problem(`${name} is not a PEM certificate (-----BEGIN CERTIFICATE-----)`);
  }
  if (key !== undefined && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key))
    return problem('tls.key is not a PEM private key');
  const headers: Record<string, string> = {};
  for (const entry of Object.keys(data).filter((k) => k.startsWith(HEADER_PREFIX))) {
    const name = entry.slice(HEADER_PREFIX.length);
    if (!HEADER_NAME_RE.test(name))
      return problem(`${entry}: ${JSON.stringify(name)} is not an HTTP header name`);
    if (RESERVED_HEADERS.has(name.toLowerCase())) return problem(`${entry}: Drop sets ${name} itself`);
    const text = value(data, entry) ?? '';
    if (!isHeaderValue(text)) return problem(`${entry}: the value holds a line break or control character`);
    headers[name] = text;
  }
  const token = value(data, 'token');
  return {
    ok: true,
    credentials: {
      ...(token !== undefined ? { token } : {}),
      ...(username !== undefined && password !== undefined ? { basic: { username, password } } : {}),
      headers,
      tls: {
        ...(ca !== undefined ? { ca } : {}),
        ...(cert !== undefined ? { cert } : {}),
        ...(key !== undefined ? { key } : {}),
      },
    },
  };
}

/** `Basic base64(username:password)` (RFC 7617). */
export function basicAuthorization(basic: { readonly username: string; readonly password: string }): string {
  return `Basic ${Buffer.from(`${basic.username}:${basic.password}`, 'utf8').toString('base64')}`;
}

/**
 * The Authorization header sent with the first request: a static token wins over username/password;
 * neither means anonymous. An Authorization in headers.<name> is used only when neither is set.
 */
export function authorizationOf(credentials: Credentials): string | undefined {
  if (credentials.token !== undefined) return `Bearer ${credentials.token}`;
  if (credentials.basic) return basicAuthorization(credentials.basic);
  return undefined;
}

/** Every header a request to the source carries: the extra headers, then Authorization. */
export function requestHeaders(credentials: Credentials): Record<string, string> {
  const authorization = authorizationOf(credentials);
  const extra = Object.fromEntries(
    Object.entries(credentials.headers).filter(
      ([name]) => authorization === undefined || name.toLowerCase() !== 'authorization',
    ),
  );
  return authorization === undefined ? extra : { ...extra, authorization };
}

// Header values may not hold control characters (tab aside): a newline would inject a second header.
function isHeaderValue(text: string): boolean {
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return false;
  }
  return true;
}
