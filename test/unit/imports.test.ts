// The layering rule of the code map (README.md), checked on every import of the shipped code:
// lib/ never imports functions/ or standalone/; functions/<a> never imports functions/<b>; and no
// file reaches itself through imports (type-only imports count: a cycle of types is still a knot).

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const SHIPPED = ['lib', 'functions', 'standalone'];

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

// `import … from '…'`, `export … from '…'`, `import '…'` and `import('…')`, across line breaks.
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g;

/** The repository files a file imports (relative specifiers only: packages are not ours). */
function importsOf(file: string, text: string): string[] {
  return [...text.matchAll(SPECIFIER)]
    .map((m) => m[1] ?? '')
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => relative(ROOT, resolve(ROOT, dirname(file), spec)));
}

const files = SHIPPED.flatMap(sourceFiles);
type Graph = ReadonlyMap<string, readonly string[]>;

const graph: Graph = new Map(
  files.map((file) => [file, importsOf(file, readFileSync(join(ROOT, file), 'utf8'))]),
);

function functionOf(file: string): string | undefined {
  return /^functions\/([^/]+)\//.exec(file)?.[1];
}

/** Every import that breaks the layering rule, as `from -> to`. */
function layeringViolations(graph: Graph): string[] {
  const broken: string[] = [];
  for (const [from, targets] of graph) {
    for (const to of targets) {
      const fromLib = from.startsWith('lib/');
      if (fromLib && (to.startsWith('functions/') || to.startsWith('standalone/')))
        broken.push(`${from} -> ${to}`);
      const a = functionOf(from);
      const b = functionOf(to);
      if (a && b && a !== b) broken.push(`${from} -> ${to}`);
      if (to.startsWith('test/') || to.startsWith('bench/') || to.startsWith('scripts/'))
        broken.push(`${from} -> ${to}`);
    }
  }
  return broken;
}

/** Strongly connected components of more than one file (or a file importing itself): Tarjan's algorithm. */
function cycles(graph: Graph): string[][] {
  let index = 0;
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (file: string) => {
    order.set(file, index);
    low.set(file, index++);
    stack.push(file);
    onStack.add(file);
    for (const next of graph.get(file) ?? []) {
      if (!graph.has(next)) continue;
      if (!order.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(file, Math.min(low.get(file)!, order.get(next)!));
    }
    if (low.get(file) !== order.get(file)) return;
    const component: string[] = [];
    let member: string | undefined;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1 || (graph.get(file) ?? []).includes(file)) found.push(component.sort());
  };
  for (const file of graph.keys()) if (!order.has(file)) visit(file);
  return found;
}

describe('the import rule', () => {
  it('reads the shipped code (and resolves what it imports to files that exist)', () => {
    expect(files.length).toBeGreaterThan(50);
    const missing = [...graph].flatMap(([from, targets]) =>
      targets.filter((to) => !graph.has(to) && !to.endsWith('.json')).map((to) => `${from} -> ${to}`),
    );
    expect(missing).toEqual([]);
  });

  it('lib/ never imports functions/ or standalone/, and no function imports another', () => {
    expect(layeringViolations(graph)).toEqual([]);
  });

  it('has no import cycles', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('would see a back edge and a cycle (the checks can fail)', () => {
    expect(
      importsOf('lib/x.ts', "import { a } from '../functions/pace/index.ts';\nexport * from './y.ts';"),
    ).toEqual(['functions/pace/index.ts', 'lib/y.ts']);
    expect(importsOf('lib/x.ts', "import type {\n  A,\n} from './z.ts';")).toEqual(['lib/z.ts']);
    const knotted: Graph = new Map([
      ['lib/a.ts', ['lib/b.ts']],
      ['lib/b.ts', ['lib/c.ts', 'functions/pace/index.ts']],
      ['lib/c.ts', ['lib/a.ts']],
      ['functions/pace/index.ts', ['functions/discover/plan.ts']],
      ['functions/discover/plan.ts', []],
    ]);
    expect(cycles(knotted)).toEqual([['lib/a.ts', 'lib/b.ts', 'lib/c.ts']]);
    expect(layeringViolations(knotted)).toEqual([
      'lib/b.ts -> functions/pace/index.ts',
      'functions/pace/index.ts -> functions/discover/plan.ts',
    ]);
  });
});
