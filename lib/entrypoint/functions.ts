import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';

export const ENTRYPOINT_NAME = 'entrypoint';
const BUNDLE = '.cjs';

/** A function's bundle and the V8 code cache written beside it at build time. */
export interface FunctionBundle {
  readonly name: string;
  readonly path: string;
  readonly cachePath: string;
}

export function bundleOf(dir: string, name: string): FunctionBundle {
  const path = join(dir, `${name}${BUNDLE}`);
  return { name, path, cachePath: `${path}.v8cache` };
}

/** The functions bundled in dir (every <name>.cjs except the entrypoint's own). */
export function bundledFunctions(dir: string): string[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith(BUNDLE))
    .map((file) => basename(file, BUNDLE))
    .filter((name) => name !== ENTRYPOINT_NAME)
    .sort();
}

export type Selection =
  | { readonly ok: true; readonly name: string }
  | { readonly ok: false; readonly message: string };

/** The function to run: `$FUNCTION`, else the first argument; one of the bundled ones. */
export function selectFunction(
  env: Readonly<Record<string, string | undefined>>,
  args: readonly string[],
  available: readonly string[],
): Selection {
  const name = env.FUNCTION || args[0];
  const choices = available.join(', ') || 'none; run npm run build:functions';
  if (!name) return { ok: false, message: `set FUNCTION (or pass an argument) to one of: ${choices}` };
  if (!available.includes(name))
    return { ok: false, message: `unknown function ${JSON.stringify(name)}; bundled: ${choices}` };
  return { ok: true, name };
}
