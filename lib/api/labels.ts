import { z } from 'zod';

// Label keys and values as Kubernetes validates them (apimachinery validation.IsQualifiedName and
// IsValidLabelValue): a key is an optional DNS-subdomain prefix (at most 253 characters) and `/`,
// then a name of at most 63 characters; a value is empty or such a name. The CRDs check them with
// CEL rules whose messages name the bad key, so `kubectl apply` says which one and why instead of
// quoting a regex; zod says the same for the spec parser.

const NAME = '([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]';
const PREFIX = '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';
export const LABEL_KEY_PATTERN = `^(${PREFIX}/)?${NAME}$`;
export const LABEL_VALUE_PATTERN = `^(${NAME})?$`;
const MAX_PREFIX = 253;

const KEY_RE = new RegExp(LABEL_KEY_PATTERN);
const VALUE_RE = new RegExp(LABEL_VALUE_PATTERN);

export const LABEL_KEY_RULE_TEXT =
  'a label key is an optional DNS subdomain prefix and "/" (e.g. node-role.kubernetes.io/), then a name of 1-63 letters, digits, "-", "_" or "." that starts and ends with a letter or digit';
export const LABEL_VALUE_RULE_TEXT =
  'a label value is empty or 1-63 letters, digits, "-", "_" or "." that starts and ends with a letter or digit';

/** Why `key` is not a label key, or undefined when it is one. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  if (slash > MAX_PREFIX) return `the prefix of label key "${key}" is longer than ${MAX_PREFIX} characters`;
  return KEY_RE.test(key) ? undefined : `"${key}" is not a valid label key: ${LABEL_KEY_RULE_TEXT}`;
}

/** Why `value` is not a label value, or undefined when it is one. */
export function labelValueProblem(value: string): string | undefined {
  return VALUE_RE.test(value) ? undefined : `"${value}" is not a valid label value: ${LABEL_VALUE_RULE_TEXT}`;
}

// CEL: RE2 as `matches` reads it, in raw strings so the backslashes stay as written.
const celKeyOk = (k: string) =>
  `(${k}.matches(r'${LABEL_KEY_PATTERN}') && (!${k}.contains('/') || ${k}.indexOf('/') <= ${MAX_PREFIX}))`;
const celValueOk = (v: string) => `${v}.matches(r'${LABEL_VALUE_PATTERN}')`;

/**
 * A label key, e.g. a toleration's key: checked by zod and, in the CRD, by a CEL rule on the string.
 * `allowEmpty`: '' is allowed too (a toleration without a key tolerates every taint).
 */
export const labelKeySchema = (description: string, options: { readonly allowEmpty?: boolean } = {}) =>
  z
    .string()
    .max(317)
    .superRefine((key, ctx) => {
      if (options.allowEmpty && key === '') return;
      const problem = labelKeyProblem(key);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .meta({
      description,
      'x-kubernetes-validations': [
        {
          rule: options.allowEmpty ? `self == '' || ${celKeyOk('self')}` : celKeyOk('self'),
          messageExpression: `'"' + self + '" is not a valid label key: ${LABEL_KEY_RULE_TEXT.replaceAll("'", "\\'")}'`,
        },
      ],
    });

/** The most labels a selector map may hold: bounds the cost of its CEL rules. */
export const MAX_LABELS = 64;

/** A map of label keys to values (a nodeSelector): every key and value checked, the bad one named. */
export const labelMapSchema = (description: string, extra: Readonly<Record<string, unknown>> = {}) =>
  z
    .record(z.string().max(317), z.string().max(63))
    .superRefine((labels, ctx) => {
      for (const [key, value] of Object.entries(labels)) {
        const problem = labelKeyProblem(key) ?? labelValueProblem(value);
        if (problem) ctx.addIssue({ code: 'custom', message: problem, path: [key] });
      }
      if (Object.keys(labels).length > MAX_LABELS)
        ctx.addIssue({ code: 'custom', message: `at most ${MAX_LABELS} labels` });
    })
    .meta({
      description,
      ...extra,
      maxProperties: MAX_LABELS,
      'x-kubernetes-validations': [
        {
          rule: `self.all(k, ${celKeyOk('k')})`,
          messageExpression: `'"' + self.filter(k, !${celKeyOk('k')})[0] + '" is not a valid label key: ${LABEL_KEY_RULE_TEXT.replaceAll("'", "\\'")}'`,
        },
        {
          rule: `self.all(k, ${celValueOk('self[k]')})`,
          messageExpression: `'the value "' + self[self.filter(k, !${celValueOk('self[k]')})[0]] + '" of label "' + self.filter(k, !${celValueOk('self[k]')})[0] + '" is not a valid label value: ${LABEL_VALUE_RULE_TEXT.replaceAll("'", "\\'")}'`,
        },
      ],
    });
