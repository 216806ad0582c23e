import { describe, expect, it } from 'vitest';
import { bearerChallenge, issuedToken, tokenUrl } from './challenge.ts';

describe('the Bearer token request', () => {
  const hub = bearerChallenge(
    'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"',
  );

  it('asks the realm for the service and the scope the challenge named', () => {
    expect(tokenUrl(hub!, 'repository:other:pull')?.href).toBe(
      'https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Alibrary%2Falpine%3Apull',
    );
  });

  it('asks for the caller’s scope when the challenge named none, and keeps the realm’s own query', () => {
    expect(tokenUrl({ realm: 'https://ghcr.io/token?x=1' }, 'repository:team/app:pull')?.href).toBe(
      'https://ghcr.io/token?x=1&scope=repository%3Ateam%2Fapp%3Apull',
    );
  });

  it('has no URL for a realm that is not one', () => {
    expect(tokenUrl({ realm: 'not a url' }, 'registry:catalog:*')).toBeUndefined();
  });

  it('reads `token`, else OAuth2’s `access_token`, and nothing from other answers', () => {
    expect(issuedToken('{"token":"t1","access_token":"a1"}')).toBe('t1');
    expect(issuedToken('{"access_token":"a1"}')).toBe('a1');
    expect(issuedToken('{"token":"","access_token":"a1"}')).toBe('a1');
    for (const body of ['{"token":""}', '{"token":7}', '[]', 'null', '<html>', ''])
      expect(issuedToken(body), body).toBeUndefined();
  });
});
