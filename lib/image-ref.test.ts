import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatReference,
  IMAGE_NAME_PATTERN,
  imagePartsOf,
  isImageId,
  parseImageReference,
  pullReference,
} from './image-ref.ts';

const D = `sha256:${'0123456789abcdef'.repeat(4)}`;

function ref(text: string) {
  const parsed = parseImageReference(text);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.ref;
}

describe('parseImageReference normalises like Docker', () => {
  it.each([
    ['golang:1.22', 'docker.io', 'library/golang', '1.22', 'docker.io/library/golang:1.22'],
    ['nginx', 'docker.io', 'library/nginx', undefined, 'docker.io/library/nginx:latest'],
    ['bitnami/redis:7', 'docker.io', 'bitnami/redis', '7', 'docker.io/bitnami/redis:7'],
    ['docker.io/nginx:1.25', 'docker.io', 'library/nginx', '1.25', 'docker.io/library/nginx:1.25'],
    [
      'index.docker.io/library/alpine:3.20',
      'docker.io',
      'library/alpine',
      '3.20',
      'docker.io/library/alpine:3.20',
    ],
    ['docker.io/library/alpine:3.20', 'docker.io', 'library/alpine', '3.20', 'docker.io/library/alpine:3.20'],
    ['registry:5000/x/y:tag', 'registry:5000', 'x/y', 'tag', 'registry:5000/x/y:tag'],
    ['localhost/app', 'localhost', 'app', undefined, 'localhost/app:latest'],
    ['localhost:5000/team/app:v1', 'localhost:5000', 'team/app', 'v1', 'localhost:5000/team/app:v1'],
    ['127.0.0.1:5000/a/b/c', '127.0.0.1:5000', 'a/b/c', undefined, '127.0.0.1:5000/a/b/c:latest'],
    ['[::1]:5000/app:1', '[::1]:5000', 'app', '1', '[::1]:5000/app:1'],
    ['ghcr.io/org/tool:v1.2.3-rc.1', 'ghcr.io', 'org/tool', 'v1.2.3-rc.1', 'ghcr.io/org/tool:v1.2.3-rc.1'],
    [
      'registry.example.com/ci/builder:v3.1.0',
      'registry.example.com',
      'ci/builder',
      'v3.1.0',
      'registry.example.com/ci/builder:v3.1.0',
    ],
    ['quay.io/a__b/c.d-e---f:_x', 'quay.io', 'a__b/c.d-e---f', '_x', 'quay.io/a__b/c.d-e---f:_x'],
    // A first component with capitals can only be a host: no repository path may contain them.
    ['Registry/app', 'Registry', 'app', undefined, 'Registry/app:latest'],
    // Without a slash nothing is a host: Docker reads this as the image localhost, tag 5000.
    ['localhost:5000', 'docker.io', 'library/localhost', '5000', 'docker.io/library/localhost:5000'],
  ])('%s', (text, registry, repository, tag, reference) => {
    const parsed = ref(text);
    expect(parsed).toMatchObject({ registry, repository, image: `${registry}/${repository}`, reference });
    expect(parsed.tag).toBe(tag);
  });

  it('keeps a digest, alone or after a tag', () => {
    expect(ref(`alpine@${D}`)).toMatchObject({
      image: 'docker.io/library/alpine',
      digest: D,
      reference: `docker.io/library/alpine@${D}`,
    });
    expect(ref(`alpine:3@${D}`)).toMatchObject({
      tag: '3',
      digest: D,
      reference: `docker.io/library/alpine:3@${D}`,
    });
    expect(ref(`r:5000/x@sha512:${'a'.repeat(128)}`)).toMatchObject({
      registry: 'r:5000',
      digest: `sha512:${'a'.repeat(128)}`,
    });
  });

  it('accepts a tag of 128 characters and a name of 255', () => {
    expect(ref(`x:${'t'.repeat(128)}`).tag).toHaveLength(128);
    expect(ref(`r.io/${'a'.repeat(250)}`).image).toHaveLength(255);
  });
});

describe('parseImageReference rejects what the kubelet would call InvalidImageName', () => {
  it.each([
    ['', /empty/],
    [' nginx', /whitespace/],
    ['my image', /whitespace/],
    ['Docker.io/Library/Nginx', /"Library" must be lowercase/],
    ['docker.io/library/NGINX:1', /"NGINX" must be lowercase/],
    ['nginx:', /tag "" must be/],
    ['nginx:-bad', /tag "-bad"/],
    [`nginx:${'t'.repeat(129)}`, /tag/],
    ['nginx@sha256:abc', /digest "sha256:abc" is not algorithm:hex/],
    [`nginx@md5:${'a'.repeat(32)}`, /algorithm "md5" is not supported/],
    [`nginx@sha256:${'A'.repeat(64)}`, /64 lowercase hex digits/],
    [`nginx@sha256:${'a'.repeat(63)}`, /64 lowercase hex digits/],
    ['a@b@c', /digest/],
    ['a//b', /empty component/],
    ['r.io/a/', /empty component/],
    ['a..b', /"a\.\.b" may only hold/],
    ['-a', /may only hold/],
    ['a_-b', /may only hold/],
    ['bad_host.com:5000/x', /registry "bad_host\.com:5000" is not a valid host/],
    ['host.com:abc/x', /registry "host\.com:abc"/],
    ['a'.repeat(64).replace(/a/g, 'f'), /image ID/],
    [`r.io/${'a'.repeat(251)}`, /256 characters long; at most 255/],
  ])('%j', (text, why) => {
    const parsed = parseImageReference(text);
    expect(parsed).toMatchObject({ ok: false, reason: 'InvalidImageName' });
    if (!parsed.ok) {
      expect(parsed.message).toMatch(why);
      expect(parsed.message).toContain(JSON.stringify(text));
    }
  });

  it('never throws, whatever the input', () => {
    fc.assert(fc.property(fc.string(), (text) => typeof parseImageReference(text).ok === 'boolean'));
  });
});

