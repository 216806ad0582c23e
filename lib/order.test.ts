import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareText } from './order.ts';

const ROOT = new URL('..', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));
}

describe('compareText', () => {
  it('orders by code unit, not by locale', () => {
    expect(['node-9', 'b', 'node-10', 'B', 'a', 'node-1'].sort(compareText)).toEqual([
      'B',
      'a',
      'b',
      'node-1',
      'node-10',
      'node-9',
    ]);
    expect(compareText('x', 'x')).toBe(0);
  });

  it('is what the functions sort with: none of their code asks ICU for a collator', () => {
    const callers = [...sources('lib'), ...sources('functions')].filter((file) =>
      readFileSync(join(ROOT, file), 'utf8').includes('.localeCompare('),
    );
    expect(callers).toEqual([]);
  });
});
