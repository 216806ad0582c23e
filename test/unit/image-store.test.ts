import { describe, expect, it } from 'vitest';
import { COLLECTED_ANNOTATION, collectedOn, storeKey } from '../controlplane/image-store.ts';

describe("the simulated kubelet's image store", () => {
  const node = (value?: string) => ({
    metadata: {
      name: 'n',
      ...(value === undefined ? {} : { annotations: { [COLLECTED_ANNOTATION]: value } }),
    },
  });

  it('reads the references a node lost from its annotation, and nothing from a missing or broken one', () => {
    expect(collectedOn(node('["docker.io/library/nginx:1.25"]'))).toEqual(['docker.io/library/nginx:1.25']);
    expect(collectedOn(node())).toEqual([]);
    expect(collectedOn(node('not json'))).toEqual([]);
    expect(collectedOn(node('{"a":1}'))).toEqual([]);
  });

  it('keys an image by its normalised reference, so a short name and the full one are the same image', () => {
    expect(storeKey('nginx:1.25')).toBe('docker.io/library/nginx:1.25');
    expect(storeKey('docker.io/library/nginx:1.25')).toBe('docker.io/library/nginx:1.25');
    expect(storeKey('registry.example/team/app')).toBe('registry.example/team/app:latest');
  });
});
