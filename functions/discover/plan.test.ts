import { describe, expect, it } from 'vitest';
import {
  type DiscoveryPolicy,
  type DiscoveryPolicySpec,
  type DiscoveryPolicyStatus,
  discoveryPolicySpecSchema,
  discoveryPolicyStatusSchema,
} from '../../lib/api/index.ts';
import { failure, ObservationsBuilder, pipelineOf, type QueryOutcome } from '../../lib/discovery/index.ts';
import { parseImageReference } from '../../lib/image-ref.ts';
import { type QueryRun, syncDue } from './plan.ts';
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

/** A query's observations: one sample per reference, worth its score. */
function ok(scores: Record<string, number>, summary = 'fine'): QueryOutcome {
  const builder = new ObservationsBuilder();
  for (const [reference, value] of Object.entries(scores)) {
    const parsed = parseImageReference(reference);
    if (!parsed.ok) throw new Error(parsed.message);
    builder.samples(parsed.ref, [{ at: NOW.getTime() / 1000, value }]);
  }
  return { ok: true, data: builder.build(), summary };
}

const runs = (...outcomes: QueryOutcome[]): QueryRun[] =>
  outcomes.map((outcome, i) => ({
    name: `source-${i}`,
    label: `source ${i}`,
    type: i === 0 ? 'prometheus' : 'registry',
    outcome,
  }));

function policy(status?: DiscoveryPolicyStatus, generation = 1): DiscoveryPolicy {
  return {
    apiVersion: 'drop.corewire.io/v1alpha1',
    kind: 'DiscoveryPolicy',
    metadata: { name: 'p', generation },
    spec,
    ...(status ? { status: discoveryPolicyStatusSchema.parse(status) } : {}),
  } as DiscoveryPolicy;
}

const sync = (
  outcomes: QueryRun[],
  previous: DiscoveryPolicyStatus | undefined = undefined,
  now = NOW,
  policySpec: DiscoveryPolicySpec = spec,
) =>
  syncedStatus({
    generation: 1,
    spec: policySpec,
    pipeline: pipelineOf(policySpec),
    runs: outcomes,
    nodes: 1,
    previous,
    now,
  });

const goodSync = () =>
  sync(
    runs(
      ok({ 'docker.io/library/golang:1.22': 40, 'docker.io/library/alpine:3.19': 2 }),
      ok({ 'r:5000/team/app:v2': 1, 'r:5000/team/app:v1': 0.5 }),
    ),
  );

describe('a successful sync', () => {
  it('ranks every source’s images by score and keeps maxImages', () => {
    const status = goodSync();
    expect(status.discoveredImages?.map((i) => [i.image, i.rank, i.finalScore, i.queries])).toEqual([
      ['docker.io/library/golang:1.22', 1, '40', ['source-0']],
      ['docker.io/library/alpine:3.19', 2, '2', ['source-0']],
      ['r:5000/team/app:v2', 3, '1', ['source-1']],
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
      ranking: {
        strategy: 'sources',
        summary: 'sum of every source’s samples; top docker.io/library/golang:1.22 = 40',
      },
    });
    expect(status.message).toMatch(/^3 images from 2 sources, left out 1 beyond maxImages 3; source 0/);
  });

  it('writes a status the CRD schema accepts, in the shape reconcile-set reads, explaining each score', () => {
    const parsed = discoveryPolicyStatusSchema.parse(goodSync());
    expect(parsed.discoveredImages?.[0]).toEqual({
      image: 'docker.io/library/golang:1.22',
      rank: 1,
      finalScore: '40',
      repository: 'docker.io/library/golang',
      tag: '1.22',
      queries: ['source-0'],
      contributions: [{ signal: 'source 0 (prometheus)', value: 40, score: 40 }],
    });
  });

  it('adds up the scores of one image found by several sources, naming each', () => {
    const status = sync(runs(ok({ 'r.io/a:1': 2 }), ok({ 'r.io/a:1': 0.5 })));
    expect(status.discoveredImages?.[0]).toMatchObject({
      image: 'r.io/a:1',
      finalScore: '2.5',
      queries: ['source-0', 'source-1'],
      contributions: [
        { signal: 'source 0 (prometheus)', score: 2 },
        { signal: 'source 1 (registry)', score: 0.5 },
      ],
    });
  });

  it('reports each query', () => {
    expect(goodSync().queryResults).toEqual([
      {
        name: 'source-0',
        type: 'prometheus',
        status: 'success',
        reason: 'Synced',
        message: 'fine',
        images: 2,
        lastSuccessTime: NOW.toISOString(),
      },
      {
        name: 'source-1',
        type: 'registry',
        status: 'success',
        reason: 'Synced',
        message: 'fine',
        images: 2,
        lastSuccessTime: NOW.toISOString(),
      },
    ]);
  });
});

