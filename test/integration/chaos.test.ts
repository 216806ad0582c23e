// The chaos suite's short subset (test/chaos/, `npm run chaos` runs all of it): on a control plane
// of its own with a smaller pool, Drop killed (-9) mid-pull, every event duplicated, and pull pods
// deleted by someone else — each must converge in its stated time with no invariant violated.
import { expect, it } from 'vitest';
import { runChaos, selectFaults } from '../chaos/runner.ts';

it('Drop keeps every invariant and converges through kill -9 mid-pull, duplicated events and deleted pull pods', async () => {
  const lines: string[] = [];
  const result = await runChaos(
    selectFaults(['kill-mid-pull', 'duplicate-events', 'pull-pods-deleted']),
    (line) => lines.push(line),
    { nodes: 12 },
  );
  // The whole table on failure: which fault, what Drop did, which invariant broke.
  expect(result.ok, `${result.report}\n${lines.slice(-20).join('\n')}`).toBe(true);
  expect(result.rows.map((r) => r.violations.length)).toEqual([0, 0, 0, 0]);
}, 600_000);
