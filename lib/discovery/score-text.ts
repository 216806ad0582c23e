/**
 * A score as Go Drop writes finalScore (strconv.FormatFloat(x, 'f', -1, 64)): the shortest digits
 * that read back as the same double, never in exponent form: 0.7, 30, 0.0000001.
 */
export function finalScoreText(score: number): string {
  if (!Number.isFinite(score)) return '0';
  const text = String(score);
  const match = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!match) return text;
  const [, sign = '', whole = '', fraction = '', exponentText = '0'] = match;
  const digits = whole + fraction;
  const point = whole.length + Number(exponentText);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** A number for a person: at most four significant digits, no exponent for everyday sizes. */
export function shortNumber(value: number): string {
  if (value === 0 || !Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1e6 || abs < 1e-4) return value.toExponential(3).replace(/\.?0+e/, 'e');
  return String(Number(value.toPrecision(4)));
}
