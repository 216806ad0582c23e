import { describe, expect, it } from 'vitest';
import { intervalOf, selectorString, sourcesOf } from './sources.ts';

const apiServerSource = {
  apiVersion: 'sources.knative.dev/v1',
  kind: 'ApiServerSource',
  metadata: { name: 'drop-pace-events', namespace: 'drop-system' },
  spec: {
    mode: 'Resource',
    serviceAccountName: 'drop-pace-source',
    resources: [
      { apiVersion: 'drop.corewire.io/v1alpha1', kind: 'CachedImage' },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        selector: { matchLabels: { 'app.kubernetes.io/managed-by': 'drop' } },
      },
    ],
    sink: { ref: { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: 'drop-pace' } },
  },
};

const pingSource = {
  apiVersion: 'sources.knative.dev/v1',
  kind: 'PingSource',
  metadata: { name: 'drop-pace-tick', namespace: 'drop-system' },
  spec: {
    schedule: '* * * * *',
    contentType: 'application/json',
    data: '{"resync":true}',
    sink: { ref: { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: 'drop-pace' } },
  },
};

describe('sourcesOf', () => {
  it('reads what each ApiServerSource watches and which function it feeds', () => {
    const { eventSources } = sourcesOf([apiServerSource, { kind: 'ServiceAccount' }], 'drop-system');
    expect(eventSources).toEqual([
      {
        name: 'drop-pace-events',
        namespace: 'drop-system',
        function: 'pace',
        mode: 'Resource',
        resources: [
          {
            apiVersion: 'drop.corewire.io/v1alpha1',
            kind: 'CachedImage',
            plural: 'cachedimages',
            namespaced: false,
          },
          {
            apiVersion: 'v1',
            kind: 'Pod',
            plural: 'pods',
            namespaced: true,
            selector: 'app.kubernetes.io/managed-by=drop',
          },
        ],
        filters: [],
      },
    ]);
  });

  it('reads a PingSource as a period and its data', () => {
    const { pings } = sourcesOf([pingSource], 'drop-system');
    expect(pings).toEqual([
      {
        name: 'drop-pace-tick',
        namespace: 'drop-system',
        function: 'pace',
        schedule: '* * * * *',
        everyMs: 60_000,
        data: '{"resync":true}',
      },
    ]);
  });

  it('takes Knative’s default mode, Reference, when none is set', () => {
    const { mode: _mode, ...spec } = apiServerSource.spec;
    const [source] = sourcesOf([{ ...apiServerSource, spec }], 'drop-system').eventSources;
    expect(source?.mode).toBe('Reference');
  });

  it('names the source that cannot be honoured', () => {
    const unknownKind = {
      ...apiServerSource,
      spec: { ...apiServerSource.spec, resources: [{ apiVersion: 'apps/v1', kind: 'Deployment' }] },
    };
    expect(() => sourcesOf([unknownKind], 'x')).toThrow(
      'ApiServerSource drop-pace-events: cannot watch apps/v1 Deployment',
    );
    const foreignSink = {
      ...pingSource,
      spec: { ...pingSource.spec, sink: { ref: { ...pingSource.spec.sink.ref, name: 'other' } } },
    };
    expect(() => sourcesOf([foreignSink], 'x')).toThrow('sink other is not a Drop function');
    const selected = { ...apiServerSource, spec: { ...apiServerSource.spec, namespaceSelector: {} } };
    expect(() => sourcesOf([selected], 'x')).toThrow('namespaceSelector is not supported');
  });
});

describe('selectorString', () => {
  it('writes labels and expressions as the API takes them', () => {
    expect(
      selectorString({
        matchLabels: { a: '1' },
        matchExpressions: [
          { key: 'b', operator: 'Exists' },
          { key: 'c', operator: 'DoesNotExist' },
          { key: 'd', operator: 'In', values: ['x', 'y'] },
          { key: 'e', operator: 'NotIn', values: ['z'] },
        ],
      }),
    ).toBe('a=1,b,!c,d in (x,y),e notin (z)');
  });
});

describe('intervalOf', () => {
  it('takes every-minute and every-N-minutes cron, and @every durations', () => {
    expect(intervalOf('s', '* * * * *')).toBe(60_000);
    expect(intervalOf('s', '*/5 * * * *')).toBe(300_000);
    expect(intervalOf('s', '@every 30s')).toBe(30_000);
  });

  it('refuses schedules that are not periodic, saying what works', () => {
    expect(() => intervalOf('s', '0 3 * * *')).toThrow(
      /not periodic \(use \*\/N \* \* \* \* or @every 30s\)/,
    );
    expect(() => intervalOf('s', '@every soon')).toThrow(/not periodic/);
  });
});
