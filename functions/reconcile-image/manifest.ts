// When reconcile-image asks the image's registry about the reference, and what the answer means:
// for maxImageSize, the size the manifest lists. Pure; functions/reconcile-image/registry.ts asks.
import type { ManifestRecord } from '../../lib/api/index.ts';
import { type SizeLimit, sizeProblem } from '../../lib/policy/index.ts';

/** A registry that gave no answer is asked again after this long (the pulls go on meanwhile). */
export const MANIFEST_RETRY_MS = 5 * 60_000;

/**
 * Whether to ask the registry now: a size limit applies and the status has no answer for this
 * reference, or only a failed one older than MANIFEST_RETRY_MS.
 */
export function manifestCheckDue(
  previous: ManifestRecord | undefined,
  reference: string,
  limit: SizeLimit | undefined,
  now: Date,
): boolean {
  if (!limit) return false;
  if (previous?.reference !== reference) return true;
  if (previous.size !== undefined) return false;
  return now.getTime() - Date.parse(previous.checkedAt) >= MANIFEST_RETRY_MS;
}

/** What the record means for the image: refused as too large, or a note that the size is unknown. */
export function manifestVerdict(
  record: ManifestRecord | undefined,
  reference: string,
  limit: SizeLimit | undefined,
):
  | { readonly kind: 'fits' }
  | { readonly kind: 'refused'; readonly reason: 'ImageTooLarge'; readonly message: string }
  | { readonly kind: 'unknown'; readonly note: string } {
  if (!limit) return { kind: 'fits' };
  if (record?.reference !== reference) return { kind: 'unknown', note: 'maxImageSize not checked yet' };
  if (record.size === undefined)
    return {
      kind: 'unknown',
      note: `maxImageSize not checked: ${record.error ?? 'the registry listed no size'}; pulling anyway`,
    };
  const problem = sizeProblem(limit, record.size, reference);
  return problem ? { kind: 'refused', ...problem } : { kind: 'fits' };
}
