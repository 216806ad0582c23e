// DiscoveryPolicy with registry sources, against the real distribution registry (Debian's 2.8):
// one storage directory served by three registries — anonymous, htpasswd over TLS, and token
// auth with a Bearer challenge answered by a token service.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiscoveryPolicy } from '../../lib/api/index.ts';
import { ANONYMOUS, RegistryClient } from '../../lib/discovery/index.ts';
import { createKube, type Kube, loadKubeConfig } from '../../lib/kube/index.ts';
import {
  cleanUp,
  createPolicy,
  createSecret,
  discoverApp,
  policyChanged,
  readPolicy,
} from '../discovery/cluster.ts';
import { NEWEST_V_TAGS, REPOSITORIES } from '../discovery/data.ts';
import { createPki, type Pki } from '../discovery/pki.ts';
import { ensureDiscoveryServers } from '../discovery/process.ts';
import { pushImage, rawTags, startRegistry, type TestRegistry } from '../discovery/registry.ts';
import { startTokenServer, type TokenServer } from '../discovery/token-server.ts';
import { kubeconfigPath, uniqueName } from './harness.ts';

const USER = 'drop';
const PASSWORD = 'registry-secret-pw-51be';
const V_TAGS = '^v[0-9]+\\.';

describe('discovery from a real registry', () => {
  let dir: string;
  let pki: Pki;
  let anonymous: TestRegistry;
  let basic: TestRegistry;
  let token: TestRegistry;
  let tokens: TokenServer;
  let kube: Kube;
  const created = { policies: [] as string[], secrets: [] as string[] };

  beforeAll(async () => {
    ensureDiscoveryServers();
    dir = mkdtempSync(join(tmpdir(), 'drop-discover-registry-'));
    pki = createPki(dir);
    const storageDir = join(dir, 'storage');
    mkdirSync(storageDir);
    tokens = await startTokenServer({ pki, users: { [USER]: PASSWORD } });
    [anonymous, basic, token] = await Promise.all([
      startRegistry({ dir, name: 'anonymous', storageDir, auth: { kind: 'none' } }),
      startRegistry({
        dir,
        name: 'basic',
        storageDir,
        auth: { kind: 'htpasswd', users: { [USER]: PASSWORD } },
        tls: pki,
      }),
      startRegistry({
        dir,
        name: 'token',
        storageDir,
        auth: {
          kind: 'token',
          realm: tokens.realm,
          service: tokens.service,
          issuer: tokens.issuer,
          rootCertFile: pki.tokenCertFile,
        },
      }),
    ]);
    for (const [repository, tags] of Object.entries(REPOSITORIES))
      await pushImage(anonymous.url, repository, tags);
    kube = createKube(loadKubeConfig(kubeconfigPath()), 'drop-test');
  });

  afterAll(async () => {
    await Promise.all([anonymous, basic, token].map((r) => r?.server.stop()));
    await tokens?.stop();
    if (kube) await cleanUp(kube, created);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function secret(data: Record<string, string>): Promise<string> {
    const name = uniqueName('registry-creds');
    await createSecret(kube, name, data);
    created.secrets.push(name);
    return name;
  }

  function source(registry: TestRegistry, spec: Record<string, unknown>, secretName?: string) {
    return {
      type: 'registry',
      registry: { url: registry.url, repositories: Object.keys(REPOSITORIES), ...spec },
      ...(secretName ? { secretRef: { name: secretName } } : {}),
    };
  }

  async function syncNew(spec: Record<string, unknown>): Promise<DiscoveryPolicy & { detail?: string }> {
    const name = uniqueName('registry');
    await createPolicy(kube, name, spec);
    created.policies.push(name);
    const answer = await policyChanged(discoverApp(kube), name, 'add');
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return { ...(await readPolicy(kube, name)), detail: answer.synced };
  }

  const references = (policy: DiscoveryPolicy) => policy.status?.discoveredImages?.map((i) => i.image);

  /** Newest first within each repository, interleaved: every repository's newest, then the next … */
  function interleaved(host: string, perRepository: Readonly<Record<string, readonly string[]>>): string[] {
    const rows = Object.entries(perRepository).map(([repository, tags]) =>
      tags.map((t) => `${host}/${repository}:${t}`),
    );
    const depth = Math.max(...rows.map((r) => r.length));
    return Array.from({ length: depth }, (_, i) => rows.flatMap((r) => (r[i] ? [r[i]] : [])).sort()).flat();
  }

  it('keeps the newest topX version tags per repository, v1.10 after v1.9, with Basic auth over TLS', async () => {
    const name = await secret({ username: USER, password: PASSWORD, 'ca.crt': pki.caPem });
    const policy = await syncNew({
      maxImages: 10,
      sources: [source(basic, { tagFilter: V_TAGS, topX: 3 }, name)],
    });
    expect(policy.status?.phase, policy.status?.message).toBe('Synced');
    const newest = Object.fromEntries(
      Object.entries(NEWEST_V_TAGS).map(([r, tags]) => [r, tags.slice(0, 3)]),
    );
    expect(references(policy)).toEqual(interleaved(basic.host, newest));
    expect(policy.status?.discoveredImages?.[0]).toMatchObject({
      repository: `${basic.host}/team/backend`,
      tag: 'v0.10.1',
      finalScore: '1',
      queries: ['source-0'],
    });
    expect(policy.status?.message).toContain(
      `6 of ${Object.values(REPOSITORIES).flat().length} tags in 3 repositories`,
    );
  });

  it('orders tags that are not versions as the registry lists them, before every version', async () => {
    const policy = await syncNew({
      sources: [
        { type: 'registry', registry: { url: anonymous.url, repositories: ['team/worker'], topX: 5 } },
      ],
    });
    const listed = await rawTags(anonymous.url, 'team/worker');
    const others = listed.filter((t) => t === 'latest' || t === 'main').reverse();
    // One repository: the scores 1, 1/2, 1/3 … put the list in newest-first order.
    expect(policy.status?.discoveredImages?.map((i) => i.tag)).toEqual([
      '1.10',
      '1.9-alpine',
      '1.2',
      ...others,
    ]);
    expect(policy.status?.discoveredImages?.map((i) => Number(i.finalScore))).toEqual([
      1,
      1 / 2,
      1 / 3,
      1 / 4,
      1 / 5,
    ]);
  });

  it('answers the Bearer challenge with a token from the realm, and reuses it within the sync', async () => {
    const name = await secret({ username: USER, password: PASSWORD });
    const before = tokens.requests();
    const policy = await syncNew({ sources: [source(token, { tagFilter: V_TAGS, topX: 1 }, name)] });
    expect(policy.status?.phase, policy.status?.message).toBe('Synced');
    expect(references(policy)).toEqual(
      interleaved(token.host, { 'team/backend': ['v0.10.1'], 'team/frontend': ['v2.0'] }),
    );
    // One token per repository scope; only the first repository's request is challenged.
    expect(tokens.requests() - before).toBe(3);
    expect(policy.detail).toContain('7 query requests');
  });

  it('sends a static token as Bearer', async () => {
    const scopes = Object.keys(REPOSITORIES).map((r) => `repository:${r}:pull`);
    const name = await secret({ token: tokens.issue(USER, scopes) });
    const before = tokens.requests();
    const policy = await syncNew({ sources: [source(token, { tagFilter: V_TAGS, topX: 1 }, name)] });
    expect(policy.status?.phase, policy.status?.message).toBe('Synced');
    expect(policy.status?.imageCount).toBe(2);
    expect(tokens.requests()).toBe(before);
  });

  it('merges several sources by score, the same image adding up', async () => {
    const policy = await syncNew({
      sources: [
        source(anonymous, { tagFilter: V_TAGS, topX: 2 }),
        {
          type: 'registry',
          registry: { url: anonymous.url, repositories: ['team/frontend'], tagFilter: '^v2', topX: 1 },
        },
      ],
    });
    expect(policy.status?.discoveredImages?.slice(0, 2)).toMatchObject([
      {
        image: `${anonymous.host}/team/frontend:v2.0`,
        repository: `${anonymous.host}/team/frontend`,
        tag: 'v2.0',
        finalScore: '2',
        queries: ['source-0', 'source-1'],
      },
      {
        image: `${anonymous.host}/team/backend:v0.10.1`,
        repository: `${anonymous.host}/team/backend`,
        tag: 'v0.10.1',
        finalScore: '1',
        queries: ['source-0'],
      },
    ]);
  });

  it('says Unauthorized for a wrong password, with Basic and with the token service', async () => {
    const name = await secret({ username: USER, password: 'wrong-pw-9d', 'ca.crt': pki.caPem });
    const viaBasic = await syncNew({ sources: [source(basic, {}, name)] });
    expect(viaBasic.status?.phase).toBe('Unauthorized');
    expect(viaBasic.status?.message).toContain('check token or username/password in the Secret');
    const viaToken = await syncNew({ sources: [source(token, {}, name)] });
    expect(viaToken.status?.phase).toBe('Unauthorized');
    expect(viaToken.status?.message).toContain('rejected the username/password');
    for (const policy of [viaBasic, viaToken]) expect(JSON.stringify(policy)).not.toContain('wrong-pw-9d');
  });

  it('says Unauthorized without credentials where the registry needs them', async () => {
    const policy = await syncNew({ sources: [source(token, {})] });
    expect(policy.status?.phase).toBe('Unauthorized');
    expect(policy.status?.message).toContain('requires credentials');
  });

  it('says TLSError when the registry’s CA is not trusted', async () => {
    const name = await secret({ username: USER, password: PASSWORD, 'ca.crt': pki.otherCaPem });
    const policy = await syncNew({ sources: [source(basic, {}, name)] });
    expect(policy.status?.phase).toBe('TLSError');
  });

  it('says NotFound for a repository the registry does not have', async () => {
    const policy = await syncNew({
      sources: [
        {
          type: 'registry',
          registry: { url: anonymous.url, repositories: ['team/frontend', 'team/missing'] },
        },
      ],
    });
    expect(policy.status?.phase).toBe('NotFound');
    expect(policy.status?.message).toContain('repository team/missing was not found');
  });

  it('says InvalidSpec for a tagFilter JavaScript cannot compile', async () => {
    const policy = await syncNew({ sources: [source(anonymous, { tagFilter: '^v[' })] });
    expect(policy.status?.phase).toBe('InvalidSpec');
    expect(policy.status?.message).toContain(
      'spec.sources[0].registry.tagFilter: is not a valid regular expression',
    );
  });

  it('follows the registry’s Link pagination to the last page', async () => {
    // Registry 2.8 ignores n on tags/list (it answers every tag at once); its catalog paginates,
    // so the same pager is checked against the real Link headers there.
    let requests = 0;
    const io = {
      now: new Date(),
      timeoutMs: 5_000,
      maxBytes: 1 << 20,
      sleep: async () => {},
      countRequest: () => void requests++,
    };
    const listed = await new RegistryClient(anonymous.url, ANONYMOUS, io, 1).repositories();
    expect(listed).toEqual({ ok: true, items: Object.keys(REPOSITORIES).sort() });
    expect(requests).toBe(Object.keys(REPOSITORIES).length);
    const tags = await new RegistryClient(anonymous.url, ANONYMOUS, io, 2).tags('team/frontend');
    expect(tags.ok && [...tags.items].sort()).toEqual([...(REPOSITORIES['team/frontend'] ?? [])].sort());
  });

  // Last: it stops the anonymous registry.
  it('says ConnectionRefused once the registry is stopped, and keeps the last good images', async () => {
    const name = uniqueName('registry');
    await createPolicy(kube, name, { syncInterval: '1m', sources: [source(anonymous, { topX: 1 })] });
    created.policies.push(name);
    await policyChanged(discoverApp(kube), name, 'add');
    const good = await readPolicy(kube, name);
    expect(good.status?.imageCount).toBe(3);
    await anonymous.server.stop();
    const later = new Date(Date.parse(good.status?.nextSyncTime ?? '') + 1000);
    await policyChanged(discoverApp(kube, { now: () => later }), name);
    const after = await readPolicy(kube, name);
    expect(after.status).toMatchObject({ phase: 'ConnectionRefused', imageCount: 3 });
    expect(after.status?.discoveredImages).toEqual(good.status?.discoveredImages);
  });
});
