import { describe, expect, it } from 'vitest';
import { pullSecretProblem } from './pull-secret.ts';

const secret = (type: string | undefined, data: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'regcred' },
  ...(type ? { type } : {}),
  data,
});

describe('pullSecretProblem: what the kubelet would skip', () => {
  it.each([
    ['kubernetes.io/dockerconfigjson', { '.dockerconfigjson': 'e30=' }],
    ['kubernetes.io/dockercfg', { '.dockercfg': 'e30=' }],
  ])('reads a %s Secret with its key', (type, data) => {
    expect(pullSecretProblem(secret(type, data))).toBeUndefined();
  });

  it.each([
    [
      'Opaque',
      { '.dockerconfigjson': 'e30=' },
      /Secret regcred is of type Opaque: the kubelet reads only kubernetes.io\/dockerconfigjson/,
    ],
    [undefined, { username: 'dQ==' }, /Secret regcred is of type Opaque/],
    [
      'kubernetes.io/basic-auth',
      { username: 'dQ==', password: 'cA==' },
      /is of type kubernetes.io\/basic-auth/,
    ],
    [
      'kubernetes.io/dockercfg',
      { '.dockerconfigjson': 'e30=' },
      /Secret regcred \(kubernetes.io\/dockercfg\) has no .dockercfg/,
    ],
  ])('names a %s Secret the kubelet would ignore', (type, data, message) => {
    expect(pullSecretProblem(secret(type, data))).toMatch(message);
  });
});
