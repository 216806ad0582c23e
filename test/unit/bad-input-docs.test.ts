// docs/bad-input.md and the case lists in test/bad-input/ say the same: every case is a row, every
// row of the last table names a test that exists.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { APPLY_CASES } from '../bad-input/apply-cases.ts';
import { EVENT_CASES } from '../bad-input/event-cases.ts';
import { STATUS_CASES } from '../bad-input/status-cases.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const doc = readFileSync(`${ROOT}docs/bad-input.md`, 'utf8');
const rows = doc.split('\n').filter((line) => /^\| \d+ \|/.test(line));
const cellsOf = (row: string) => row.split(/(?<!\\)\|/).map((cell) => cell.trim());

describe('docs/bad-input.md', () => {
  it('has at least 40 cases, numbered in order', () => {
    expect(rows.length).toBeGreaterThanOrEqual(40);
    expect(rows.map((row) => Number(cellsOf(row)[1]))).toEqual(rows.map((_, i) => i + 1));
  });

  it.each([
    ['apply', APPLY_CASES],
    ['status', STATUS_CASES],
    ['event', EVENT_CASES],
  ] as const)('names every %s case in a row of its own', (_kind, cases) => {
    const names = new Set(rows.map((row) => cellsOf(row)[2]));
    expect(cases.map((c) => c.name).filter((name) => !names.has(name))).toEqual([]);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  it('names, for each row of the sources table, a test that exists in the file it names', () => {
    const named = rows
      .map((row) => cellsOf(row)[4] ?? '')
      .map((cell) => /^`([^`]+\.test\.ts)` "([^"]+)"$/.exec(cell))
      .filter((match): match is RegExpExecArray => match !== null);
    expect(named.length).toBeGreaterThanOrEqual(10);
    for (const [, file, title] of named) {
      expect(existsSync(`${ROOT}${file}`), file).toBe(true);
      expect(readFileSync(`${ROOT}${file}`, 'utf8'), `${file}: ${title}`).toContain(title);
    }
  });
});