describe('a failed sync', () => {
  const broken = failure('ConnectionRefused', 'cannot connect to http://p:9090/api/v1/query: ECONNREFUSED');

  it('keeps the last good image list and says so', () => {
    const previous = goodSync();
    const status = sync(
      runs({ ok: false, failure: broken }, ok({})),
      discoveryPolicyStatusSchema.parse(previous),
      LATER(3_600_000),
    );
    expect(status.discoveredImages).toEqual(previous.discoveredImages);
    expect(status).toMatchObject({
      phase: 'ConnectionRefused',
      imageCount: 3,
      lastSyncTime: LATER(3_600_000).toISOString(),
      lastSuccessfulSyncTime: NOW.toISOString(),
      conditions: [{ type: 'Ready', status: 'False', reason: 'ConnectionRefused' }],
      ranking: previous.ranking,
    });
    expect(status.message).toBe(
      `source 0 (prometheus): ${broken.message}; keeping the 3 images of the last good sync at ${NOW.toISOString()}`,
    );
    expect(status.queryResults?.[0]).toEqual({
      name: 'source-0',
      type: 'prometheus',
      status: 'failed',
      reason: 'ConnectionRefused',
      message: broken.message,
      lastSuccessTime: NOW.toISOString(),
    });
  });

  it('keeps a list written before discoveredImages existed', () => {
    const legacy = discoveryPolicyStatusSchema.parse({
      phase: 'Synced',
      lastSuccessfulSyncTime: NOW.toISOString(),
      images: [
        {
          reference: 'docker.io/library/golang:1.22',
          image: 'docker.io/library/golang',
          tag: '1.22',
          score: 40,
          source: 'prometheus',
        },
      ],
    });
    const status = sync(runs({ ok: false, failure: broken }, ok({})), legacy, LATER(1000));
    expect(status.discoveredImages).toEqual([
      {
        image: 'docker.io/library/golang:1.22',
        rank: 1,
        finalScore: '40',
        repository: 'docker.io/library/golang',
        tag: '1.22',
      },
    ]);
    expect(status).not.toHaveProperty('images');
  });

  it('has no images when no sync ever succeeded', () => {
    const status = sync(
      runs({ ok: false, failure: broken }, { ok: false, failure: failure('Unauthorized', 'no') }),
    );
    expect(status).toMatchObject({ phase: 'ConnectionRefused', imageCount: 0, discoveredImages: [] });
    expect(status.message).toMatch(/\(and 1 more failing sources\); no good sync yet, so no images$/);
    expect(status).not.toHaveProperty('lastSuccessfulSyncTime');
  });

  it('tries again within 5 minutes, but never before the server’s Retry-After', () => {
    const retry = (outcome: QueryOutcome) => sync(runs(outcome, ok({}))).nextSyncTime;
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
    const status = sync(
      runs(
        { ok: false, failure: failure('InvalidSpec', 'Secret x: username and password go together') },
        ok({}),
      ),
    );
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
