import { describe, expect, it } from 'vitest';
import { readSources } from './config-files.ts';
import { filterSchema, passes, type SourceFilter } from './filters.ts';

const event = (type: string, kind: string) => ({
  type: `dev.knative.apiserver.resource.${type}`,
  kind,
  name: 'n1',
  namespace: '',
  apiversion: 'v1',
});

describe('passes', () => {
  it('passes every event when there are no filters', () => {
    expect(passes([], event('update', 'Node'))).toBe(true);
  });

  it('requires every filter of the list, each dialect as Knative evaluates it', () => {
    const filters: SourceFilter[] = [{ exact: { kind: 'Node' } }, { suffix: { type: '.add' } }];
    expect(passes(filters, event('add', 'Node'))).toBe(true);
    expect(passes(filters, event('update', 'Node'))).toBe(false);
    expect(passes(filters, event('add', 'Pod'))).toBe(false);
    expect(passes([{ prefix: { type: 'dev.knative.apiserver.' } }], event('delete', 'Pod'))).toBe(true);
    expect(
      passes([{ any: [{ exact: { kind: 'Pod' } }, { exact: { kind: 'Node' } }] }], event('add', 'Node')),
    ).toBe(true);
    expect(passes([{ not: { exact: { kind: 'Node' } } }], event('add', 'Node'))).toBe(false);
  });

  it('fails a match on an attribute the event does not carry', () => {
    expect(passes([{ exact: { subject: '/x' } }], event('add', 'Node'))).toBe(false);
    expect(passes([{ not: { exact: { subject: '/x' } } }], event('add', 'Node'))).toBe(true);
  });
});

describe('filterSchema', () => {
  it('takes the dialects the runner evaluates, nested', () => {
    const filter = { not: { all: [{ exact: { kind: 'Node' } }, { suffix: { type: '.update' } }] } };
    expect(filterSchema.parse(filter)).toEqual(filter);
  });

  it.each([
    [{}, 'exactly one of exact, prefix, suffix, all, any, not (this one: none)'],
    [{ exact: { kind: 'Node' }, prefix: { type: 'x' } }, 'exactly one of'],
    [{ exact: { kind: 'Node', type: 'x' } }, 'names exactly one attribute'],
    [{ cesql: "kind = 'Node'" }, 'cesql filters are not evaluated by the standalone runner'],
    [{ exakt: { kind: 'Node' } }, 'Unrecognized key'],
  ])('refuses %j, saying why', (filter, message) => {
    const result = filterSchema.safeParse(filter);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.message).join('; ')).toContain(message);
  });
});

describe("config/reconcile-image's source", () => {
  const { eventSources } = readSources(new URL('../config/', import.meta.url).pathname, 'drop-system');
  const filters = eventSources.find((s) => s.function === 'reconcile-image')?.filters ?? [];

  it('sends nodes joining and leaving, not their updates (heartbeats), and every change of images and policies', () => {
    expect(passes(filters, event('add', 'Node'))).toBe(true);
    expect(passes(filters, event('delete', 'Node'))).toBe(true);
    expect(passes(filters, event('update', 'Node'))).toBe(false);
    expect(passes(filters, { ...event('update', 'Node'), type: 'dev.knative.apiserver.ref.update' })).toBe(
      false,
    );
    for (const kind of ['CachedImage', 'PullPolicy'])
      for (const type of ['add', 'update', 'delete']) expect(passes(filters, event(type, kind))).toBe(true);
  });

  it("sends a pull pod's updates (the pull started, its outcome), not its creation or deletion", () => {
    expect(passes(filters, event('update', 'Pod'))).toBe(true);
    expect(passes(filters, event('add', 'Pod'))).toBe(false);
    expect(passes(filters, event('delete', 'Pod'))).toBe(false);
    expect(passes(filters, { ...event('delete', 'Pod'), type: 'dev.knative.apiserver.ref.delete' })).toBe(
      false,
    );
  });

  it('is the only source with filters: the others send everything', () => {
    expect(eventSources.filter((s) => s.filters.length > 0).map((s) => s.function)).toEqual([
      'reconcile-image',
    ]);
  });
});
