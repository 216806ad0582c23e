// npm run gen (after lib/api/gen.ts): writes the charts' templates from config/ and crds/.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { renderTemplates } from './charts/templates.ts';

const ROOT = new URL('../', import.meta.url).pathname;
const crdFiles = readdirSync(join(ROOT, 'crds'))
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const files = renderTemplates((source) => readFileSync(join(ROOT, source), 'utf8'), crdFiles);
for (const [path, text] of Object.entries(files)) {
  mkdirSync(dirname(join(ROOT, path)), { recursive: true });
  writeFileSync(join(ROOT, path), text);
}
console.log(`wrote ${Object.keys(files).length} chart templates from config/ and crds/`);
