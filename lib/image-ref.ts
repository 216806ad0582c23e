/**
 * Image references as Docker and containerd read them (distribution/reference grammar): an
 * optional registry host[:port], a lowercase path, then `:tag` and/or `@digest`. Short names are
 * normalised the same way: `golang:1.22` is `docker.io/library/golang:1.22`.
 */
export interface ImageReference {
  readonly registry: string;
  readonly repository: string;
  /** registry/repository: what a CachedImage's `image` field holds. */
  readonly name: string;
  readonly tag?: string;
  readonly digest?: string;
  /** The full normalised reference; `latest` when neither tag nor digest is given. */
  readonly reference: string;
}

export type ParsedReference =
  | { readonly ok: true; readonly ref: ImageReference }
  | { readonly ok: false; readonly reason: 'InvalidImageName'; readonly message: string };

const DOCKER_HUB = 'docker.io';
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(
  `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?$`,
);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const SHA256 = /^sha256:[a-f0-9]{64}$/;
const MAX_NAME = 255;

function invalid(text: string, why: string): ParsedReference {
  return {
    ok: false,
    reason: 'InvalidImageName',
    message: `invalid image reference ${JSON.stringify(text)}: ${why}`,
  };
}

export function parseImageReference(text: string): ParsedReference {
  if (text.trim() !== text || text === '') return invalid(text, 'empty or surrounded by spaces');
  const [beforeDigest = '', digest, extra] = text.split('@');
  if (extra !== undefined) return invalid(text, 'more than one "@"');
  if (digest !== undefined && !DIGEST.test(digest))
    return invalid(text, `digest ${JSON.stringify(digest)} is malformed`);
  if (digest?.startsWith('sha256:') && !SHA256.test(digest))
    return invalid(text, 'a sha256 digest has 64 lowercase hex digits');
  const lastSlash = beforeDigest.lastIndexOf('/');
  const lastColon = beforeDigest.lastIndexOf(':');
  const hasTag = lastColon > lastSlash;
  const name = hasTag ? beforeDigest.slice(0, lastColon) : beforeDigest;
  const tag = hasTag ? beforeDigest.slice(lastColon + 1) : undefined;
  if (tag !== undefined && !TAG.test(tag)) return invalid(text, `tag ${JSON.stringify(tag)} is not valid`);
  const split = splitDomain(name);
  if (!DOMAIN.test(split.registry))
    return invalid(text, `registry ${JSON.stringify(split.registry)} is not a valid host`);
  const components = split.repository.split('/');
  const bad = components.find((c) => !PATH_COMPONENT.test(c));
  if (bad !== undefined) {
    const why =
      bad.toLowerCase() !== bad && PATH_COMPONENT.test(bad.toLowerCase())
        ? 'must be lowercase'
        : 'has invalid characters';
    return invalid(text, `repository path component ${JSON.stringify(bad)} ${why}`);
  }
  const full = `${split.registry}/${split.repository}`;
  if (full.length > MAX_NAME) return invalid(text, `name is longer than ${MAX_NAME} characters`);
  const suffix = `${tag !== undefined ? `:${tag}` : ''}${digest !== undefined ? `@${digest}` : ''}`;
  return {
    ok: true,
    ref: {
      registry: split.registry,
      repository: split.repository,
      name: full,
      ...(tag !== undefined ? { tag } : {}),
      ...(digest !== undefined ? { digest } : {}),
      reference: `${full}${suffix || ':latest'}`,
    },
  };
}

// The first component is a registry when it looks like a host: a dot, a port, `localhost`, or
// uppercase (which no repository path may contain) — Docker's splitDockerDomain rule.
function splitDomain(name: string): { registry: string; repository: string } {
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  if (
    slash >= 0 &&
    (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase())
  ) {
    return { registry: first, repository: name.slice(slash + 1) };
  }
  const repository = slash < 0 ? `library/${name}` : name;
  return { registry: DOCKER_HUB, repository };
}

/** A CachedImage's `image` plus `tag` or `digest` as one reference (neither: `latest`). */
export function formatReference(parts: {
  image: string;
  tag?: string | undefined;
  digest?: string | undefined;
}): string {
  if (parts.digest) return `${parts.image}@${parts.digest}`;
  return `${parts.image}:${parts.tag ?? 'latest'}`;
}
