import { z } from 'zod';

/** A CEL single-quoted string literal of `text`. */
export function celString(text: string): string {
  return `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/**
 * A string that must match `pattern`: zod checks it for the spec parser, and the CRD with a CEL rule
 * rather than a `pattern`, so that `kubectl apply` names the value and says in words what it should
 * be (`"5 minutes" is not a Go duration: …`) instead of quoting the regex. `maxLength` bounds what
 * the API server estimates the rule to cost.
 */
export function patternString(options: {
  readonly pattern: string;
  readonly maxLength: number;
  /** What the value is not, after its quoted value: `is not a Go duration: …`. */
  readonly problem: string;
  readonly description: string;
}) {
  const re = new RegExp(options.pattern);
  return z
    .string()
    .max(options.maxLength)
    .superRefine((text, ctx) => {
      if (!re.test(text)) ctx.addIssue({ code: 'custom', message: `"${text}" ${options.problem}` });
    })
    .meta({
      description: options.description,
      'x-kubernetes-validations': [
        {
          rule: `self.matches(r'${options.pattern}')`,
          messageExpression: `'"' + self + '" ' + ${celString(options.problem)}`,
        },
      ],
    });
}
