// Kubernetes quantities as numbers (resource.Quantity's AsApproximateFloat64): Go Drop types
// weights as quantities, so "700m" is 0.7 and "1Ki" is 1024.

const SUFFIX: Readonly<Record<string, number>> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY_RE =
  /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:([eE][+-]?(?:\d+(?:\.\d*)?|\.\d+))|([KMGTPE]i|[numkMGTPE]))?$/;

/** The number a quantity stands for, or undefined when it is not one. */
export function quantityValue(quantity: number | string): number | undefined {
  if (typeof quantity === 'number') return Number.isFinite(quantity) ? quantity : undefined;
  const match = QUANTITY_RE.exec(quantity.trim());
  if (!match) return undefined;
  const [, number = '', exponent, suffix = ''] = match;
  // Divide by the inverse of small suffixes, so that "700m" is exactly the double 0.7.
  const scale = SUFFIX[suffix] ?? 1;
  const value = exponent
    ? Number(`${number}${exponent}`)
    : scale < 1
      ? Number(number) / (1 / scale)
      : Number(number) * scale;
  return Number.isFinite(value) ? value : undefined;
}
