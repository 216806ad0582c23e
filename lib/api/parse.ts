import type { z } from 'zod';
import { kinds } from './kinds.ts';

type SpecOf<K extends keyof typeof kinds> = z.output<(typeof kinds)[K]['spec']>;

export type ParsedSpec<K extends keyof typeof kinds> =
  | { readonly ok: true; readonly spec: SpecOf<K> }
  | { readonly ok: false; readonly message: string };

/**
 * Validates a spec read from the API and applies defaults. The CRD schema already rejects most bad
 * input at apply time; what remains becomes a message for the object's status.
 */
export function parseSpec<K extends keyof typeof kinds>(kind: K, raw: unknown): ParsedSpec<K> {
  const result = kinds[kind].spec.safeParse(raw ?? {});
  if (result.success) return { ok: true, spec: result.data as SpecOf<K> };
  const message = result.error.issues
    .slice(0, 3)
    .map(
      (issue) =>
        `spec${issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${issue.message}`,
    )
    .join('; ');
  return { ok: false, message };
}
