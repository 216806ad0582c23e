// The token service of distribution's token auth (docs/spec/auth/token.md), as GitLab or
// docker_auth run it beside a registry: Basic credentials in, a JWT the registry trusts out. The
// registry verifies the token's x5c certificate against its rootcertbundle (registry/auth/token).
import { randomUUID, sign } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Pki } from './pki.ts';

export interface TokenServer {
  /** The realm the registry names in its challenge. */
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  /** Requests it answered, to count what a sync cost. */
  readonly requests: () => number;
  /** A token for `scopes`, e.g. to put into a Secret's token key. */
  issue(subject: string, scopes: readonly string[], lifetimeSeconds?: number): string;
  stop(): Promise<void>;
}

const base64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

function derOf(pem: string): string {
  return pem
    .replace(/-----(BEGIN|END) CERTIFICATE-----/g, '')
    .replace(/\s+/g, '')
    .trim();
}

// Only pull is ever granted: these tests list tags.
function accessFor(scopes: readonly string[]) {
  return scopes.flatMap((scope) => {
    const [type = '', ...rest] = scope.split(':');
    const actions = (rest.pop() ?? '').split(',');
    const name = rest.join(':');
    const granted = actions.filter((a) => a === 'pull' || (type === 'registry' && a === '*'));
    return granted.length ? [{ type, name, actions: granted }] : [];
  });
}

export async function startTokenServer(options: {
  readonly pki: Pki;
  readonly users: Readonly<Record<string, string>>;
}): Promise<TokenServer> {
  const service = 'drop-test-registry';
  const issuer = 'drop-test-token-issuer';
  let answered = 0;
  const issue = (subject: string, scopes: readonly string[], lifetimeSeconds = 300) => {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'ES256', x5c: [derOf(options.pki.tokenCertPem)] };
    const claims = {
      iss: issuer,
      sub: subject,
      aud: service,
      exp: now + lifetimeSeconds,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access: accessFor(scopes),
    };
    const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    // JWS ES256 wants the raw r||s signature (RFC 7518 §3.4), not DER.
    const signature = sign('sha256', Buffer.from(input), {
      key: options.pki.tokenKeyPem,
      dsaEncoding: 'ieee-p1363',
    });
    return `${input}.${base64url(signature)}`;
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    answered++;
    const url = new URL(req.url ?? '/', 'http://token');
    const [scheme, encoded = ''] = (req.headers.authorization ?? '').split(' ');
    const [user = '', password] = Buffer.from(encoded, 'base64').toString('utf8').split(/:(.*)/s);
    const known = scheme === 'Basic' && options.users[user] !== undefined && options.users[user] === password;
    if (url.pathname !== '/token' || url.searchParams.get('service') !== service) {
      res.writeHead(404).end();
      return;
    }
    if (!known) {
      res.writeHead(401, {
        'www-authenticate': 'Basic realm="drop-test-token"',
        'content-type': 'application/json',
      });
      res.end(JSON.stringify({ details: 'credentials required' }));
      return;
    }
    const token = issue(user, url.searchParams.getAll('scope'));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }),
    );
  };
  const server = createServer(handle);
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    requests: () => answered,
    issue,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
