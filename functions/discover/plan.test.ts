import { describe, expect, it } from 'vitest';
import {
  type DiscoveryPolicy,
  type DiscoveryPolicyStatus,
  discoveryPolicySpecSchema,
  discoveryPolicyStatusSchema,
} from '../../lib/api/index.ts';
import { type Candidate, failure, type SourceOutcome } from '../../lib/discovery/index.ts';
import { type SourceRun, syncDue } from './plan.ts';
import { invalidSpecStatus, syncedStatus } from './status.ts';

const NOW = new Date('2026-01-10T12:00:00.000Z');
const LATER = (ms: number) => new Date(NOW.getTime() + ms);

const spec = discoveryPolicySpecSchema.parse({
  syncInterval: '1h',
  maxImages: 3,
  sources: [
    { type: 'prometheus', prometheus: { endpoint: 'http://p:9090', query: 'count(x) by (image)' } },
    { type: 'registry', registry: { url: 'http://r:5000', repositories: ['team/app'] } },
  ],
});

function image(reference: string, score: number, source = 'prometheus'): Candidate {
  const [name = '', tag = ''] = reference.split(/:(?=[^:/]+$)/);
  return { reference, image: name, tag, score, source };
}

const ok = (candidates: Candidate[], summary = 'fine'): SourceOutcome => ({ ok: true, candidates, summary });
const runs = (...outcomes: SourceOutcome[]): SourceRun[] =>
  outcomes.map((outcome, i) => ({ type: i === 0 ? 'prometheus' : 'registry', outcome }));

function policy(status?: DiscoveryPolicyStatus, generation = 1): DiscoveryPolicy {
  return {
    apiVersion: 'drop.corewire.io/v1alpha1',
    kind: 'DiscoveryPolicy',
    metadata: { name: 'p', generation },
    spec,
    ...(status ? { status: discoveryPolicyStatusSchema.parse(status) } : {}),
  } as DiscoveryPolicy;
}

const goodSync = () =>
  syncedStatus({
    generation: 1,
    spec,
    previous: undefined,
    runs: runs(
      ok([image('docker.io/library/golang:1.22', 40), image('docker.io/library/alpine:3.19', 2)]),
      ok([image('r:5000/team/app:v2', 1, 'registry'), image('r:5000/team/app:v1', 0.5, 'registry')]),
    ),
    now: NOW,
  });

describe('a successful sync', () => {
  it('ranks every source’s images by score and keeps maxImages', () => {
    const status = goodSync();
    expect(status.images?.map((i) => [i.reference, i.score, i.source])).toEqual([
      ['docker.io/library/golang:1.22', 40, 'prometheus'],
      ['docker.io/library/alpine:3.19', 2, 'prometheus'],
      ['r:5000/team/app:v2', 1, 'registry'],
    ]);
    expect(status).toMatchObject({
      phase: 'Synced',
      imageCount: 3,
      sourceCount: 2,
      lastSyncTime: NOW.toISOString(),
      lastSuccessfulSyncTime: NOW.toISOString(),
      nextSyncTime: LATER(3_600_000).toISOString(),
      observedGeneration: 1,
      conditions: [{ type: 'Ready', status: 'True', reason: 'Synced' }],
    });
    expect(status.message).toMatch(/^3 images from 2 sources, left out 1 beyond maxImages 3; source 0/);
  });

  it('writes a status the CRD schema accepts, in the shape reconcile-set reads', () => {
    const parsed = discoveryPolicyStatusSchema.parse(goodSync());
    expect(parsed.images?.[0]).toEqual({
      reference: 'docker.io/library/golang:1.22',
      image: 'docker.io/library/golang',
      tag: '1.22',
      score: 40,
      source: 'prometheus',
    });
  });

  it('reports each source', () => {
    expect(goodSync().sources).toEqual([
      {
        index: 0,
        type: 'prometheus',
        phase: 'Synced',
        reason: 'Synced',
        message: 'fine',
        images: 2,
        lastSyncTime: NOW.toISOString(),
      },
      {
        index: 1,
        type: 'registry',
        phase: 'Synced',
        reason: 'Synced',
        message: 'fine',
        images: 2,
        lastSyncTime: NOW.toISOString(),
      },
    ]);
  });
});

