import { describe, expect, it } from 'vitest';
import { labelKeyProblem, labelValueProblem } from './labels.ts';

describe('label keys and values, as Kubernetes validates them', () => {
  it.each([
    'app',
    'node-role.kubernetes.io/build',
    'drop.test/pool',
    'a',
    'A_b.c-D',
    `${'a'.repeat(253)}/${'b'.repeat(63)}`,
  ])('accepts the key %s', (key) => {
    expect(labelKeyProblem(key)).toBeUndefined();
  });

  it.each([
    ['', /"" is not a valid label key/],
    ['bad key', /"bad key" is not a valid label key: a label key is an optional DNS subdomain prefix/],
    ['-leading', /is not a valid label key/],
    ['trailing.', /is not a valid label key/],
    ['Upper.Case/name', /is not a valid label key/],
    ['a/b/c', /is not a valid label key/],
    ['/name', /is not a valid label key/],
    [`${'b'.repeat(64)}`, /is not a valid label key/],
    [`${'a'.repeat(254)}/b`, /prefix of label key .* is longer than 253 characters/],
  ])('rejects the key %j in words', (key, message) => {
    expect(labelKeyProblem(key)).toMatch(message);
  });

  it.each(['', 'true', 'v1.2_3-x', 'a'.repeat(63)])('accepts the value %j', (value) => {
    expect(labelValueProblem(value)).toBeUndefined();
  });

  it.each(['no spaces', '-x', 'x-', 'a'.repeat(64), 'a/b'])('rejects the value %j in words', (value) => {
    expect(labelValueProblem(value)).toMatch(/is not a valid label value: a label value is empty or 1-63/);
  });
});
