import type { z } from 'zod';
import { type KindName, kinds } from './kinds.ts';

/** A kind's spec with defaults applied. */
export type SpecOf<K extends KindName> = z.output<(typeof kinds)[K]['spec']>;

export type ParsedSpec<K extends KindName> =
  | { readonly ok: true; readonly spec: SpecOf<K> }
  | { readonly ok: false; readonly message: string };

const MAX_ISSUES = 3;

/**
 * Validates a spec read from the API and applies defaults. The CRD schema already rejects most bad
 * input at apply time; what remains (or what a CRD older than this code let through) becomes a
 * message for the object's status, naming the field: `spec.failureBackoff.max: must be a Go duration…`.
 */
export function parseSpec<K extends KindName>(kind: K, raw: unknown): ParsedSpec<K> {
  const result = kinds[kind].spec.safeParse(raw ?? {});
  if (result.success) return { ok: true, spec: result.data as SpecOf<K> };
  const issues = result.error.issues;
  const shown = issues.slice(0, MAX_ISSUES).map((issue) => `${fieldPath(issue.path)}: ${issue.message}`);
  if (issues.length > MAX_ISSUES) shown.push(`and ${issues.length - MAX_ISSUES} more`);
  return { ok: false, message: shown.join('; ') };
}

function fieldPath(path: readonly PropertyKey[]): string {
  return `spec${path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}`;
}
