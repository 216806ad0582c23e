import { describe, expect, it } from 'vitest';
import { eventName, eventNamespace, newEvent, noteOf, occurrencesOf, seriesPatch } from './event-series.ts';

const NOW = new Date('2026-11-25T10:00:00.123Z');
const image = { apiVersion: 'drop.corewire.io/v1alpha1', kind: 'CachedImage', name: 'nginx', uid: 'u-1' };
const started = {
  type: 'Normal',
  reason: 'PullStarted',
  action: 'Pull',
  note: 'Started pulling x on a node',
} as const;
const reporter = { controller: 'drop-pace', instance: 'drop-pace' };

describe('Events in series', () => {
  it('names one Event per object, type, reason, action, controller and note, so repeats meet', () => {
    const name = eventName(image, started, 'drop-pace');
    expect(name).toMatch(/^nginx\.[0-9a-f]{16}$/);
    expect(eventName(image, { ...started, count: 5 }, 'drop-pace')).toBe(name);
    expect(eventName({ ...image, uid: 'u-2' }, started, 'drop-pace')).not.toBe(name);
    expect(eventName(image, { ...started, note: 'other' }, 'drop-pace')).not.toBe(name);
    expect(eventName(image, started, 'drop-reconcile-image')).not.toBe(name);
  });

  it('keeps a long object name a valid DNS subdomain of at most 253 characters', () => {
    const long = `${'a'.repeat(230)}-${'b'.repeat(30)}`;
    const name = eventName({ ...image, name: long }, started, 'drop-pace');
    expect(name.length).toBeLessThanOrEqual(253);
    expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/);
  });

  it('puts Events about a cluster-scoped object in default, and others beside their object', () => {
    expect(eventNamespace(image)).toBe('default');
    expect(eventNamespace({ ...image, namespace: 'drop-system' })).toBe('drop-system');
  });

  it('writes a first occurrence as a single Event, several at once as a series', () => {
    const single = newEvent(image, started, reporter, NOW);
    expect(single).toMatchObject({
      apiVersion: 'events.k8s.io/v1',
      metadata: { namespace: 'default' },
      eventTime: '2026-11-25T10:00:00.123000Z',
      reportingController: 'drop-pace',
      regarding: image,
      type: 'Normal',
      reason: 'PullStarted',
    });
    expect(single.series).toBeUndefined();
    expect(occurrencesOf(single)).toBe(1);
    const three = newEvent(image, { ...started, count: 3 }, reporter, NOW);
    expect(three.series).toEqual({ count: 3, lastObservedTime: '2026-11-25T10:00:00.123000Z' });
  });

  it('counts further occurrences into the series, guarded by the resourceVersion read', () => {
    expect(seriesPatch({ resourceVersion: '42', count: 1 }, 2, NOW)).toEqual({
      metadata: { resourceVersion: '42' },
      series: { count: 3, lastObservedTime: '2026-11-25T10:00:00.123000Z' },
    });
  });

  it('cuts a note to the 1 kB the API server takes', () => {
    expect(noteOf('x'.repeat(2000))).toHaveLength(1024);
    expect(noteOf('short')).toBe('short');
  });
});
