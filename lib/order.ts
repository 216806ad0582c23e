/**
 * Strings in code-unit order: the same on every machine and replica, and cheap. `localeCompare`
 * is neither: it asks ICU for a collator, whose data Node maps from its binary on first use — 7 MB
 * more resident memory in each function that sorted a list that way, and a slower comparison.
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
