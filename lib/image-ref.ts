/**
 * Image references as Docker and containerd read them: the distribution/reference grammar
 * (github.com/distribution/reference, regexp.go and normalize.go) with Docker's normalisation,
 * so `golang:1.22` is `docker.io/library/golang:1.22`.
 */

/** A CachedImage spec's view of a reference: the repository, then a tag or a digest. */
export interface ImageParts {
  /** registry/repository without tag or digest, e.g. `docker.io/library/golang`. */
  readonly image: string;
  readonly tag?: string;
  readonly digest?: string;
}

export interface ImageReference extends ImageParts {
  /** Host and optional port, e.g. `docker.io`, `registry:5000`, `[::1]:5000`. */
  readonly registry: string;
  /** The path below the registry, e.g. `library/golang`. */
  readonly repository: string;
  /** The full normalised reference; `:latest` when neither tag nor digest is given. */
  readonly reference: string;
}

export type ParsedReference =
  | { readonly ok: true; readonly ref: ImageReference }
  | { readonly ok: false; readonly reason: 'InvalidImageName'; readonly message: string };

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';

/** A repository name without tag or digest: optional `host[:port]/`, then lowercase path components. */
export const IMAGE_NAME_PATTERN = `^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`;
/** A tag: up to 128 word characters, dots and dashes, not starting with a dot or dash. */
export const TAG_PATTERN = '^[\\w][\\w.-]{0,127}$';
/** The digest form a spec accepts (what registries and containerd use in practice). */
export const DIGEST_PATTERN = '^sha256:[a-f0-9]{64}$';
/** distribution/reference NameTotalLengthMax, applied to the normalised registry/repository. */
export const MAX_NAME_LENGTH = 255;

const DOCKER_HUB = 'docker.io';
const LEGACY_DOCKER_HUB = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';

const DOMAIN_RE = new RegExp(`^${DOMAIN}$`);
const PATH_COMPONENT_RE = new RegExp(`^${PATH_COMPONENT}$`);
const TAG_RE = new RegExp(TAG_PATTERN);
const DIGEST_GRAMMAR_RE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
// go-digest's registered algorithms: the only ones containerd will resolve.
const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };
// Docker refuses a bare 64-hex name, which would be ambiguous with an image ID.
const IMAGE_ID_RE = /^[a-f0-9]{64}$/;

function invalid(text: string, why: string): ParsedReference {
  return {
    ok: false,
    reason: 'InvalidImageName',
    message: `invalid image reference ${JSON.stringify(text)}: ${why}`,
  };
}

/** Parses and normalises a reference such as `golang:1.22`, `registry:5000/x/y:tag` or `x@sha256:…`. */
export function parseImageReference(text: string): ParsedReference {
  if (text === '') return invalid(text, 'it is empty');
  if (/\s/.test(text)) return invalid(text, 'it contains whitespace');
  if (IMAGE_ID_RE.test(text)) return invalid(text, 'a 64-character hex string is an image ID, not a name');
  const { registry, rest } = splitRegistry(text);
  if (!DOMAIN_RE.test(registry))
    return invalid(text, `registry ${JSON.stringify(registry)} is not a valid host[:port]`);
  const at = rest.indexOf('@');
  const beforeDigest = at < 0 ? rest : rest.slice(0, at);
  const digest = at < 0 ? undefined : rest.slice(at + 1);
  const colon = beforeDigest.lastIndexOf(':');
  const path = colon < 0 ? beforeDigest : beforeDigest.slice(0, colon);
  const tag = colon < 0 ? undefined : beforeDigest.slice(colon + 1);
  const repository = registry === DOCKER_HUB && !path.includes('/') ? OFFICIAL_PREFIX + path : path;
  const pathProblem = checkPath(repository);
  if (pathProblem) return invalid(text, pathProblem);
  if (tag !== undefined && !TAG_RE.test(tag))
    return invalid(
      text,
      `tag ${JSON.stringify(tag)} must be 1-128 letters, digits, _ . - and not start with . or -`,
    );
  const digestProblem = digest === undefined ? undefined : checkDigest(digest);
  if (digestProblem) return invalid(text, digestProblem);
  const image = `${registry}/${repository}`;
  if (image.length > MAX_NAME_LENGTH)
    return invalid(
      text,
      `the name is ${image.length} characters long; at most ${MAX_NAME_LENGTH} are allowed`,
    );
  const suffix = `${tag === undefined ? '' : `:${tag}`}${digest === undefined ? '' : `@${digest}`}`;
  return {
    ok: true,
    ref: {
      registry,
      repository,
      image,
      ...(tag === undefined ? {} : { tag }),
      ...(digest === undefined ? {} : { digest }),
      reference: image + (suffix || ':latest'),
    },
  };
}

