// maxImageSize: the image's own, else its PullPolicy's, checked against the size the registry lists
// for the manifest. Plain data in, a verdict out.
import { quantityValue } from '../discovery/quantity.ts';

export interface SizeLimit {
  readonly bytes: number;
  /** As the user wrote it, e.g. `2Gi`. */
  readonly text: string;
  /** Where it is set, for the message: `spec.maxImageSize` or `PullPolicy "name"`. */
  readonly from: string;
}

/** The limit that applies, if any: the image's own wins over its policy's. */
export function sizeLimitOf(
  image: number | string | undefined,
  policy: { readonly name: string; readonly maxImageSize?: number | string | undefined } | undefined,
): SizeLimit | undefined {
  const pick = (value: number | string | undefined, from: string) => {
    if (value === undefined) return undefined;
    const bytes = quantityValue(value);
    return bytes === undefined ? undefined : { bytes, text: String(value), from };
  };
  return pick(image, 'spec.maxImageSize') ?? pick(policy?.maxImageSize, `PullPolicy "${policy?.name}"`);
}

/** Why the image is refused, or undefined when it fits (or its size is unknown). */
export function sizeProblem(
  limit: SizeLimit | undefined,
  size: number | undefined,
  reference: string,
): { readonly reason: 'ImageTooLarge'; readonly message: string } | undefined {
  if (!limit || size === undefined || size <= limit.bytes) return undefined;
  return {
    reason: 'ImageTooLarge',
    message: `${reference} is ${formatBytes(size)} (${size} bytes, as its registry lists the manifest), over maxImageSize ${limit.text} (${limit.from})`,
  };
}

/** 1536 → `1.5 KiB`; binary units, as `kubectl` quantities and `du -h` read. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
