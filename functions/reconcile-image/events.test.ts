import { describe, expect, it } from 'vitest';
import type { CachedImageStatus } from '../../lib/api/index.ts';
import { imageEvents } from './events.ts';

const REF = 'docker.io/library/nginx:1.25-alpine';
const backoff = { initialMs: 30_000, maxMs: 300_000 };

function status(word: string, extra: Partial<CachedImageStatus> = {}): CachedImageStatus {
  const ready = {
    type: 'Ready',
    status: word === 'Cached' ? ('True' as const) : ('False' as const),
    reason: word,
    message: 'm',
  };
  return {
    ready: '2/3',
    message: `${word} message`,
    conditions: [{ ...ready, lastTransitionTime: 'x' }],
    ...extra,
  };
}

describe('the Events reconcile-image records', () => {
  it('counts the pulls it recorded, one Event per outcome however many nodes', () => {
    const events = imageEvents({
      reference: REF,
      previous: status('Pulling'),
      status: status('Pulling'),
      recorded: [
        { result: 'cached' },
        { result: 'cached' },
        { result: 'failed', reason: 'ErrImagePull', message: 'not found', failures: 1 },
        { result: 'failed', reason: 'ErrImagePull', message: 'not found', failures: 2 },
      ],
      backoff,
    });
    expect(events).toEqual([
      { type: 'Normal', reason: 'PullSucceeded', action: 'Pull', note: `Cached ${REF} on a node`, count: 2 },
      {
        type: 'Warning',
        reason: 'PullFailed',
        action: 'Pull',
        note: `ErrImagePull pulling ${REF}: not found`,
        count: 2,
      },
      {
        type: 'Normal',
        reason: 'BackOff',
        action: 'Pull',
        note: 'Next attempt on that node in 30s (failureBackoff: 30s, doubling up to 5m)',
        count: 1,
      },
      {
        type: 'Normal',
        reason: 'BackOff',
        action: 'Pull',
        note: 'Next attempt on that node in 1m (failureBackoff: 30s, doubling up to 5m)',
        count: 1,
      },
    ]);
  });

  it('announces a STATUS a person must act on once, when the image turns to it', () => {
    const change = { reference: REF, recorded: [], backoff };
    const noTargets = status('NoTargetNodes');
    expect(imageEvents({ ...change, previous: status('Pending'), status: noTargets })).toEqual([
      { type: 'Warning', reason: 'NoTargetNodes', action: 'Reconcile', note: 'NoTargetNodes message' },
    ]);
    expect(imageEvents({ ...change, previous: noTargets, status: noTargets })).toEqual([]);
  });

  it('says when the image is cached on every target node', () => {
    const events = imageEvents({
      reference: REF,
      previous: status('Pulling'),
      status: status('Cached', { ready: '3/3' }),
      recorded: [],
      backoff,
    });
    expect(events).toEqual([
      {
        type: 'Normal',
        reason: 'Cached',
        action: 'Pull',
        note: `${REF} is cached on every target node (3/3)`,
      },
    ]);
  });

  it('warns once when a pull Secret goes missing', () => {
    const missing = {
      type: 'PullSecretsFound',
      status: 'False' as const,
      reason: 'SecretNotFound',
      message: 'not found in the Drop namespace: regcred',
      lastTransitionTime: 'x',
    };
    const now = status('Pending', { conditions: [...(status('Pending').conditions ?? []), missing] });
    const change = { reference: REF, recorded: [], backoff };
    expect(imageEvents({ ...change, previous: status('Pending'), status: now })).toEqual([
      {
        type: 'Warning',
        reason: 'PullSecretNotFound',
        action: 'Reconcile',
        note: 'imagePullSecrets not found in the Drop namespace: regcred',
      },
    ]);
    expect(imageEvents({ ...change, previous: now, status: now })).toEqual([]);
  });

  it('says when nodes begin to be skipped and when they resume, per reason', () => {
    const skipped = (nodes: number) => ({
      skipped: [
        { reason: 'DiskPressure', nodes, examples: ['n-1'], message: 'the kubelet reports DiskPressure' },
      ],
    });
    const change = (before: number, after: number) =>
      imageEvents({
        reference: REF,
        previous: status('Cached', before ? skipped(before) : {}),
        status: status('Cached', after ? skipped(after) : {}),
        recorded: [],
        backoff,
      });
    expect(change(0, 1)).toEqual([
      {
        type: 'Warning',
        reason: 'NodesSkipped',
        action: 'Reconcile',
        note: '1 node skipped: DiskPressure: the kubelet reports DiskPressure',
      },
    ]);
    expect(change(2, 1)).toEqual([
      {
        type: 'Normal',
        reason: 'NodesResumed',
        action: 'Reconcile',
        note: '1 node no longer DiskPressure: pulls there resume',
      },
    ]);
    expect(change(2, 0)[0]?.note).toBe('2 nodes no longer DiskPressure: pulls there resume');
    expect(change(1, 1)).toEqual([]);
  });

  it('an image refused as too large is a Warning once', () => {
    const events = imageEvents({
      reference: REF,
      previous: status('Pending'),
      status: status('ImageTooLarge'),
      recorded: [],
      backoff,
    });
    expect(events).toEqual([
      { type: 'Warning', reason: 'ImageTooLarge', action: 'Reconcile', note: 'ImageTooLarge message' },
    ]);
  });
});
