import { createHash } from 'node:crypto';

/**
 * A name as a label value. Label values are at most 63 characters; longer names keep a readable
 * prefix and a hash of the whole, so two long names never share a value.
 */
export function labelValue(value: string): string {
  if (value.length <= 63) return value;
  const hash = createHash('sha256').update(value).digest('hex').slice(0, 8);
  return `${value.slice(0, 54).replace(/[^a-zA-Z0-9]+$/, '')}-${hash}`;
}