const component = fc.stringMatching(/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/).filter((c) => c.length <= 30);
const generatedReference = fc
  .record({
    registry: fc.constantFrom('', 'docker.io/', 'ghcr.io/', 'registry:5000/', 'localhost/', '[::1]:5000/'),
    // Docker reads a first component with a dot as a registry host, so a short name has none.
    first: component.filter((c) => !c.includes('.')),
    path: fc.array(component, { maxLength: 3 }),
    tag: fc.option(fc.stringMatching(/^\w[\w.-]{0,20}$/), { nil: undefined }),
    digest: fc.option(fc.stringMatching(/^[a-f0-9]{64}$/), { nil: undefined }),
  })
  .map(({ registry, first, path, tag, digest }) =>
    [registry, [first, ...path].join('/'), tag ? `:${tag}` : '', digest ? `@sha256:${digest}` : ''].join(''),
  );

describe('normalised references', () => {
  it('parse back to themselves', () => {
    fc.assert(
      fc.property(generatedReference, (text) => {
        const once = parseImageReference(text);
        if (!once.ok) return /^[a-f0-9]{64}$/.test(text);
        return ref(once.ref.reference).reference === once.ref.reference;
      }),
    );
  });

  it('have an image that the CRD pattern accepts', () => {
    const pattern = new RegExp(IMAGE_NAME_PATTERN);
    fc.assert(
      fc.property(generatedReference, (text) => {
        const parsed = parseImageReference(text);
        return !parsed.ok || pattern.test(parsed.ref.image);
      }),
    );
  });
});

describe('imagePartsOf', () => {
  it('splits a reference into what a CachedImage spec holds', () => {
    expect(imagePartsOf(ref('golang:1.22'))).toEqual({ image: 'docker.io/library/golang', tag: '1.22' });
    expect(imagePartsOf(ref('golang'))).toEqual({ image: 'docker.io/library/golang', tag: 'latest' });
    expect(imagePartsOf(ref(`golang@${D}`))).toEqual({ image: 'docker.io/library/golang', digest: D });
  });

  it('keeps only the digest when both are given, because that is what containerd pulls', () => {
    expect(imagePartsOf(ref(`golang:1.22@${D}`))).toEqual({ image: 'docker.io/library/golang', digest: D });
  });
});

describe('formatReference', () => {
  it('joins image and tag, defaulting to latest', () => {
    expect(formatReference({ image: 'docker.io/library/nginx' })).toBe('docker.io/library/nginx:latest');
    expect(formatReference({ image: 'x/y', tag: '1' })).toBe('x/y:1');
  });

  it('uses the digest when there is one', () => {
    expect(formatReference({ image: 'x/y', digest: D })).toBe(`x/y@${D}`);
  });

  it('round-trips through parseImageReference and imagePartsOf', () => {
    fc.assert(
      fc.property(generatedReference, (text) => {
        const parsed = parseImageReference(text);
        if (!parsed.ok) return true;
        const again = ref(formatReference(imagePartsOf(parsed.ref)));
        return again.image === parsed.ref.image && again.digest === parsed.ref.digest;
      }),
    );
  });
});

describe('pullReference', () => {
  it('gives one text for every spelling of one image', () => {
    expect(pullReference(ref('golang:1.22'))).toBe('docker.io/library/golang:1.22');
    expect(pullReference(ref('index.docker.io/library/golang:1.22'))).toBe('docker.io/library/golang:1.22');
    expect(pullReference(ref('registry:5000/x/y'))).toBe('registry:5000/x/y:latest');
  });

  it('keeps only the digest when a tag comes with it', () => {
    expect(pullReference(ref(`golang:1.22@${D}`))).toBe(`docker.io/library/golang@${D}`);
  });
});

describe('isImageId', () => {
  it('recognises an image ID with or without its algorithm', () => {
    expect(isImageId(D)).toBe(true);
    expect(isImageId(D.slice('sha256:'.length))).toBe(true);
  });

  it('does not mistake names or tags for IDs', () => {
    expect(isImageId('golang:1.22')).toBe(false);
    expect(isImageId(`golang@${D}`)).toBe(false);
    expect(isImageId('sha256:abc')).toBe(false);
  });
});
