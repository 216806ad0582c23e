import { describe, expect, it } from 'vitest';
import { unreachableKube } from '../../test/fixtures/unreachable-kube.ts';
import type { KubeObject } from './client.ts';
import { type Change, Informer } from './informer.ts';

function object(name: string, resourceVersion: string, extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, resourceVersion }, ...extra } as KubeObject;
}

// The informer's own watch cannot reach the closed port: what it holds is what observe() put there.
function informer() {
  const cache = new Informer(unreachableKube(), {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    plural: 'configmaps',
    path: '/api/v1/namespaces/x/configmaps',
    indexBy: (o) => o.metadata.labels?.app,
  });
  const changes: Change<KubeObject>[] = [];
  cache.subscribe((c) => changes.push(c));
  return { cache, changes };
}

describe('Informer.observe', () => {
  it('records a newer object and tells the listeners', () => {
    const { cache, changes } = informer();
    cache.observe(object('a', '5'));
    cache.observe(object('a', '7'));
    expect(cache.get('a')?.metadata.resourceVersion).toBe('7');
    expect(changes.map((c) => c.type)).toEqual(['add', 'update']);
    cache.close();
  });

  it('ignores what it holds already or older: a listener that re-delivers it hears nothing new', () => {
    const { cache, changes } = informer();
    cache.observe(object('a', '7'));
    cache.observe(object('a', '7'));
    cache.observe(object('a', '6'));
    expect(cache.get('a')?.metadata.resourceVersion).toBe('7');
    expect(changes).toHaveLength(1);
    cache.close();
  });

  it("refuses a write's answer that comes after the object's delete, and takes the object made again", () => {
    const { cache, changes } = informer();
    // The watch says the pod our create made (version 5) was deleted at version 9 …
    cache.observe(object('a', '5'));
    cache.observe(object('a', '9'), true);
    // … before the create's answer reached us: it must not bring the pod back.
    cache.observe(object('a', '5'));
    expect(cache.get('a')).toBeUndefined();
    expect(changes.map((c) => c.type)).toEqual(['add', 'delete']);
    // A pod made again under the same name is newer than the delete.
    cache.observe(object('a', '12'));
    expect(cache.get('a')?.metadata.resourceVersion).toBe('12');
    cache.close();
  });

  it('says which objects it saw deleted lately, until one is made again', () => {
    const { cache } = informer();
    expect(cache.deletedLately('a')).toBe(false);
    cache.observe(object('a', '5'));
    expect(cache.deletedLately('a')).toBe(false);
    cache.observe(object('a', '9'), true);
    expect(cache.deletedLately('a')).toBe(true);
    expect(cache.deletedLately('b')).toBe(false);
    cache.observe(object('a', '12'));
    expect(cache.deletedLately('a')).toBe(false);
    cache.close();
  });

  it('takes any answer when resourceVersions are not etcd integers (nothing can be compared)', () => {
    const { cache } = informer();
    cache.observe(object('a', 'x9'));
    cache.observe(object('a', 'x9'), true);
    cache.observe(object('a', 'x5'));
    expect(cache.get('a')?.metadata.resourceVersion).toBe('x5');
    cache.close();
  });

  it('drops managedFields and keeps objects findable by their index value', () => {
    const { cache } = informer();
    cache.observe(
      object('a', '1', {
        metadata: { name: 'a', resourceVersion: '1', labels: { app: 'x' }, managedFields: [{}] },
      }),
    );
    expect(cache.indexed('x').map((o) => o.metadata.name)).toEqual(['a']);
    expect(cache.get('a')?.metadata).not.toHaveProperty('managedFields');
    cache.observe(object('a', '1'), true);
    expect(cache.indexed('x')).toEqual([]);
    cache.close();
  });
});
