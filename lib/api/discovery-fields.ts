import { z } from 'zod';
import { patternString } from './patterns.ts';

// Fields the two forms of a DiscoveryPolicy share: URLs, regular expressions, Kubernetes quantities
// and the "set the field named by type" rule.

const HTTP_URL = '^https?://[^\\s/?#]+[^\\s]*$';

export const httpUrl = (description: string) =>
  patternString({
    pattern: HTTP_URL,
    maxLength: 2048,
    problem: 'is not an http:// or https:// URL with a host, e.g. https://prometheus.example:9090',
    description,
  });

// Discovery runs the filters in JavaScript, so a pattern JavaScript cannot compile is an error
// the user must see in status; the CRD cannot check it (CEL has no regex-validity test).
export const regexSchema = (description: string) =>
  z.string().refine(isRegex, { message: 'is not a valid regular expression' }).meta({ description });

export function isRegex(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

/** resource.Quantity's grammar (k8s.io/apimachinery), as controller-gen writes it into CRDs. */
export const QUANTITY_PATTERN =
  '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';

/**
 * A Kubernetes quantity, as Go Drop types weights: `"0.7"`, `"700m"`, `2`. The CRD node is
 * int-or-string with the quantity pattern (lib/api/crd.ts writes it without anyOf).
 */
export const quantitySchema = (description: string) =>
  z
    .union([
      z.number(),
      z.string().regex(new RegExp(QUANTITY_PATTERN), 'must be a number or a quantity such as 0.7 or 700m'),
    ])
    .meta({ description, 'x-kubernetes-int-or-string': true, pattern: QUANTITY_PATTERN });

/** The CEL rule and message of "type X needs the field X". */
export function typeNeedsField(type: string): { readonly rule: string; readonly message: string } {
  return {
    rule: `self.type != '${type}' || has(self.${type})`,
    message: `type ${type} needs the ${type} field`,
  };
}

/** The CEL rule and message of "only the field of its type": none of the other types' fields. */
export function onlyFieldOfType(types: readonly string[]): {
  readonly rule: string;
  readonly message: string;
} {
  const clauses = types.map((t) => `(self.type == '${t}' || !has(self.${t}))`);
  return { rule: clauses.join(' && '), message: `set only the field named by type (${types.join(', ')})` };
}

/** The zod side of typeNeedsField and onlyFieldOfType, with the same messages. */
export function checkTypeFields(
  value: Readonly<Record<string, unknown>> & { readonly type: string },
  types: readonly string[],
  optional: readonly string[],
  ctx: z.RefinementCtx,
): void {
  if (!optional.includes(value.type) && value[value.type] === undefined)
    ctx.addIssue({ code: 'custom', message: typeNeedsField(value.type).message, path: [value.type] });
  for (const other of types)
    if (other !== value.type && value[other] !== undefined)
      ctx.addIssue({ code: 'custom', message: onlyFieldOfType(types).message, path: [other] });
}
