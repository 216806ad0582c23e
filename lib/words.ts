/** `1 image`, `2 images`, `0 images`: a count and its noun, as a person writes them. */
export function counted(count: number, singular: string, plural = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : plural}`;
}

/** `1/1 image`, `2/3 nodes`: a fraction whose noun agrees with its whole. */
export function fraction(part: number, whole: number, singular: string, plural = `${singular}s`): string {
  return `${part}/${whole} ${whole === 1 ? singular : plural}`;
}
