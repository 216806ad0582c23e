import { describe, expect, it } from 'vitest';
import { registryBase } from './client.ts';
import { isRateLimit, parseManifest } from './manifest.ts';
import { configHost, credentialsForHost } from './pull-secrets.ts';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const dockerConfig = (auths: object) => ({ '.dockerconfigjson': b64(JSON.stringify({ auths })) });

describe('pull secrets', () => {
  it('match the host however the config file writes it; Docker Hub under any of its names', () => {
    expect(configHost('https://index.docker.io/v1/')).toBe('docker.io');
    expect(configHost('registry-1.docker.io')).toBe('docker.io');
    expect(configHost('http://Registry.Example:5000/some/path')).toBe('registry.example:5000');
    const secrets = [
      dockerConfig({ 'https://index.docker.io/v1/': { auth: b64('hub:pw:with:colons') } }),
      dockerConfig({ 'registry.example:5000': { username: 'u', password: 'p' } }),
      { '.dockercfg': b64(JSON.stringify({ 'legacy.example': { auth: b64('l:q') } })) },
    ];
    expect(credentialsForHost(secrets, 'docker.io')).toEqual({ username: 'hub', password: 'pw:with:colons' });
    expect(credentialsForHost(secrets, 'registry.example:5000')).toEqual({ username: 'u', password: 'p' });
    expect(credentialsForHost(secrets, 'legacy.example')).toEqual({ username: 'l', password: 'q' });
    expect(credentialsForHost(secrets, 'other.example')).toBeUndefined();
  });

  it('the first secret that has the host wins; broken data is passed over', () => {
    const secrets = [
      { '.dockerconfigjson': b64('{not json') },
      undefined,
      dockerConfig({ 'r.example': { auth: b64('no-colon') } }),
      dockerConfig({ 'r.example': { username: 'second', password: 'x' } }),
    ];
    expect(credentialsForHost(secrets, 'r.example')).toEqual({ username: 'second', password: 'x' });
  });
});

describe('manifests', () => {
  it('an image’s size is its config and layers; an index points at linux/amd64, else its first entry', () => {
    const image = {
      config: { digest: 'c', size: 100 },
      layers: [
        { digest: 'a', size: 1000 },
        { digest: 'b', size: 24 },
      ],
    };
    expect(parseManifest(JSON.stringify(image))).toEqual({ kind: 'image', size: 1124 });
    const index = {
      manifests: [
        { digest: 'arm', size: 1, platform: { os: 'linux', architecture: 'arm64' } },
        { digest: 'amd', size: 1, platform: { os: 'linux', architecture: 'amd64' } },
      ],
    };
    expect(parseManifest(JSON.stringify(index))).toEqual({ kind: 'index', entry: 'amd' });
    expect(parseManifest(JSON.stringify({ manifests: [index.manifests[0]] }))).toEqual({
      kind: 'index',
      entry: 'arm',
    });
    expect(parseManifest('{}').kind).toBe('invalid');
    expect(parseManifest('nope').kind).toBe('invalid');
  });

  it('a rate limit is a 429 or Docker Hub’s toomanyrequests; Docker Hub’s API host is registry-1', () => {
    expect(isRateLimit(429, '')).toBe(true);
    expect(isRateLimit(403, '{"errors":[{"code":"TOOMANYREQUESTS"}]}')).toBe(true);
    expect(isRateLimit(404, '')).toBe(false);
    expect(registryBase('docker.io')).toBe('https://registry-1.docker.io');
    expect(registryBase('127.0.0.1:5000', 'http')).toBe('http://127.0.0.1:5000');
  });
});