describe('a failed sync', () => {
  const broken = failure('ConnectionRefused', 'cannot connect to http://p:9090/api/v1/query: ECONNREFUSED');

  it('keeps the last good image list and says so', () => {
    const previous = goodSync();
    const status = syncedStatus({
      generation: 1,
      spec,
      previous: discoveryPolicyStatusSchema.parse(previous),
      runs: runs({ ok: false, failure: broken }, ok([])),
      now: LATER(3_600_000),
    });
    expect(status.images).toEqual(previous.images);
    expect(status).toMatchObject({
      phase: 'ConnectionRefused',
      imageCount: 3,
      lastSyncTime: LATER(3_600_000).toISOString(),
      lastSuccessfulSyncTime: NOW.toISOString(),
      conditions: [{ type: 'Ready', status: 'False', reason: 'ConnectionRefused' }],
    });
    expect(status.message).toBe(
      `source 0 (prometheus): ${broken.message}; keeping the 3 images of the last good sync at ${NOW.toISOString()}`,
    );
    expect(status.sources?.[0]).toMatchObject({
      phase: 'ConnectionRefused',
      lastSyncTime: NOW.toISOString(),
    });
    expect(status.sources?.[0]).not.toHaveProperty('images');
  });

  it('has no images when no sync ever succeeded', () => {
    const status = syncedStatus({
      generation: 1,
      spec,
      previous: undefined,
      runs: runs({ ok: false, failure: broken }, { ok: false, failure: failure('Unauthorized', 'no') }),
      now: NOW,
    });
    expect(status).toMatchObject({ phase: 'ConnectionRefused', imageCount: 0, images: [] });
    expect(status.message).toMatch(/\(and 1 more failing sources\); no good sync yet, so no images$/);
    expect(status).not.toHaveProperty('lastSuccessfulSyncTime');
  });

  it('tries again within 5 minutes, but never before the server’s Retry-After', () => {
    const retry = (outcome: SourceOutcome) =>
      syncedStatus({ generation: 1, spec, previous: undefined, runs: runs(outcome, ok([])), now: NOW })
        .nextSyncTime;
    expect(retry({ ok: false, failure: broken })).toBe(LATER(5 * 60_000).toISOString());
    expect(retry({ ok: false, failure: failure('RateLimited', '429', 20 * 60_000) })).toBe(
      LATER(20 * 60_000).toISOString(),
    );
  });
});

describe('syncDue', () => {
  it('syncs a policy that never synced', () => {
    expect(syncDue(policy(), NOW)).toEqual({ due: true, why: 'never synced' });
  });

  it('does not sync again on its own status update', () => {
    expect(syncDue(policy(goodSync()), LATER(1000))).toMatchObject({ due: false });
  });

  it('syncs when syncInterval has passed', () => {
    expect(syncDue(policy(goodSync()), LATER(3_600_000))).toMatchObject({ due: true });
    expect(syncDue(policy(goodSync()), LATER(3_599_999))).toMatchObject({ due: false });
  });

  it('retries a Secret that cannot be used like any failure', () => {
    const status = syncedStatus({
      generation: 1,
      spec,
      previous: undefined,
      runs: runs(
        { ok: false, failure: failure('InvalidSpec', 'Secret x: username and password go together') },
        ok([]),
      ),
      now: NOW,
    });
    expect(syncDue(policy(status), LATER(5 * 60_000))).toMatchObject({ due: true });
  });

  it('falls back to lastSyncTime + syncInterval when nextSyncTime was pruned by an older CRD', () => {
    const { nextSyncTime: _pruned, ...status } = goodSync();
    expect(syncDue(policy(status), LATER(3_599_999))).toMatchObject({ due: false });
    expect(syncDue(policy(status), LATER(3_600_000))).toMatchObject({ due: true });
  });

  it('syncs at once when the spec changed', () => {
    expect(syncDue(policy(goodSync(), 2), LATER(1000))).toMatchObject({
      due: true,
      why: expect.stringMatching(/spec changed/),
    });
  });

  it('waits for a spec change after an invalid spec', () => {
    const status = invalidSpecStatus(
      { generation: 1, previous: undefined, now: NOW, sourceCount: 2 },
      'spec.imageFilter: is not a valid regular expression',
    );
    expect(status).toMatchObject({
      phase: 'InvalidSpec',
      imageCount: 0,
      sourceCount: 2,
      conditions: [{ reason: 'InvalidSpec' }],
    });
    expect(syncDue(policy(status), LATER(86_400_000))).toMatchObject({ due: false });
    expect(syncDue(policy(status, 2), NOW)).toMatchObject({ due: true });
  });
});
