/**
 * The `rel="next"` target of an RFC 8288 Link header, resolved against the request URL, as the
 * distribution spec paginates tag lists: `</v2/team/app/tags/list?last=v1.9&n=100>; rel="next"`.
 */
export function nextLink(header: string | undefined, requestUrl: string): URL | undefined {
  if (!header) return undefined;
  for (const match of header.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]+)*)/g)) {
    const [, target = '', params = ''] = match;
    const rels = /;\s*rel\s*=\s*"?([^";,]+)"?/i.exec(params)?.[1] ?? '';
    if (rels.toLowerCase().split(/\s+/).includes('next')) {
      try {
        return new URL(target, requestUrl);
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
