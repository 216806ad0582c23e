import type { Contribution, DiscoveredImage, DiscoveryPolicyStatus } from '../../lib/api/index.ts';
import { shortNumber } from '../../lib/discovery/index.ts';

// How a ranked list reads to a person: each image's score and the parts it was made of, as the
// dry run prints it (status holds the same numbers in discoveredImages[].contributions).

/** One part of a score in words: `total-usage 0.7×1 (30)`, `J_target target-window 12`, `peak missing → 0`. */
export function partText(part: Contribution): string {
  const value = part.value === undefined ? 'missing' : shortNumber(part.value);
  if (part.weight !== undefined)
    return part.normalized === undefined
      ? `${part.signal} ${value} → 0`
      : `${part.signal} ${shortNumber(part.weight)}×${shortNumber(part.normalized)} (${value})`;
  if (part.role !== undefined) return `${part.role} ${part.signal} ${value} → ${shortNumber(part.score)}`;
  return `${part.signal} ${value}`;
}

/** The parts of a score joined the way the strategy combines them. */
export function contributionsText(image: DiscoveredImage, strategy: string | undefined): string {
  const parts = (image.contributions ?? []).map(partText);
  if (parts.length === 0) return '';
  const join = strategy === 'modelExposure' ? ' · ' : strategy === 'default' ? ', largest of ' : ' + ';
  return strategy === 'default' ? `largest of ${parts.join(', ')}` : parts.join(join);
}

/** The ranked table: rank, image, finalScore, and how each score was made. */
export function rankingTable(status: DiscoveryPolicyStatus): string {
  const images = status.discoveredImages ?? [];
  const strategy = status.ranking?.strategy;
  const rows = [
    ['RANK', 'IMAGE', 'SCORE', 'CONTRIBUTIONS'],
    ...images.map((i) => [String(i.rank), i.image, i.finalScore, contributionsText(i, strategy)]),
  ];
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (c < 3 ? cell.padEnd(widths[c] ?? 0) : cell))
        .join('   ')
        .trimEnd(),
    )
    .join('\n');
}
