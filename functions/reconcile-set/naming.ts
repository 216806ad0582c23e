import { createHash } from 'node:crypto';

/** Kubernetes object names (DNS subdomain) are at most 253 characters. */
const MAX_NAME = 253;
const MAX_SLUG = 40;
const HASH_LENGTH = 8;

/**
 * The name of a set's child for one image: `<set>-<image-slug>-<hash>`, e.g.
 * `ci-tools-golang-1-22-bookworm-3f9a1c2e`. The slug makes it readable in `kubectl get`; the hash of
 * the full reference keeps two images with the same slug (`a/golang:1.22`, `b/golang:1.22`) apart
 * and makes the name a pure function of (set, reference), so every replica picks the same one.
 */
export function childName(set: string, reference: string): string {
  // The set is hashed too: two sets whose long names share the part that fits stay apart.
  const hash = createHash('sha256').update(`${set}\0${reference}`).digest('hex').slice(0, HASH_LENGTH);
  const slug = slugOf(reference);
  const room = MAX_NAME - hash.length - 1 - (slug ? slug.length + 1 : 0) - 1;
  const prefix = trimEnds(set.slice(0, room));
  return [prefix, slug, hash].filter(Boolean).join('-');
}

// The last path component and the tag (or the digest's start): what a person recognises.
function slugOf(reference: string): string {
  const lastSlash = reference.lastIndexOf('/');
  const tail = reference.slice(lastSlash + 1).replace('@sha256:', '-sha256-');
  const slug = tail
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, MAX_SLUG);
  return trimEnds(slug);
}

// A DNS subdomain starts and ends with an alphanumeric character.
function trimEnds(text: string): string {
  return text.replace(/^[^a-z0-9]+/, '').replace(/[^a-z0-9]+$/, '');
}
