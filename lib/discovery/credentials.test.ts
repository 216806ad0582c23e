import { describe, expect, it } from 'vitest';
import { bearerChallenge, parseChallenges } from './challenge.ts';
import { authorizationOf, basicAuthorization, credentialsFrom, requestHeaders } from './credentials.ts';
import { nextLink } from './link.ts';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';

function read(data: Record<string, string>) {
  const encoded = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)]));
  const result = credentialsFrom('drop-system/creds', encoded);
  if (!result.ok) throw new Error(result.problem);
  return result.credentials;
}

function problem(data: Record<string, string>) {
  const encoded = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)]));
  const result = credentialsFrom('drop-system/creds', encoded);
  return result.ok ? undefined : result.problem;
}

describe('credentialsFrom', () => {
  it('reads every supported key', () => {
    const credentials = read({
      token: 't0k3n\n',
      username: 'u',
      password: 'p',
      'ca.crt': CERT,
      'tls.crt': CERT,
      'tls.key': KEY,
      'headers.X-Scope-OrgID': 'tenant-1',
      unrelated: 'ignored',
    });
    expect(credentials).toEqual({
      token: 't0k3n',
      basic: { username: 'u', password: 'p' },
      headers: { 'X-Scope-OrgID': 'tenant-1' },
      tls: { ca: CERT.trimEnd(), cert: CERT.trimEnd(), key: KEY.trimEnd() },
    });
  });

  it.each([
    [{ username: 'u' }, /username and password go together/],
    [{ 'tls.crt': CERT }, /tls.crt and tls.key go together/],
    [{ 'ca.crt': 'not a cert' }, /ca.crt is not a PEM certificate/],
    [{ 'headers.Bad Name': 'x' }, /is not an HTTP header name/],
    [{ 'headers.X-Evil': 'a\r\nInjected: yes' }, /line break or control character/],
    [{ 'headers.Host': 'x' }, /Drop sets Host itself/],
    [{}, /has no data; Drop reads token, username and password/],
    [{ user: 'u', pass: 'p' }, /has none of the keys Drop reads \(it has pass, user\); Drop reads token/],
    [{ '.dockerconfigjson': '{}' }, /has none of the keys Drop reads \(it has .dockerconfigjson\)/],
  ])('names the key that is wrong: %j', (data, message) => {
    expect(problem(data)).toMatch(message);
  });

  it('never quotes a value in a problem', () => {
    const secret = 'hunter2-very-secret';
    const cases: Record<string, string>[] = [
      { username: secret },
      { 'ca.crt': secret },
      { 'headers.X-A': `${secret}\n\n` },
      { 'tls.crt': CERT, 'tls.key': secret },
    ];
    for (const data of cases) {
      expect(problem(data)).toBeDefined();
      expect(problem(data)).not.toContain(secret);
    }
  });
});

describe('auth headers', () => {
  it('sends a token as Bearer, ahead of username/password', () => {
    expect(authorizationOf(read({ token: 'abc', username: 'u', password: 'p' }))).toBe('Bearer abc');
  });

  it('sends username/password as Basic', () => {
    expect(authorizationOf(read({ username: 'aladdin', password: 'open sesame' }))).toBe(
      'Basic YWxhZGRpbjpvcGVuIHNlc2FtZQ==',
    );
    expect(basicAuthorization({ username: 'ü', password: ':' })).toBe(`Basic ${b64('ü::')}`);
  });

  it('sends nothing when anonymous, and extra headers always', () => {
    expect(requestHeaders(read({ 'headers.X-Scope-OrgID': 'a' }))).toEqual({ 'X-Scope-OrgID': 'a' });
  });

  it('lets headers.Authorization through only without token or username', () => {
    expect(requestHeaders(read({ 'headers.Authorization': 'Custom x' }))).toEqual({
      Authorization: 'Custom x',
    });
    expect(requestHeaders(read({ 'headers.Authorization': 'Custom x', token: 't' }))).toEqual({
      authorization: 'Bearer t',
    });
  });
});

describe('parseChallenges', () => {
  it('reads the registry token challenge', () => {
    const header =
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"';
    expect(bearerChallenge(header)).toEqual({
      realm: 'https://auth.docker.io/token',
      service: 'registry.docker.io',
      scope: 'repository:library/alpine:pull',
    });
  });

  it('reads several challenges, quoted commas and escapes, unquoted values', () => {
    expect(
      parseChallenges('Basic realm="a, b", Bearer realm="https://x/t",service=reg, error="say \\"hi\\""'),
    ).toEqual([
      { scheme: 'basic', params: { realm: 'a, b' } },
      { scheme: 'bearer', params: { realm: 'https://x/t', service: 'reg', error: 'say "hi"' } },
    ]);
  });

  it('finds no Bearer challenge in a Basic one or nothing', () => {
    expect(bearerChallenge('Basic realm="Registry Realm"')).toBeUndefined();
    expect(bearerChallenge(undefined)).toBeUndefined();
    expect(bearerChallenge('Bearer service="x"')).toBeUndefined();
  });
});

describe('nextLink', () => {
  const request = 'https://registry.example.com/v2/team/app/tags/list?n=2';

  it('resolves a relative next link against the request', () => {
    expect(nextLink('</v2/team/app/tags/list?last=b&n=2>; rel="next"', request)?.href).toBe(
      'https://registry.example.com/v2/team/app/tags/list?last=b&n=2',
    );
  });

  it('picks next among several links and relation types', () => {
    expect(
      nextLink('<https://r.example/prev>; rel="prev", <https://r.example/next?x=1>; rel="last next"', request)
        ?.href,
    ).toBe('https://r.example/next?x=1');
    expect(nextLink('</v2/x?last=a>; rel=next', request)?.pathname).toBe('/v2/x');
  });

  it('has no next without a header or a next relation', () => {
    expect(nextLink(undefined, request)).toBeUndefined();
    expect(nextLink('</v2/x>; rel="prev"', request)).toBeUndefined();
  });
});
