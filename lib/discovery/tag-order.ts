/**
 * Which tags of a repository are the newest. Registries list tags in an order of their own
 * (distribution 2.8's filesystem driver: directory order; 3.x and Docker Hub: lexical), so
 * lexical order would put v1.10 before v1.9. Version-like tags are therefore ordered by version;
 * only the others keep the registry's order.
 */

/** A tag read as a version: `v1.10`, `1.22`, `3.19.1-alpine`, `2024.01.05`. */
export interface Version {
  /** One to three numeric parts, as written (missing parts count as 0). */
  readonly numbers: readonly string[];
  /** The dot-separated parts after the first `-`; empty for a release. */
  readonly prerelease: readonly string[];
}

// SemVer 2.0.0 without build metadata (a tag cannot hold `+`), relaxed the way image tags are
// written: an optional `v`, one to three numeric parts, leading zeros allowed.
const VERSION_RE = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

/** The version a tag spells, or undefined when it is not version-like (`latest`, `main`, `sha-1f2e`). */
export function parseVersion(tag: string): Version | undefined {
  const match = VERSION_RE.exec(tag);
  if (!match) return undefined;
  const numbers = [match[1], match[2], match[3]].filter((n): n is string => n !== undefined);
  return { numbers, prerelease: match[4] ? match[4].split('.') : [] };
}

const DIGITS_RE = /^\d+$/;

// Numeric text compared as numbers of any length: no overflow for long build numbers.
function compareNumeric(a: string, b: string): number {
  const x = a.replace(/^0+(?=\d)/, '');
  const y = b.replace(/^0+(?=\d)/, '');
  if (x.length !== y.length) return x.length - y.length;
  return x < y ? -1 : x > y ? 1 : 0;
}

// SemVer §11: numeric identifiers numerically and below alphanumeric ones, which compare in ASCII order.
function compareIdentifier(a: string, b: string): number {
  const aNumeric = DIGITS_RE.test(a);
  const bNumeric = DIGITS_RE.test(b);
  if (aNumeric && bNumeric) return compareNumeric(a, b);
  if (aNumeric !== bNumeric) return aNumeric ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** SemVer precedence: numbers first; a pre-release (`-rc.1`, `-alpine`) comes before its release. */
export function compareVersions(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) {
    const order = compareNumeric(a.numbers[i] ?? '0', b.numbers[i] ?? '0');
    if (order !== 0) return order;
  }
  if (a.prerelease.length === 0 || b.prerelease.length === 0) {
    return b.prerelease.length - a.prerelease.length;
  }
  const length = Math.min(a.prerelease.length, b.prerelease.length);
  for (let i = 0; i < length; i++) {
    const order = compareIdentifier(a.prerelease[i] ?? '', b.prerelease[i] ?? '');
    if (order !== 0) return order;
  }
  return a.prerelease.length - b.prerelease.length;
}

/** How a tag's version is read: the tag itself (strict), or a part of it. */
export type VersionOf = (tag: string) => Version | undefined;

// A MAJOR.MINOR.PATCH inside a longer tag (x86_64-v17.10.0), not part of a longer dotted number.
const EMBEDDED_RE = /(?<![\d.])(\d+)\.(\d+)\.(\d+)(?!\.?\d)/;

/**
 * Go Drop's reading of registry tags: the tag as a version, else a MAJOR.MINOR.PATCH embedded in
 * it (`x86_64-v17.10.0` → 17.10.0); with versionPattern, only its first capture group.
 */
export function versionReader(versionPattern?: RegExp): VersionOf {
  if (versionPattern)
    return (tag) => {
      const group = versionPattern.exec(tag)?.[1];
      return group === undefined ? undefined : (parseVersion(group) ?? embeddedVersion(group));
    };
  return (tag) => parseVersion(tag) ?? embeddedVersion(tag);
}

function embeddedVersion(text: string): Version | undefined {
  const match = EMBEDDED_RE.exec(text);
  return match ? { numbers: [match[1] ?? '0', match[2] ?? '0', match[3] ?? '0'], prerelease: [] } : undefined;
}

/**
 * The tags oldest first: tags that are not version-like in the registry's order, then
 * version-like tags by version. Equal versions (`1.2`, `v1.2.0`) keep the registry's order.
 */
export function oldestFirst(tags: readonly string[], versionOf: VersionOf = parseVersion): readonly string[] {
  const others: string[] = [];
  const versions: { tag: string; version: Version; position: number }[] = [];
  tags.forEach((tag, position) => {
    const version = versionOf(tag);
    if (version) versions.push({ tag, version, position });
    else others.push(tag);
  });
  versions.sort((a, b) => compareVersions(a.version, b.version) || a.position - b.position);
  return [...others, ...versions.map((v) => v.tag)];
}

/** The tags to keep, newest first: those matching `tagFilter`, then the last `topX` of oldestFirst. */
export function newestTags(
  tags: readonly string[],
  options: { readonly tagFilter?: RegExp; readonly topX?: number; readonly versionOf?: VersionOf },
): readonly string[] {
  const unique = [...new Set(tags)];
  const matching = options.tagFilter ? unique.filter((t) => options.tagFilter?.test(t)) : unique;
  const ordered = [...oldestFirst(matching, options.versionOf)].reverse();
  return options.topX === undefined ? ordered : ordered.slice(0, options.topX);
}
