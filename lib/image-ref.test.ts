import { describe, expect, it } from 'vitest';
import { formatReference, parseImageReference } from './image-ref.ts';

const D = `sha256:${'0123456789abcdef'.repeat(4)}`;

describe('parseImageReference', () => {
  it.each([
    ['golang:1.22', 'docker.io', 'library/golang', '1.22', 'docker.io/library/golang:1.22'],
    ['nginx', 'docker.io', 'library/nginx', undefined, 'docker.io/library/nginx:latest'],
    ['bitnami/redis:7', 'docker.io', 'bitnami/redis', '7', 'docker.io/bitnami/redis:7'],
    ['docker.io/library/alpine:3.20', 'docker.io', 'library/alpine', '3.20', 'docker.io/library/alpine:3.20'],
    ['registry:5000/x/y:tag', 'registry:5000', 'x/y', 'tag', 'registry:5000/x/y:tag'],
    ['localhost/app', 'localhost', 'app', undefined, 'localhost/app:latest'],
    ['ghcr.io/org/tool:v1.2.3-rc.1', 'ghcr.io', 'org/tool', 'v1.2.3-rc.1', 'ghcr.io/org/tool:v1.2.3-rc.1'],
    ['[::1]:5000/app:1', '[::1]:5000', 'app', '1', '[::1]:5000/app:1'],
  ])('normalises %s', (text, registry, repository, tag, reference) => {
    const parsed = parseImageReference(text);
    expect(parsed).toMatchObject({ ok: true, ref: { registry, repository, reference } });
    if (parsed.ok) expect(parsed.ref.tag).toBe(tag);
  });

  it('keeps digests, with or without a tag', () => {
    expect(parseImageReference(`alpine@${D}`)).toMatchObject({
      ok: true,
      ref: { digest: D, reference: `docker.io/library/alpine@${D}` },
    });
    expect(parseImageReference(`alpine:3@${D}`)).toMatchObject({ ok: true, ref: { tag: '3', digest: D } });
  });

  it.each([
    ['Docker.io/Library/Nginx', /lowercase|registry/],
    ['docker.io/library/NGINX:1', /must be lowercase/],
    ['nginx:', /tag/],
    ['nginx:-bad', /tag/],
    ['nginx@sha256:abc', /digest/],
    ['a//b', /invalid characters/],
    [' nginx', /spaces/],
    [`a/${'x'.repeat(300)}`, /longer than 255/],
  ])('rejects %s with InvalidImageName', (text, why) => {
    const parsed = parseImageReference(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.reason).toBe('InvalidImageName');
      expect(parsed.message).toMatch(why);
    }
  });
});

describe('formatReference', () => {
  it('defaults to latest and prefers the digest', () => {
    expect(formatReference({ image: 'docker.io/library/nginx' })).toBe('docker.io/library/nginx:latest');
    expect(formatReference({ image: 'x/y', tag: '1' })).toBe('x/y:1');
    expect(formatReference({ image: 'x/y', digest: D })).toBe(`x/y@${D}`);
  });
});
