import type { z } from 'zod';

export type ParsedSpec<T> =
  | { readonly ok: true; readonly spec: T }
  | { readonly ok: false; readonly message: string };

const MAX_ISSUES = 3;

/**
 * Validates a spec read from the API and applies defaults. The CRD schema already rejects most bad
 * input at apply time; what remains (or what a CRD older than this code let through) becomes a
 * message for the object's status, naming the field: `spec.failureBackoff.max: must be a Go duration…`.
 * The schema is the kind's spec schema (`kinds[kind].spec`), named by the caller: a function's
 * bundle then holds, and builds at each cold start, only the schemas of the kinds it reads.
 */
export function parseSpec<S extends z.ZodType>(schema: S, raw: unknown): ParsedSpec<z.output<S>> {
  const result = schema.safeParse(raw ?? {});
  if (result.success) return { ok: true, spec: result.data };
  const issues = result.error.issues;
  const shown = issues.slice(0, MAX_ISSUES).map((issue) => `${fieldPath(issue.path)}: ${issue.message}`);
  if (issues.length > MAX_ISSUES) shown.push(`and ${issues.length - MAX_ISSUES} more`);
  return { ok: false, message: shown.join('; ') };
}

function fieldPath(path: readonly PropertyKey[]): string {
  return `spec${path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}`;
}