// Docker's splitDockerDomain: the first component names a registry only when it looks like a host
// (a dot, a port, `localhost`) or has uppercase letters, which no repository path may contain.
function splitRegistry(text: string): { registry: string; rest: string } {
  const slash = text.indexOf('/');
  const first = slash < 0 ? '' : text.slice(0, slash);
  const isHost = /[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase();
  if (slash < 0 || !isHost) return { registry: DOCKER_HUB, rest: text };
  return { registry: first === LEGACY_DOCKER_HUB ? DOCKER_HUB : first, rest: text.slice(slash + 1) };
}

function checkPath(repository: string): string | undefined {
  for (const component of repository.split('/')) {
    if (PATH_COMPONENT_RE.test(component)) continue;
    if (component === '') return 'the repository path has an empty component';
    if (PATH_COMPONENT_RE.test(component.toLowerCase()))
      return `repository path component ${JSON.stringify(component)} must be lowercase`;
    return `repository path component ${JSON.stringify(component)} may only hold a-z, 0-9 and single . _ __ or - between them`;
  }
  return undefined;
}

function checkDigest(digest: string): string | undefined {
  if (!DIGEST_GRAMMAR_RE.test(digest)) return `digest ${JSON.stringify(digest)} is not algorithm:hex`;
  const [algorithm = '', hex = ''] = digest.split(':');
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (length === undefined) return `digest algorithm ${JSON.stringify(algorithm)} is not supported`;
  if (hex.length !== length || hex !== hex.toLowerCase())
    return `a ${algorithm} digest has ${length} lowercase hex digits`;
  return undefined;
}

/**
 * A reference as a CachedImage spec holds it. When both are given the digest wins, because that
 * is what containerd pulls (the tag is then only a label).
 */
export function imagePartsOf(ref: ImageReference): ImageParts {
  if (ref.digest !== undefined) return { image: ref.image, digest: ref.digest };
  return { image: ref.image, tag: ref.tag ?? 'latest' };
}

/** A CachedImage's `image` plus `tag` or `digest` as one reference (neither: `latest`). */
export function formatReference(parts: {
  readonly image: string;
  readonly tag?: string | undefined;
  readonly digest?: string | undefined;
}): string {
  if (parts.digest) return `${parts.image}@${parts.digest}`;
  return `${parts.image}:${parts.tag || 'latest'}`;
}

/**
 * The reference a node pulls for `ref`: `image:tag`, or `image@digest` when there is a digest.
 * Two spellings of one image (`golang:1.22`, `docker.io/library/golang:1.22`) give the same text.
 */
export function pullReference(ref: ImageReference): string {
  return formatReference(imagePartsOf(ref));
}

const ALGORITHM_IMAGE_ID_RE = /^sha256:[a-f0-9]{64}$/;

/**
 * True for an image ID (`sha256:<64 hex>` or the bare hex) rather than a name. Runtimes report an
 * ID in the `image` label when the image has no name locally; parsed as a name, `sha256:<hex>`
 * would be Docker Hub's image `library/sha256` with that tag, which no registry has.
 */
export function isImageId(text: string): boolean {
  return ALGORITHM_IMAGE_ID_RE.test(text) || IMAGE_ID_RE.test(text);
}
