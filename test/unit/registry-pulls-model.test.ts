// The simulated kubelet's registry answers, as plain data (test/controlplane/registry-pulls-model.ts).
import { describe, expect, it } from 'vitest';
import {
  dockerCredentials,
  manifestSize,
  needsResolving,
  registryImage,
  resolution,
  serverMessage,
} from '../controlplane/registry-pulls-model.ts';

describe('pulls from a local test registry, as plain data', () => {
  it('only a loopback host with a port is a test registry; tag, digest and the default tag are read', () => {
    expect(registryImage('127.0.0.1:5000/team/app:1.0')).toEqual({
      host: '127.0.0.1:5000',
      repository: 'team/app',
      reference: '1.0',
    });
    expect(registryImage(`localhost:5000/app@sha256:${'a'.repeat(64)}`)).toEqual({
      host: 'localhost:5000',
      repository: 'app',
      reference: `sha256:${'a'.repeat(64)}`,
    });
    expect(registryImage('[::1]:5000/app')?.reference).toBe('latest');
    expect(registryImage('registry.example/app:1')).toBeUndefined();
    expect(registryImage('localhost/app:1')).toBeUndefined();
    expect(registryImage('docker.io/library/nginx:1')).toBeUndefined();
  });

  it('a pod is resolved once, while it is bound and pulling', () => {
    const pod = (annotations: Record<string, string> = {}, phase?: string) => ({
      metadata: { name: 'p', annotations },
      spec: { nodeName: 'n', containers: [{ name: 'pull', image: '127.0.0.1:1/a:1' }] },
      ...(phase ? { status: { phase } } : {}),
    });
    expect(needsResolving(pod())).toBe(true);
    expect(needsResolving(pod({ 'drop.test/registry-resolved': 'true' }))).toBe(false);
    expect(needsResolving(pod({}, 'Failed'))).toBe(false);
  });

  it('a found manifest gives digest and size; refusals give the kubelet’s ErrImagePull words', () => {
    const image = '127.0.0.1:5000/app';
    expect(resolution(image, { kind: 'found', digest: 'sha256:1', size: 42 })).toEqual({
      'drop.test/registry-resolved': 'true',
      'drop.test/image-digest': 'sha256:1',
      'drop.test/manifest-size': '42',
    });
    const message = (answer: Parameters<typeof resolution>[1]) =>
      resolution(image, answer)['drop.test/registry-message'];
    expect(message({ kind: 'not-found' })).toBe(
      'rpc error: code = NotFound desc = failed to pull and unpack image "127.0.0.1:5000/app:latest": failed to resolve reference "127.0.0.1:5000/app:latest": 127.0.0.1:5000/app:latest: not found',
    );
    expect(
      message({
        kind: 'status',
        method: 'GET',
        url: 'http://h/v2/app/manifests/latest',
        status: 429,
        statusText: 'Too Many Requests',
        serverMessage: 'toomanyrequests: slow down',
        anonymous: true,
      }),
    ).toMatch(
      /unexpected status from GET request to http:\/\/h\/v2\/app\/manifests\/latest: 429 Too Many Requests - Server message: toomanyrequests: slow down$/,
    );
    expect(
      message({
        kind: 'status',
        method: 'HEAD',
        url: 'u',
        status: 401,
        statusText: 'Unauthorized',
        anonymous: true,
      }),
    ).toMatch(/no basic auth credentials$/);
    expect(
      message({
        kind: 'status',
        method: 'HEAD',
        url: 'u',
        status: 401,
        statusText: 'Unauthorized',
        anonymous: false,
      }),
    ).toMatch(/HEAD request to u: 401 Unauthorized$/);
    expect(resolution(image, { kind: 'not-found' })['drop.test/registry-outcome']).toBe('errimagepull');
  });

  it('reads the registry’s error body, sums a manifest, and finds a host’s credentials', () => {
    expect(serverMessage('{"errors":[{"code":"TOOMANYREQUESTS","message":"limit"}]}')).toBe(
      'toomanyrequests: limit',
    );
    expect(serverMessage('not json')).toBeUndefined();
    expect(manifestSize({ config: { size: 10 }, layers: [{ size: 5 }, { size: 7 }] })).toBe(22);
    expect(manifestSize({})).toBe(0);
    const config = JSON.stringify({
      auths: {
        'https://127.0.0.1:5000': { auth: Buffer.from('u:p:w').toString('base64') },
        '127.0.0.1:6000': { username: 'a', password: 'b' },
      },
    });
    expect(dockerCredentials(config, '127.0.0.1:5000')).toEqual({ username: 'u', password: 'p:w' });
    expect(dockerCredentials(config, '127.0.0.1:6000')).toEqual({ username: 'a', password: 'b' });
    expect(dockerCredentials(config, '127.0.0.1:7000')).toBeUndefined();
    expect(dockerCredentials('{', '127.0.0.1:7000')).toBeUndefined();
  });
});
