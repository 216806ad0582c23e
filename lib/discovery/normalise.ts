import { type ImageReference, isImageId, parseImageReference } from '../image-ref.ts';

export type NormalisedLabel =
  | { readonly ok: true; readonly ref: ImageReference }
  | { readonly ok: false; readonly why: string };

/**
 * An `image` label as a full reference: `golang:1.22` → `docker.io/library/golang:1.22`,
 * `registry:5000/x/y:tag` keeps its registry, digests are kept. An image ID is not a name.
 */
export function normaliseImageLabel(label: string): NormalisedLabel {
  if (isImageId(label)) return { ok: false, why: `${JSON.stringify(label)} is an image ID, not a name` };
  const parsed = parseImageReference(label);
  return parsed.ok ? { ok: true, ref: parsed.ref } : { ok: false, why: parsed.message };
}
