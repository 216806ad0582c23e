/**
 * Minutes since local midnight of an instant in an IANA zone. Intl is slow per call (a week of
 * one-minute samples for 50 images is 500,000 calls), so the zone's offset is looked up once per
 * quarter hour: every zone's offset is a multiple of 15 minutes and changes only at such instants.
 */
export function localMinutes(zone: string): (unixSeconds: number) => number {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
  });
  const offsets = new Map<number, number>();
  const offsetMinutes = (bucket: number): number => {
    const known = offsets.get(bucket);
    if (known !== undefined) return known;
    const at = bucket * 900_000;
    const parts = Object.fromEntries(format.formatToParts(new Date(at)).map((p) => [p.type, p.value]));
    const local = Date.UTC(
      Number(parts.year),
      Number(parts.month) - 1,
      Number(parts.day),
      Number(parts.hour),
      Number(parts.minute),
    );
    const offset = Math.round((local - at) / 60_000);
    offsets.set(bucket, offset);
    return offset;
  };
  return (unixSeconds) => {
    const offset = offsetMinutes(Math.floor(unixSeconds / 900));
    const minutes = Math.floor(unixSeconds / 60) + offset;
    return ((minutes % 1440) + 1440) % 1440;
  };
}
