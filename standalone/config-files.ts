import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { type Sources, sourcesOf } from './sources.ts';

/**
 * Where config/ is: DROP_CONFIG_DIR, else config/ in the working directory (the repository root
 * for npm start, /app in the image, which copies it there).
 */
export function configDir(): string {
  return process.env.DROP_CONFIG_DIR || join(process.cwd(), 'config');
}

/**
 * Every ApiServerSource and PingSource in the YAML files under `dir`. config/standalone/ is the
 * runner's own Deployment, not a source of events, and is skipped.
 */
export function readSources(dir: string, defaultNamespace: string): Sources {
  const objects = yamlFiles(dir).flatMap((file) =>
    parseAllDocuments(readFileSync(file, 'utf8')).map((doc) => doc.toJS() as unknown),
  );
  return sourcesOf(objects, defaultNamespace);
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return entry.name === 'standalone' ? [] : yamlFiles(path);
      return /\.ya?ml$/.test(entry.name) ? [path] : [];
    })
    .sort();
}
